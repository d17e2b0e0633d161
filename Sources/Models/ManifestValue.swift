// Reading the numbers of a model.json with their ranges. Every hyper-parameter a manifest sets is
// checked where it is decoded, so that a value the networks cannot use (a negative ray bound, two
// samples a ray, a fractional resolution) is refused with the file and the key, not met later as a
// crash in an unchecked loop or a silently wrong picture.

/// A value in a model.json that the model cannot use; `key` is its dotted path
/// (`architecture.rendering.ray_end`).
struct ManifestValueError: Error, Equatable {
    let key: String
    let problem: String

    var reason: String { "\(key) \(problem)" }
}

extension KeyedDecodingContainer {
    /// The dotted path of `key` inside the manifest.
    func path(_ key: Key) -> String { (codingPath + [key]).map(\.stringValue).joined(separator: ".") }

    /// A number at `key` within `range`, or `fallback` when the key is absent. Read as Double so that any
    /// JSON number reaches the range check (a Float or Int decode of 1e39 or 2.5 fails without a path).
    func number(_ key: Key, in range: ClosedRange<Double>, or fallback: Double) throws -> Double {
        guard let v = try decodeIfPresent(Double.self, forKey: key) else { return fallback }
        guard range.contains(v) else {
            throw ManifestValueError(key: path(key), problem: "is \(v.manifestText); it must be between \(range.lowerBound.manifestText) and \(range.upperBound.manifestText)")
        }
        return v
    }

    /// A whole number at `key` within `range`, or `fallback` when the key is absent.
    func count(_ key: Key, in range: ClosedRange<Int>, or fallback: Int?) throws -> Int? {
        guard let v = try decodeIfPresent(Double.self, forKey: key) else { return fallback }
        guard v.rounded() == v else {
            throw ManifestValueError(key: path(key), problem: "is \(v.manifestText); it must be a whole number")
        }
        guard v >= Double(range.lowerBound), v <= Double(range.upperBound) else {
            throw ManifestValueError(key: path(key), problem: "is \(v.manifestText); it must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return Int(v)
    }

    /// A string at `key` that is one of `choices`, or `fallback` when the key is absent.
    func choice(_ key: Key, of choices: [String], or fallback: String) throws -> String {
        guard let v = try decodeIfPresent(String.self, forKey: key) else { return fallback }
        guard choices.contains(v) else {
            throw ManifestValueError(key: path(key), problem: "is \"\(v)\"; it must be \(choices.map { "\"\($0)\"" }.joined(separator: " or "))")
        }
        return v
    }
}

extension Double {
    /// Whole numbers without ".0", others as Swift prints them.
    var manifestText: String {
        rounded() == self && abs(self) < 1e15 ? String(Int(self)) : "\(self)"
    }
}
