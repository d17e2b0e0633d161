// Bias + activation + gain + clamp with the semantics of StyleGAN2's bias_act (reference path):
// x = act(x + b) · gain, then clamp to [−clamp, clamp] when a clamp is given. Plus softplus/sigmoid.
import CKernels
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

    /// In place on planar data [channels, count]; `bias` has one value per channel; `noise` [count], when
    /// given, is added to every channel first (a synthesis layer's noise), in the same pass.
    public func apply(
        _ x: UnsafeMutablePointer<Float>, channels: Int, count: Int,
        bias: UnsafePointer<Float>?, gain: Float, clamp: Float?, noise: UnsafePointer<Float>? = nil
    ) {
        let slope: Float
        switch self {
        case .linear: slope = 1
        case let .leakyReLU(a): slope = a
        }
        let lim = clamp ?? .infinity
        Parallel.forChunks(channels) { s, e in
            avz_bias_act(x + s * count, e - s, count, bias.map { $0 + s }, noise, slope, gain, lim)
        }
    }
}

public enum Pointwise {
    /// torch.nn.functional.softplus with beta 1, threshold 20.
    @inlinable @inline(__always)
    public static func softplus(_ x: Float) -> Float {
        x > 20 ? x : Swift.max(x, 0) + log1pUnit(exp(-abs(x)))
    }

    /// e^x in float32 (Cephes-style: range reduction by ln 2, degree-6 polynomial; ~1 ulp), written so
    /// loops over it vectorise. Inputs below −87.3 return ~1e−38 instead of 0.
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let xc = Swift.min(Swift.max(x, -87.3), 88.7)
        // Round to nearest by adding and removing 1.5·2²³ (pure arithmetic, so loops vectorise).
        let k = (xc * 1.442_695_04 + 12_582_912) - 12_582_912
        let r = xc - k * 0.693_359_375 + k * 2.121_944_4e-4
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let y = p * r * r + r + 1
        return y * Float(bitPattern: UInt32(Int32(k) + 127) << 23)
    }

    /// ln(1 + e) for e in [0, 1], via 2·atanh(e / (2 + e)) to 8 terms (error < 1e−7 relative).
    @inlinable @inline(__always)
    public static func log1pUnit(_ e: Float) -> Float {
        let s = e / (2 + e)
        let s2 = s * s
        var p: Float = 1 / 15
        p = p * s2 + 1 / 13
        p = p * s2 + 1 / 11
        p = p * s2 + 1 / 9
        p = p * s2 + 1 / 7
        p = p * s2 + 1 / 5
        p = p * s2 + 1 / 3
        p = p * s2 + 1
        return 2 * s * p
    }

    /// x[r, j] = softplus(x[r, j] + bias[j]) over rows × cols, on the calling thread (vectorised C).
    public static func softplusRows(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int) {
        avz_softplus_bias_rows(x, bias, rows, cols)
    }

    /// Column 0 gets bias[0]; columns 1… become sigmoid(x + bias)·scale + shift, on the calling thread.
    public static func sigmoidRows(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int,
                                   scale: Float, shift: Float) {
        avz_sigmoid_bias_rows(x, bias, rows, cols, scale, shift)
    }

    @inlinable @inline(__always)
    public static func sigmoid(_ x: Float) -> Float {
        1 / (1 + exp(-x))
    }
}
