// Thin wrappers over OpenBLAS's single-precision GEMM, row-major.
import COpenBLAS

public enum Gemm {
    /// C[M×N] = alpha · op(A) · op(B) + beta · C, row-major with explicit leading dimensions.
    @inline(__always)
    public static func sgemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Y[rows×out] = X[rows×in] · Wᵀ (W is [out, in], as PyTorch stores linear weights) + bias.
    public static func linear(
        _ x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
        weight: UnsafePointer<Float>, outFeatures: Int,
        bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>
    ) {
        if let bias {
            for r in 0..<rows { (y + r * outFeatures).update(from: bias, count: outFeatures) }
        }
        sgemm(transB: true, m: rows, n: outFeatures, k: inFeatures,
              a: x, lda: inFeatures, b: weight, ldb: inFeatures,
              beta: bias == nil ? 0 : 1, c: y, ldc: outFeatures)
    }

    /// Measures OpenBLAS's rate (GFLOP/s) on an n×n×n product: the median of `repeats` timed runs.
    public static func measureRate(size n: Int = 2048, repeats: Int = 5) -> Double {
        var a = [Float](repeating: 0, count: n * n)
        var b = [Float](repeating: 0, count: n * n)
        for i in 0..<(n * n) { a[i] = Float(i % 17) * 0.01; b[i] = Float(i % 13) * 0.02 }
        var c = [Float](repeating: 0, count: n * n)
        var rates: [Double] = []
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    sgemm(m: n, n: n, k: n, a: pa.baseAddress!, lda: n, b: pb.baseAddress!, ldb: n,
                          c: pc.baseAddress!, ldc: n)  // warm-up
                    for _ in 0..<repeats {
                        let t = Clock.now()
                        sgemm(m: n, n: n, k: n, a: pa.baseAddress!, lda: n, b: pb.baseAddress!, ldb: n,
                              c: pc.baseAddress!, ldc: n)
                        let s = Clock.now() - t
                        rates.append(2.0 * Double(n) * Double(n) * Double(n) / s / 1e9)
                    }
                }
            }
        }
        rates.sort()
        return rates[rates.count / 2]
    }
}
