// A validated state dict: official key → tensor. Built only after the shapes were checked against a
// GeneratorArchitecture, so lookups inside the networks cannot fail.
import Foundation
import Tensors

public struct Weights: Sendable {
    public let file: String
    public let tensors: [String: Tensor]

    public init(file: String, tensors: [String: Tensor]) {
        self.file = file
        self.tensors = tensors
    }

    /// Reads every tensor of a safetensors file.
    public init(safetensors url: URL) throws {
        let f = try SafeTensorsFile(url: url)
        self.init(file: url.path, tensors: try f.all())
    }

    public var shapes: [String: [Int]] { tensors.mapValues(\.shape) }

    /// The tensor under `name`; the architecture check guarantees presence and shape.
    public subscript(_ name: String) -> Tensor {
        guard let t = tensors[name] else { preconditionFailure("\(file): '\(name)' vanished after validation") }
        return t
    }

    /// Throws ModelError.weights listing every missing, unexpected or mis-shaped tensor.
    public func validate(against arch: GeneratorArchitecture) throws {
        let problems = arch.check(shapes: shapes)
        if !problems.isEmpty { throw ModelError.weights(file: file, problems: problems) }
    }

    /// Random weights with the reference initialisation's scale (unit Gaussians, affine biases 1,
    /// zero noise strengths), for benchmarks of the full architecture without a checkpoint.
    public static func random(_ arch: GeneratorArchitecture, seed: UInt64 = 1) -> Weights {
        var rng = SplitMix64(seed: seed)
        var out: [String: Tensor] = [:]
        let filter1: [Float] = [1, 3, 3, 1]
        for (name, shape) in arch.expectedShapes() {
            let n = shape.reduce(1, *)
            var data = [Float](repeating: 0, count: n)
            if name.hasSuffix("resample_filter") {
                for i in 0..<4 { for j in 0..<4 { data[i * 4 + j] = filter1[i] * filter1[j] / 64 } }
            } else if name.hasSuffix("affine.bias") {
                data = [Float](repeating: 1, count: n)
            } else if name.hasSuffix(".bias") || name.hasSuffix("noise_strength") || name.hasSuffix("w_avg") {
                // zeros, as initialised
            } else if name.hasPrefix("backbone.mapping.fc") {
                for i in 0..<n { data[i] = rng.gaussian() / 0.01 }
            } else {
                for i in 0..<n { data[i] = rng.gaussian() }
            }
            out[name] = Tensor(shape: shape, data: data)
        }
        return Weights(file: "<random \(arch.imageResolution)px weights>", tensors: out)
    }
}

/// Small deterministic generator for random weights and latent codes (z from a seed); also a
/// `RandomNumberGenerator`, for `Int.random(in:using:)` and the like where tests need replayable choices.
public struct SplitMix64: Sendable, RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Standard normal sample (Box–Muller).
    public mutating func gaussian() -> Float {
        let u1 = (Double(next() >> 11) + 0.5) / Double(1 << 53)
        let u2 = Double(next() >> 11) / Double(1 << 53)
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }
}
