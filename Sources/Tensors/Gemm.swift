// Row-major GEMM over OpenBLAS and oneDNN. Both are kept single-threaded and large products are split
// into one block of columns (or rows) per worker, run through Dispatch like every other loop, so no
// library thread spins while the non-GEMM loops run (see Parallel). Per call the faster library runs:
// oneDNN's float32 matmul beat OpenBLAS's sgemm by 10–25% on one thread for the networks' shapes once
// both sides are 32 or more (and lost below); bf16 products always go to oneDNN.
import CKernels
import COpenBLAS
import Foundation

public enum Gemm {
    private static let singleThreaded: Void = { openblas_set_num_threads(1) }()

    /// Pins OpenBLAS to one thread; done before the first product either way.
    public static func useSingleThreadedBLAS() { _ = singleThreaded }

    /// Off when AVATARIZE_NO_DNNL is set or oneDNN is missing; benches switch it for A/B timing against
    /// OpenBLAS alone (set it between products, not during them).
    nonisolated(unsafe) public static var dnnlEnabled = ProcessInfo.processInfo.environment["AVATARIZE_NO_DNNL"] == nil
        && avz_dnnl_available() != 0

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
        c: UnsafeMutablePointer<Float>, ldc: Int,
        precision: Precision = .fp32, openBLASOnly: Bool = false
    ) {
        _ = singleThreaded
        split(m: m, n: n, k: k) { rows, cols in
            serial(transA: transA, transB: transB, m: rows.count, n: cols.count, k: k, alpha: alpha,
                   a: transA ? a + rows.lowerBound : a + rows.lowerBound * lda, lda: lda,
                   b: transB ? b + cols.lowerBound * ldb : b + cols.lowerBound, ldb: ldb, beta: beta,
                   c: c + rows.lowerBound * ldc + cols.lowerBound, ldc: ldc, precision: precision, openBLASOnly: openBLASOnly)
        }
    }

    /// C[m×n] (= or +=) A·B with A in bf16 (dense m×k, converted at load) and B float32, split over the
    /// workers like sgemm; each piece runs serialBF16.
    public static func sgemmBF16(
        m: Int, n: Int, k: Int, a: UnsafePointer<UInt16>, b: UnsafePointer<Float>, ldb: Int,
        accumulate: Bool = false, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        split(m: m, n: n, k: k) { rows, cols in
            serialBF16(m: rows.count, n: cols.count, k: k, a: a + rows.lowerBound * k, b: b + cols.lowerBound, ldb: ldb,
                       accumulate: accumulate, c: c + rows.lowerBound * ldc + cols.lowerBound, ldc: ldc)
        }
    }

    /// Runs `body(rows, columns)` over blocks of an m×n product: on the calling thread when it is small,
    /// else one block of columns (when n is the larger side) or rows per worker, in multiples of 16 so each
    /// piece keeps whole SIMD panels.
    private static func split(m: Int, n: Int, k: Int, _ body: (Range<Int>, Range<Int>) -> Void) {
        let w = Parallel.workers
        guard w > 1, m * n * k >= splitThreshold, max(m, n) >= 32 else {
            body(0..<m, 0..<n)
            return
        }
        let byColumns = n >= m
        let side = byColumns ? n : m
        let per = ((side + w - 1) / w + 15) / 16 * 16
        let pieces = (side + per - 1) / per
        withoutActuallyEscaping(body) { body in
            let run = UncheckedSendable(body)
            Parallel.forChunks(pieces) { s, e in
                for p in s..<e {
                    let lo = p * per, piece = lo..<Swift.min(side, lo + per)
                    if byColumns { run.value(0..<m, piece) } else { run.value(piece, 0..<n) }
                }
            }
        }
    }

    /// One product on the calling thread; for use inside loops that are already parallel. bf16 products
    /// with all sides of 16 or more go to oneDNN's bf16 matmul; smaller ones, like float32 products with a
    /// side under 32 (or alpha ≠ 1, beta ∉ {0, 1}), run in float32 on OpenBLAS.
    @inline(__always)
    public static func serial(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        precision: Precision = .fp32, openBLASOnly: Bool = false
    ) {
        if dnnlEnabled, !openBLASOnly, alpha == 1, beta == 0 || beta == 1 {
            let bf16 = precision == .bf16 && Swift.min(m, n, k) >= 16
            if bf16 || (Swift.min(m, n) >= 32 && k >= 16),
               avz_dnnl_gemm(bf16 ? 1 : 0, transA ? 1 : 0, transB ? 1 : 0, m, n, k, a, lda, b, ldb,
                             beta == 1 ? 1 : 0, c, ldc) == 0 {
                return
            }
        }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// C[m×n] (= or +=) A·B on the calling thread with A already bf16 (a dense m×k block, converted at
    /// load) and B float32, rounded to bf16 for oneDNN's bf16 matmul; float32 sums. Without oneDNN or
    /// bf16 support (a precision the caller should not have been given), A is widened and OpenBLAS runs.
    public static func serialBF16(
        m: Int, n: Int, k: Int, a: UnsafePointer<UInt16>, b: UnsafePointer<Float>, ldb: Int,
        accumulate: Bool = false, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if dnnlEnabled, avz_dnnl_gemm_bf16_packed(m, n, k, a, b, ldb, accumulate ? 1 : 0, c, ldc) == 0 { return }
        let wide = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
        defer { wide.deallocate() }
        for i in 0..<(m * k) { wide[i] = Float(bitPattern: UInt32(a[i]) << 16) }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, wide, Int32(k), b, Int32(ldb),
                    accumulate ? 1 : 0, c, Int32(ldc))
    }

    /// C[m×n] = A·B on the calling thread with both operands bf16 (A dense m×k, B dense k×n); float32 sums.
    /// Falls back to widening both and OpenBLAS, like serialBF16.
    public static func serialBF16(m: Int, n: Int, k: Int, a: UnsafePointer<UInt16>, b: UnsafePointer<UInt16>,
                                  c: UnsafeMutablePointer<Float>, ldc: Int) {
        if dnnlEnabled, avz_dnnl_gemm_bf16_both(m, n, k, a, b, c, ldc) == 0 { return }
        let wide = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
        defer { wide.deallocate() }
        for i in 0..<(k * n) { wide[i] = Float(bitPattern: UInt32(b[i]) << 16) }
        serialBF16(m: m, n: n, k: k, a: a, b: wide, ldb: n, c: c, ldc: ldc)
    }

    /// Y[rows×out] = X[rows×in] · Wᵀ (W is [out, in], as PyTorch stores linear weights) + bias.
    public static func linear(
        _ x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
        weight: UnsafePointer<Float>, outFeatures: Int,
        bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>, precision: Precision = .fp32
    ) {
        if let bias {
            for r in 0..<rows { (y + r * outFeatures).update(from: bias, count: outFeatures) }
        }
        sgemm(transB: true, m: rows, n: outFeatures, k: inFeatures,
              a: x, lda: inFeatures, b: weight, ldb: inFeatures,
              beta: bias == nil ? 0 : 1, c: y, ldc: outFeatures, precision: precision)
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
                          c: pc.baseAddress!, ldc: n, openBLASOnly: true)  // warm-up
                    for _ in 0..<repeats {
                        let t = Clock.now()
                        sgemm(m: n, n: n, k: n, a: pa.baseAddress!, lda: n, b: pb.baseAddress!, ldb: n,
                              c: pc.baseAddress!, ldc: n, openBLASOnly: true)
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
