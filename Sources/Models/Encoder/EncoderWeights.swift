// A checked e4e state dict (official omertov/encoder4editing key names) and how it is read: from a
// bundle folder (model.json + weights.safetensors, as `avatarize models import` writes it) or a bare
// .safetensors file. Loading is strict: after the prefix renames below, every missing, unexpected or
// mis-shaped tensor is reported in one error, with expected and found shapes.
import Foundation
import Tensors

public struct EncoderWeights: Sendable {
    /// Key-prefix renames, applied in order, first match only: a pSp / e4e / PREIM3D checkpoint stores
    /// the encoder under `encoder.`; DataParallel training adds `module.`.
    public static let keyRenames: [(from: String, to: String)] = [
        ("module.encoder.", ""),
        ("encoder.", ""),
        // TriPlaneNet's W+ encoder.
        ("psp_encoder.", ""),
        ("module.", ""),
    ]

    public let file: String
    public let architecture: EncoderArchitecture
    /// Where the tensors are: in memory, or (read from a file) still in the file, read one at a time as
    /// the encoder is built, so the weights are not held twice while it converts them.
    private enum Store {
        case memory([String: Tensor])
        case file(SafeTensorsFile, sources: [String: String])
    }
    private let store: Store

    /// Official key → tensor; shapes match `architecture.expectedShapes()` exactly. (Reads every tensor
    /// of a file-backed set.)
    public var tensors: [String: Tensor] {
        switch store {
        case .memory(let t): return t
        case let .file(_, sources): return Dictionary(uniqueKeysWithValues: sources.keys.map { ($0, self[$0]) })
        }
    }

    /// Applies the renames, reads the layout off the shapes and checks every tensor against it. `head`
    /// says which network FPN-and-style-block weights belong to (e4e's or pSp's GradualStyleEncoder, which
    /// have the same tensors); nil keeps what the shapes say.
    public init(file: String, tensors raw: [String: Tensor], head: EncoderHead? = nil) throws {
        let renamed = try Self.renamed(raw.mapValues(\.shape), file: file)
        var arch = try EncoderArchitecture.infer(from: renamed.shapes, file: file)
        try Self.apply(head, to: &arch, file: file)
        let problems = arch.check(shapes: renamed.shapes)
        if !problems.isEmpty { throw EncoderLoadError.weights(file: file, problems: problems) }
        var t: [String: Tensor] = [:]
        for (official, source) in renamed.sources { t[official] = raw[source]! }
        self.file = file
        self.architecture = arch
        store = .memory(t)
    }

    /// FPN-and-style-block weights run as e4e's network unless the bundle says they are pSp's.
    static func apply(_ head: EncoderHead?, to arch: inout EncoderArchitecture, file: String) throws {
        guard let head, head != arch.head else { return }
        guard head == .gradualStyle, arch.head == .styleBlocks else {
            throw EncoderLoadError.badManifest(file: file, reason: "architecture '\(head.rawValue)', but the weights are a \(arch.head.rawValue)")
        }
        arch.head = head
    }

    private init(file: String, architecture: EncoderArchitecture, store: Store) {
        self.file = file
        self.architecture = architecture
        self.store = store
    }

    /// Official name for a checkpoint key.
    public static func officialName(_ key: String) -> String {
        for r in keyRenames where key.hasPrefix(r.from) { return r.to + key.dropFirst(r.from.count) }
        return key
    }

    /// Shapes under official names, and which checkpoint key each came from.
    public static func renamed(_ shapes: [String: [Int]], file: String) throws -> (shapes: [String: [Int]], sources: [String: String]) {
        var out: [String: [Int]] = [:], sources: [String: String] = [:]
        for key in shapes.keys.sorted() {
            let name = officialName(key)
            if let other = sources[name] {
                throw EncoderLoadError.duplicateKey(file: file, name: name, sources: [other, key])
            }
            out[name] = shapes[key]
            sources[name] = key
        }
        return (out, sources)
    }

