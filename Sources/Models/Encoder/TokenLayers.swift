// Layers on token rows ([tokens, width], row-major) for GOAE's transformer parts: nn.Linear, nn.LayerNorm (eps
// 1e-5, with or without affine parameters), exact GELU, LeakyReLU and ReLU, row softmax, transposes.
import Foundation
import Tensors

/// nn.Linear: y = x·Wᵀ + b on [rows, in]; W is [out, in] as PyTorch stores it.
struct DenseLayer: Sendable {
    let weight: [Float]
    let bias: [Float]?
    let inFeatures: Int
    let outFeatures: Int

    init(_ t: (String) -> Tensor, _ prefix: String, bias hasBias: Bool = true) {
        let w = t("\(prefix).weight")
        weight = w.data
        outFeatures = w.shape[0]
        inFeatures = w.shape[1]
        bias = hasBias ? t("\(prefix).bias").data : nil
    }

    init(weight: [Float], bias: [Float]?, outFeatures: Int, inFeatures: Int) {
        self.weight = weight
        self.bias = bias
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
    }

    func callAsFunction(_ x: [Float], rows: Int) -> [Float] {
        precondition(x.count == rows * inFeatures, "linear takes \(inFeatures) features, given \(x.count) values for \(rows) rows")
        var y = [Float](repeating: 0, count: rows * outFeatures)
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    if let bias {
                        bias.withUnsafeBufferPointer {
                            Gemm.linear(xp.baseAddress!, rows: rows, inFeatures: inFeatures, weight: wp.baseAddress!,
                                        outFeatures: outFeatures, bias: $0.baseAddress!, into: yp.baseAddress!)
                        }
                    } else {
                        Gemm.linear(xp.baseAddress!, rows: rows, inFeatures: inFeatures, weight: wp.baseAddress!,
                                    outFeatures: outFeatures, bias: nil, into: yp.baseAddress!)
                    }
                }
            }
        }
        return y
    }
}

/// nn.LayerNorm over the last dimension; weight and bias are nil for elementwise_affine=False.
struct LayerNormLayer: Sendable {
    static let epsilon: Float = 1e-5
    let weight: [Float]?
    let bias: [Float]?
    let width: Int

    init(_ t: (String) -> Tensor, _ prefix: String) {
        weight = t("\(prefix).weight").data
        bias = t("\(prefix).bias").data
        width = weight!.count
    }

    init(plainWidth: Int) {
        weight = nil
        bias = nil
        width = plainWidth
    }

    func apply(_ x: inout [Float]) {
        let n = width, rows = x.count / n
        x.withUnsafeMutableBufferPointer { xp in
            let p = xp.baseAddress!
            Parallel.forChunks(rows, grain: 64) { s, e in
                for r in s..<e {
                    let row = p + r * n
                    var mean: Double = 0
                    for i in 0..<n { mean += Double(row[i]) }
                    mean /= Double(n)
                    var v: Double = 0
                    for i in 0..<n { let d = Double(row[i]) - mean; v += d * d }
                    let inv = 1 / (v / Double(n) + Double(Self.epsilon)).squareRoot()
                    for i in 0..<n {
                        var y = Float((Double(row[i]) - mean) * inv)
                        if let weight, let bias { y = y * weight[i] + bias[i] }
                        row[i] = y
                    }
                }
            }
        }
    }

    func callAsFunction(_ x: [Float]) -> [Float] {
        var y = x
        apply(&y)
        return y
    }
}

enum TokenMath {
    /// nn.LeakyReLU()'s default slope.
    static let leakySlope: Float = 0.01

    /// nn.GELU() (approximate='none'): x · Φ(x) = 0.5 x (1 + erf(x / √2)).
    static func gelu(_ x: inout [Float]) {
        x.withUnsafeMutableBufferPointer { xp in
            let p = xp.baseAddress!
            Parallel.forChunks(xp.count, grain: 4096) { s, e in
                for i in s..<e {
                    let v = p[i]
                    p[i] = 0.5 * v * (1 + erff(v * Float(0.5).squareRoot()))
                }
            }
        }
    }

    static func leakyReLU(_ x: inout [Float], slope: Float = leakySlope) {
        for i in x.indices where x[i] < 0 { x[i] *= slope }
    }

    static func relu(_ x: inout [Float]) {
        for i in x.indices where x[i] < 0 { x[i] = 0 }
    }

    /// Softmax along each row of a [rows, cols] block with leading dimension `ld`.
    static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int) {
        let p = x
        Parallel.forChunks(rows, grain: 16) { s, e in
            for r in s..<e {
                let row = p + r * ld
                var m = -Float.infinity
                for j in 0..<cols { m = max(m, row[j]) }
                var sum: Float = 0
                for j in 0..<cols { let v = expf(row[j] - m); row[j] = v; sum += v }
                let inv = 1 / sum
                for j in 0..<cols { row[j] *= inv }
            }
        }
    }

    /// [rows, cols] → [cols, rows].
    static func transpose(_ x: [Float], rows: Int, cols: Int) -> [Float] {
        precondition(x.count == rows * cols)
        var y = [Float](repeating: 0, count: x.count)
        for r in 0..<rows { for c in 0..<cols { y[c * rows + r] = x[r * cols + c] } }
        return y
    }

    static func add(_ a: inout [Float], _ b: [Float]) {
        precondition(a.count == b.count)
        for i in a.indices { a[i] += b[i] }
    }
}
