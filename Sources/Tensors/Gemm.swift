// Wrappers over OpenBLAS's single-precision GEMM, row-major. OpenBLAS is kept single-threaded and large
// products are split into one block of columns (or rows) per worker, run through Dispatch like every
// other loop, so no BLAS thread spins while the non-GEMM loops run (see Parallel).
import COpenBLAS

public enum Gemm {
    private static let singleThreaded: Void = { openblas_set_num_threads(1) }()

    /// Pins OpenBLAS to one thread; done before the first product either way.
    public static func useSingleThreadedBLAS() { _ = singleThreaded }

    /// Products under this many multiply-adds run on the calling thread.
    static let splitThreshold = 1 << 21

    /// C[M×N] = alpha · op(A) · op(B) + beta · C, row-major with explicit leading dimensions, split over
    /// the workers: by columns when N is the larger side, else by rows.
    public static func sgemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = singleThreaded
        let w = Parallel.workers
        guard w > 1, m * n * k >= splitThreshold, max(m, n) >= 32 else {
            serial(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                   beta: beta, c: c, ldc: ldc)
            return
        }
        let byColumns = n >= m
        let side = byColumns ? n : m
        // Blocks of a multiple of 16 so each piece keeps whole SIMD panels.
        let per = ((side + w - 1) / w + 15) / 16 * 16
        let pieces = (side + per - 1) / per
        let ptrs = UncheckedSendable((a, b, c))
        Parallel.forChunks(pieces) { s, e in
            let (a, b, c) = ptrs.value
            for p in s..<e {
                let lo = p * per, len = Swift.min(per, side - lo)
                if byColumns {
                    serial(transA: transA, transB: transB, m: m, n: len, k: k, alpha: alpha, a: a, lda: lda,
                           b: transB ? b + lo * ldb : b + lo, ldb: ldb, beta: beta, c: c + lo, ldc: ldc)
                } else {
                    serial(transA: transA, transB: transB, m: len, n: n, k: k, alpha: alpha,
                           a: transA ? a + lo : a + lo * lda, lda: lda, b: b, ldb: ldb, beta: beta,
                           c: c + lo * ldc, ldc: ldc)
                }
            }
        }
    }

    /// One OpenBLAS call on the calling thread; for use inside loops that are already parallel.
    @inline(__always)
    public static func serial(
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
