// Squeeze-and-excitation pieces (the SEModule of IR-SE networks) on planar [C, H·W] maps:
// squeeze = global average pool, excite = 1×1 conv C→h (no bias) → ReLU → 1×1 conv h→C (no bias) →
// sigmoid, then the map is scaled channel by channel (optionally with a residual added in the same pass).
import Foundation

public enum SqueezeExcitation {
    /// Mean of each channel of planar [channels, count] (AdaptiveAvgPool2d(1)), accumulated in double.
    public static func channelMeans(_ x: UnsafePointer<Float>, channels: Int, count: Int, into means: UnsafeMutablePointer<Float>) {
        Parallel.forChunks(channels) { s, e in
            for c in s..<e {
                let p = x + c * count
                var acc: Double = 0
                for i in 0..<count { acc += Double(p[i]) }
                means[c] = Float(acc / Double(count))
            }
        }
    }

    /// gate = σ(fc2 · relu(fc1 · pooled)); fc1: [hidden, channels], fc2: [channels, hidden]
    /// (the 1×1 conv weights [out, in, 1, 1] read as matrices). Returns `channels` gates.
    public static func gate(
        pooled: UnsafePointer<Float>, channels: Int, hidden: Int,
        fc1: UnsafePointer<Float>, fc2: UnsafePointer<Float>
    ) -> [Float] {
        var h = [Float](repeating: 0, count: hidden)
        for j in 0..<hidden {
            let row = fc1 + j * channels
            var acc: Float = 0
            for c in 0..<channels { acc += row[c] * pooled[c] }
            h[j] = Swift.max(acc, 0)
        }
        var g = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            let row = fc2 + c * hidden
            var acc: Float = 0
            for j in 0..<hidden { acc += row[j] * h[j] }
            g[c] = 1 / (1 + expf(-acc))
        }
        return g
    }

    /// The whole module: gates of planar x [channels, count]. fc1 [hidden, channels], fc2 [channels, hidden].
    public static func gates(
        _ x: UnsafePointer<Float>, channels: Int, count: Int, hidden: Int,
        fc1: UnsafePointer<Float>, fc2: UnsafePointer<Float>
    ) -> [Float] {
        var pooled = [Float](repeating: 0, count: channels)
        pooled.withUnsafeMutableBufferPointer { channelMeans(x, channels: channels, count: count, into: $0.baseAddress!) }
        return pooled.withUnsafeBufferPointer {
            gate(pooled: $0.baseAddress!, channels: channels, hidden: hidden, fc1: fc1, fc2: fc2)
        }
    }

    /// y[c, i] = x[c, i] · scale[c] + residual[c, i] (residual optional); `y` may equal `x` or `residual`.
    public static func scaleChannels(
        _ x: UnsafePointer<Float>, channels: Int, count: Int, scale: UnsafePointer<Float>,
        adding residual: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>
    ) {
        Parallel.forChunks(channels) { s, e in
            for c in s..<e {
                let src = x + c * count, dst = y + c * count
                let g = scale[c]
                if let residual {
                    let r = residual + c * count
                    for i in 0..<count { dst[i] = src[i] * g + r[i] }
                } else {
                    for i in 0..<count { dst[i] = src[i] * g }
                }
            }
        }
    }
}
