// torch.nn.BatchNorm2d in eval mode, folded into one multiply-add per element:
// y = x · α[c] + β[c] with α = weight / √(running_var + ε) and β = bias − running_mean · α, the same
// folding PyTorch's CPU kernel uses.

public struct BatchNorm2d: Sendable {
    public let channels: Int
    /// α, one per channel.
    public let scale: [Float]
    /// β, one per channel.
    public let shift: [Float]

    /// - weight, bias, runningMean, runningVar: [channels] each (affine parameters and buffers).
    public init(weight: [Float], bias: [Float], runningMean: [Float], runningVar: [Float], eps: Float = 1e-5) {
        let c = weight.count
        precondition(bias.count == c && runningMean.count == c && runningVar.count == c,
                     "BatchNorm2d: parameter counts \(weight.count), \(bias.count), \(runningMean.count), \(runningVar.count)")
        channels = c
        var a = [Float](repeating: 0, count: c), b = [Float](repeating: 0, count: c)
        for i in 0..<c {
            a[i] = weight[i] / (runningVar[i] + eps).squareRoot()
            b[i] = bias[i] - runningMean[i] * a[i]
        }
        scale = a
        shift = b
    }

    /// In place on planar [channels, count].
    public func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        apply(UnsafePointer(x), count: count, into: x)
    }

    /// y = BN(x) on planar [channels, count]; `y` may equal `x`.
    public func apply(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        scale.withUnsafeBufferPointer { a in
            shift.withUnsafeBufferPointer { b in
                Parallel.forChunks(channels) { s, e in
                    for c in s..<e {
                        let src = x + c * count, dst = y + c * count
                        let ac = a[c], bc = b[c]
                        for i in 0..<count { dst[i] = src[i] * ac + bc }
                    }
                }
            }
        }
    }
}

public enum PReLU {
    /// torch.nn.PReLU(channels) in place on planar [channels, count]: x < 0 ? slope[c]·x : x.
    public static func apply(_ x: UnsafeMutablePointer<Float>, channels: Int, count: Int, slopes: UnsafePointer<Float>) {
        Parallel.forChunks(channels) { s, e in
            for c in s..<e {
                let p = x + c * count
                let a = slopes[c]
                for i in 0..<count { let v = p[i]; p[i] = v < 0 ? v * a : v }
            }
        }
    }
}
