// A linear layer's product in bfloat16 for small row blocks (CKernels' bf16_linear.c, AVX512_BF16): what
// the OSG decoder runs per block of ~128 points under --precision bf16, where a library GEMM call costs
// more than its arithmetic. Both operands are rounded to bf16 (nearest even); sums are float32.
import CKernels

public struct BFloat16Linear: Sendable {
    public let outFeatures: Int
    public let inFeatures: Int
    private let packed: [UInt16]

    /// Packs `weight` [out, in]; nil where this CPU lacks AVX512_BF16 or the layer is wider than the kernel.
    public init?(weight: [Float], outFeatures: Int, inFeatures: Int) {
        guard avz_bf16_linear_available() != 0, inFeatures <= 512, weight.count == outFeatures * inFeatures else { return nil }
        var p = [UInt16](repeating: 0, count: avz_bf16_linear_packed_count(outFeatures, inFeatures))
        weight.withUnsafeBufferPointer { w in
            p.withUnsafeMutableBufferPointer { avz_bf16_linear_pack(w.baseAddress!, outFeatures, inFeatures, $0.baseAddress!) }
        }
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        packed = p
    }

    /// y[r, j] = Σ_k x[r, k] · w[j, k] for `rows` dense rows of x; y rows are `ldy` apart. No bias.
    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, ldy: Int) {
        packed.withUnsafeBufferPointer { w in
            let done = avz_bf16_linear(x, rows, inFeatures, w.baseAddress!, outFeatures, y, ldy)
            precondition(done != 0, "BFloat16Linear was built, so the CPU runs it")
        }
    }
}
