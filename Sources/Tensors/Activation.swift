// Bias + activation + gain + clamp with the semantics of StyleGAN2's bias_act (reference path):
// x = act(x + b) · gain, then clamp to [−clamp, clamp] when a clamp is given. Plus softplus/sigmoid.
import Foundation

public enum Activation: Sendable, Equatable {
    case linear
    /// Leaky ReLU with negative slope (0.2 in StyleGAN2).
    case leakyReLU(Float)

    /// StyleGAN2's default gain: 1 for linear, √2 for leaky ReLU.
    public var defaultGain: Float {
        switch self {
        case .linear: return 1
        case .leakyReLU: return Float(2).squareRoot()
        }
    }

    /// In place on planar data [channels, count]; `bias` has one value per channel.
    public func apply(
        _ x: UnsafeMutablePointer<Float>, channels: Int, count: Int,
        bias: UnsafePointer<Float>?, gain: Float, clamp: Float?
    ) {
        let slope: Float
        switch self {
        case .linear: slope = 1
        case let .leakyReLU(a): slope = a
        }
        let lim = clamp ?? .infinity
        Parallel.forChunks(channels) { s, e in
            for c in s..<e {
                let b = bias?[c] ?? 0
                let p = x + c * count
                for i in 0..<count {
                    var v = p[i] + b
                    v = v < 0 ? v * slope : v
                    v *= gain
                    p[i] = Swift.min(Swift.max(v, -lim), lim)
                }
            }
        }
    }
}

public enum Pointwise {
    /// torch.nn.functional.softplus with beta 1, threshold 20.
    @inline(__always)
    public static func softplus(_ x: Float) -> Float {
        x > 20 ? x : log1pf(expf(x))
    }

    @inline(__always)
    public static func sigmoid(_ x: Float) -> Float {
        1 / (1 + expf(-x))
    }
}
