import Foundation

/// 1-D Gaussian smoothing over time, as `scipy.ndimage.gaussian_filter1d` does it with its defaults
/// (the function STIT applies to its alignment parameters): kernel radius ⌊4σ + 0.5⌋ (truncate = 4),
/// weights normalised to sum 1, and 'reflect' borders (d c b a | a b c d | d c b a). σ = 0 leaves the
/// signal as it is.
public enum GaussianSmoother {
    public static func kernel(sigma: Double) -> [Double] {
        let radius = Int(4.0 * sigma + 0.5)
        var w = (-radius...radius).map { exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
        let s = w.reduce(0, +)
        w = w.map { $0 / s }
        return w
    }

    public static func smooth(_ x: [Double], sigma: Double) -> [Double] {
        guard sigma > 0, x.count > 1 else { return x }
        let w = kernel(sigma: sigma)
        let r = w.count / 2, n = x.count
        func reflect(_ i: Int) -> Int {
            // scipy 'reflect': half-sample symmetric, period 2n.
            var i = i % (2 * n)
            if i < 0 { i += 2 * n }
            return i < n ? i : 2 * n - 1 - i
        }
        return (0..<n).map { t in
            var acc = 0.0
            for k in -r...r { acc += w[k + r] * x[reflect(t + k)] }
            return acc
        }
    }
}
