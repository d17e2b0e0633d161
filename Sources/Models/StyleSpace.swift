// The S space: every affine's style vector s = A(w), by the affine's official layer name
// ("backbone.synthesis.b16.conv0", "superresolution.block1.torgb", …), in the order the network
// consumes them. Edits read and offset these vectors, then render from them.

public struct StyleSpace: Sendable, Equatable {
    public private(set) var names: [String]
    public var values: [[Float]]

    public init(names: [String], values: [[Float]]) {
        precondition(names.count == values.count)
        self.names = names
        self.values = values
    }

    /// Total number of style channels (8,704 + 1,056 for ffhq512-128).
    public var dimension: Int { values.reduce(0) { $0 + $1.count } }

    public func index(of name: String) -> Int? { names.firstIndex(of: name) }

    public subscript(name: String) -> [Float]? {
        get { index(of: name).map { values[$0] } }
        set {
            guard let i = index(of: name), let newValue else { return }
            precondition(newValue.count == values[i].count, "StyleSpace: \(name) has \(values[i].count) channels")
            values[i] = newValue
        }
    }

    /// s[name] += scale · delta (a Δs offset or a single-channel StyleSpace edit).
    public mutating func offset(_ name: String, by delta: [Float], scale: Float = 1) {
        guard let i = index(of: name) else { return }
        precondition(delta.count == values[i].count, "StyleSpace: \(name) has \(values[i].count) channels")
        for j in 0..<delta.count { values[i][j] += scale * delta[j] }
    }
}
