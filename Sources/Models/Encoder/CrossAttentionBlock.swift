// Port of GOAE's CrossAttention (jiangyzy/GOAE goae/models/attention.py, from DETR's transformer), eval mode:
//   t = tgt + MultiheadAttention(query: tgt, key: memory, value: memory)
//   t = LayerNorm(t)                      (norm2, no affine parameters; norm1 is never used)
//   t = t + linear2(relu(linear1(t)))
// MultiheadAttention is torch.nn's: q, k, v from in_proj_weight's three row blocks and in_proj_bias, softmax(q·kᵀ / √d)
// per head, heads concatenated, out_proj.
import Foundation
import Tensors

struct CrossAttentionBlock: Sendable {
    /// GOAE builds every CrossAttention with 4 heads (goae.py and afa.py: CrossAttention(512, 4, 1024)); the weights
    /// cannot tell the count.
    static let heads = 4

    let width: Int
    let query: DenseLayer
    let key: DenseLayer
    let value: DenseLayer
    let out: DenseLayer
    let linear1: DenseLayer
    let linear2: DenseLayer
    let norm: LayerNormLayer

    /// Tensors of one CrossAttention, `prefix` without the trailing dot.
    init(_ t: (String) -> Tensor, _ prefix: String) {
        let w = t("\(prefix).multihead_attn.in_proj_weight"), b = t("\(prefix).multihead_attn.in_proj_bias")
        let d = w.shape[1]
        width = d
        func block(_ i: Int) -> DenseLayer {
            DenseLayer(weight: Array(w.data[(i * d * d)..<((i + 1) * d * d)]), bias: Array(b.data[(i * d)..<((i + 1) * d)]),
                       outFeatures: d, inFeatures: d)
        }
        query = block(0)
        key = block(1)
        value = block(2)
        out = DenseLayer(t, "\(prefix).multihead_attn.out_proj")
        linear1 = DenseLayer(t, "\(prefix).linear1")
        linear2 = DenseLayer(t, "\(prefix).linear2")
        norm = LayerNormLayer(plainWidth: d)
    }

    /// The expected tensors of a CrossAttention of `width` with a feed-forward of `hidden`.
    static func expectedShapes(_ prefix: String, width d: Int, hidden: Int) -> [String: [Int]] {
        ["\(prefix).multihead_attn.in_proj_weight": [3 * d, d], "\(prefix).multihead_attn.in_proj_bias": [3 * d],
         "\(prefix).multihead_attn.out_proj.weight": [d, d], "\(prefix).multihead_attn.out_proj.bias": [d],
         "\(prefix).linear1.weight": [hidden, d], "\(prefix).linear1.bias": [hidden],
         "\(prefix).linear2.weight": [d, hidden], "\(prefix).linear2.bias": [d]]
    }

    /// tgt [n, width], memory [m, width] → [n, width].
    func callAsFunction(_ tgt: [Float], rows n: Int, memory: [Float], memoryRows m: Int) -> [Float] {
        let d = width, h = Self.heads, dh = d / h
        let q = query(tgt, rows: n), k = key(memory, rows: m), v = value(memory, rows: m)
        var attended = [Float](repeating: 0, count: n * d)
        var scores = [Float](repeating: 0, count: n * m)
        let scale = 1 / Float(dh).squareRoot()
        q.withUnsafeBufferPointer { qp in
        k.withUnsafeBufferPointer { kp in
        v.withUnsafeBufferPointer { vp in
        scores.withUnsafeMutableBufferPointer { sp in
        attended.withUnsafeMutableBufferPointer { ap in
            for head in 0..<h {
                Gemm.sgemm(transB: true, m: n, n: m, k: dh, alpha: scale, a: qp.baseAddress! + head * dh, lda: d,
                           b: kp.baseAddress! + head * dh, ldb: d, c: sp.baseAddress!, ldc: m)
                TokenMath.softmaxRows(sp.baseAddress!, rows: n, cols: m, ld: m)
                Gemm.sgemm(m: n, n: dh, k: m, a: sp.baseAddress!, lda: m, b: vp.baseAddress! + head * dh, ldb: d,
                           c: ap.baseAddress! + head * dh, ldc: d)
            }
        }}}}}
        var x = tgt
        TokenMath.add(&x, out(attended, rows: n))
        norm.apply(&x)
        var hidden = linear1(x, rows: n)
        TokenMath.relu(&hidden)
        TokenMath.add(&x, linear2(hidden, rows: n))
        return x
    }
}
