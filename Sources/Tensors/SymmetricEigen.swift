// Eigen-decomposition of a real symmetric matrix through LAPACK (ssyevd via LAPACKE), for principal
// component analysis (GANSpace directions).
import COpenBLAS

public enum SymmetricEigen {
    public struct Failure: Error, CustomStringConvertible {
        public let info: Int32
        public var description: String { "LAPACK ssyevd failed (info \(info)): the matrix may hold NaN or infinity" }
    }

    /// Sample covariance (d × d, row-major) of `rows` samples of dimension `d` (row-major), centred on their mean:
    /// Xᵀ X / (n − 1) through one BLAS product. Returns the covariance and the mean.
    public static func covariance(_ x: [Float], rows n: Int, dim d: Int) -> (covariance: [Float], mean: [Float]) {
        precondition(x.count == n * d && n >= 2)
        var mean = [Float](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += x[i * d + j] } }
        mean = mean.map { $0 / Float(n) }
        var centred = x
        for i in 0..<n { for j in 0..<d { centred[i * d + j] -= mean[j] } }
        var cov = [Float](repeating: 0, count: d * d)
        centred.withUnsafeBufferPointer { c in cov.withUnsafeMutableBufferPointer { o in
            Gemm.sgemm(transA: true, m: d, n: d, k: n, alpha: 1 / Float(n - 1), a: c.baseAddress!, lda: d,
                       b: c.baseAddress!, ldb: d, c: o.baseAddress!, ldc: d)
        } }
        return (cov, mean)
    }

    /// `matrix` is n×n row-major and symmetric. Returns eigenvalues in descending order and the matching
    /// unit eigenvectors as rows (vectors[k] belongs to values[k]).
    public static func decompose(_ matrix: [Float], size n: Int) throws -> (values: [Float], vectors: [[Float]]) {
        precondition(matrix.count == n * n, "matrix must be \(n)×\(n)")
        var a = matrix
        var w = [Float](repeating: 0, count: n)
        let info = LAPACKE_ssyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")), Int32(n), &a, Int32(n), &w)
        guard info == 0 else { throw Failure(info: info) }
        // LAPACK returns ascending values, eigenvectors in columns.
        var values: [Float] = [], vectors: [[Float]] = []
        for k in stride(from: n - 1, through: 0, by: -1) {
            values.append(w[k])
            vectors.append((0..<n).map { a[$0 * n + k] })
        }
        return (values, vectors)
    }
}
