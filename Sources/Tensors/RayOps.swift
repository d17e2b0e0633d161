// One-dimensional operations along a ray: pooling, cumulative products and inverse-CDF sampling,
// with the semantics of the PyTorch calls EG3D's renderer makes.

public enum RayOps {
    /// max_pool1d(kernel 2, stride 1, padding 1) then avg_pool1d(kernel 2, stride 1): n → n values.
    public static func maxThenAvgPool2(_ w: UnsafePointer<Float>, count n: Int, into out: UnsafeMutablePointer<Float>) {
        // max-pooled length n+1: m[k] = max(w[k−1], w[k]) with −∞ outside.
        @inline(__always) func m(_ k: Int) -> Float {
            if k == 0 { return w[0] }
            if k == n { return w[n - 1] }
            return Swift.max(w[k - 1], w[k])
        }
        for k in 0..<n { out[k] = (m(k) + m(k + 1)) / 2 }
    }

    /// Exclusive cumulative product: out[0] = 1, out[k] = Π_{j<k} x[j].
    public static func exclusiveCumprod(_ x: UnsafePointer<Float>, count n: Int, into out: UnsafeMutablePointer<Float>) {
        var p: Float = 1
        for k in 0..<n { out[k] = p; p *= x[k] }
    }

    /// Inverse-CDF sampling as NeRF's sample_pdf: `bins` (≥ n+1 edges), `weights` (n), `u` (sorted, in
    /// [0, 1]) → samples. eps is added to the weights and guards small denominators.
    public static func samplePDF(
        bins: UnsafePointer<Float>, weights: UnsafePointer<Float>, count n: Int,
        u: UnsafePointer<Float>, samples: Int, eps: Float = 1e-5,
        scratch cdf: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>
    ) {
        var total: Float = 0
        for k in 0..<n { total += weights[k] + eps }
        cdf[0] = 0
        var acc: Float = 0
        for k in 0..<n {
            acc += (weights[k] + eps) / total
            cdf[k + 1] = acc
        }
        var ind = 0  // searchsorted(right=True): number of cdf entries <= u; u is non-decreasing
        for j in 0..<samples {
            let uj = u[j]
            while ind <= n && cdf[ind] <= uj { ind += 1 }
            let below = Swift.max(ind - 1, 0), above = Swift.min(ind, n)
            var denom = cdf[above] - cdf[below]
            if denom < eps { denom = 1 }
            out[j] = bins[below] + (uj - cdf[below]) / denom * (bins[above] - bins[below])
        }
    }
}