    /// Reads a bundle folder (model.json + weights.safetensors) or a .safetensors file. The layout is
    /// checked from the header's shapes before any tensor data is read.
    public static func load(from url: URL) throws -> EncoderWeights {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw EncoderLoadError.notAnEncoderBundle(path: url.path)
        }
        let weightsURL: URL
        var manifest: EncoderManifest?
        if isDir.boolValue {
            let m = url.appendingPathComponent("model.json")
            weightsURL = url.appendingPathComponent("weights.safetensors")
            guard FileManager.default.fileExists(atPath: m.path), FileManager.default.fileExists(atPath: weightsURL.path) else {
                throw EncoderLoadError.notAnEncoderBundle(path: url.path)
            }
            manifest = try EncoderManifest.read(m)
            if manifest?.isGOAE == true {
                throw EncoderLoadError.badManifest(file: m.path, reason: "a GOAE encoder (Swin-V2) bundle, not an IR-SE50 encoder's; GOAEncoder reads it")
            }
        } else {
            guard url.pathExtension == "safetensors" else { throw EncoderLoadError.notAnEncoderBundle(path: url.path) }
            weightsURL = url
        }
        let f = try SafeTensorsFile(url: weightsURL)
        let shapes = f.entries.mapValues(\.shape)
        let renamed = try renamed(shapes, file: weightsURL.path)
        var arch = try EncoderArchitecture.infer(from: renamed.shapes, file: weightsURL.path)
        let problems = arch.check(shapes: renamed.shapes)
        if !problems.isEmpty { throw EncoderLoadError.weights(file: weightsURL.path, problems: problems) }
        try apply(manifest.flatMap { EncoderHead(rawValue: $0.architecture) }, to: &arch, file: manifest?.file ?? weightsURL.path)
        try manifest?.verify(against: arch)
        return EncoderWeights(file: weightsURL.path, architecture: arch, store: .file(f, sources: renamed.sources))
    }

    /// The tensor under an official name; validation guarantees presence and shape.
    public subscript(_ name: String) -> Tensor {
        switch store {
        case .memory(let t):
            guard let t = t[name] else { preconditionFailure("\(file): '\(name)' vanished after validation") }
            return t
        case let .file(f, sources):
            // Validation checked every name and shape against the file's header, so the read cannot miss.
            guard let source = sources[name], let t = try? f.tensor(source) else {
                preconditionFailure("\(file): '\(name)' vanished after validation")
            }
            return t
        }
    }

    /// Random weights with PyTorch's default initialisation scale (convs U(±1/√fan_in), BatchNorm with
    /// unit statistics, PReLU 0.25, EqualLinear unit variance, zero latent average), for benchmarks of
    /// the full architecture without a checkpoint.
    public static func random(_ arch: EncoderArchitecture, seed: UInt64 = 1) -> EncoderWeights {
        var rng = SplitMix64(seed: seed)
        func uniform(_ n: Int, _ bound: Float) -> [Float] {
            (0..<n).map { _ in (Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1) * bound }
        }
        var out: [String: Tensor] = [:]
        let expected = arch.expectedShapes()
        for (name, shape) in expected.sorted(by: { $0.key < $1.key }) {
            let n = shape.reduce(1, *)
            let data: [Float]
            if name.hasSuffix("running_var") || (shape.count == 1 && name.hasSuffix(".weight") && !name.hasSuffix("2.weight")) {
                data = [Float](repeating: 1, count: n)  // BatchNorm weight and running variance
            } else if shape.count == 1 && name.hasSuffix("2.weight") {
                data = [Float](repeating: 0.25, count: n)  // PReLU slopes (input_layer.2, res_layer.2)
            } else if name.hasSuffix("running_mean") || name == "latent_avg" || (name.hasSuffix(".bias") && !name.contains("convs") && !name.hasPrefix("latlayer")) {
                data = [Float](repeating: 0, count: n)
            } else if name.hasSuffix("linear.weight") {
                data = uniform(n, Float(3).squareRoot())  // unit variance, like randn
            } else {
                // Conv weights and conv biases: U(±1/√fan_in), fan_in = in·k·k of the conv.
                let weightShape = shape.count == 4 ? shape : expected[String(name.dropLast(".bias".count)) + ".weight"] ?? [1, 1]
                let fanIn = weightShape.dropFirst().reduce(1, *)
                data = uniform(n, 1 / Float(fanIn).squareRoot())
            }
            out[name] = Tensor(shape: shape, data: data)
        }
        return EncoderWeights(file: "<random e4e weights>", architecture: arch, store: .memory(out))
    }
}
