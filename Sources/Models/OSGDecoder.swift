// Port of OSGDecoder from NVlabs/eg3d training/triplane.py: the mean of the three plane features goes
// through FC → softplus → FC; channel 0 is the raw density σ, the rest sigmoid(·)·1.002 − 0.001.
import Tensors

struct OSGDecoder: Sendable {
    let fc0: FullyConnectedLayer  // decoder.net.0.weight [hidden, C], bias [hidden]
    let fc1: FullyConnectedLayer  // decoder.net.2.weight [1 + out, hidden], bias [1 + out]
    var inFeatures: Int { fc0.inFeatures }
    var hidden: Int { fc0.outFeatures }
    /// Output features besides density.
    var outFeatures: Int { fc1.outFeatures - 1 }

    /// With bf16 on a CPU with AVX512_BF16: both layers' products in bf16, summed in float32 (the
    /// activations stay float32). Nil: OpenBLAS float32.
    let bf16: (fc0: BFloat16Linear, fc1: BFloat16Linear)?

    init(_ w: Weights, lrMultiplier: Float, precision: Precision = .fp32) {
        fc0 = FullyConnectedLayer(w, prefix: "decoder.net.0", lrMultiplier: lrMultiplier)
        fc1 = FullyConnectedLayer(w, prefix: "decoder.net.2", lrMultiplier: lrMultiplier)
        if precision == .bf16,
           let l0 = BFloat16Linear(weight: fc0.weight, outFeatures: fc0.outFeatures, inFeatures: fc0.inFeatures),
           let l1 = BFloat16Linear(weight: fc1.weight, outFeatures: fc1.outFeatures, inFeatures: fc1.inFeatures) {
            bf16 = (l0, l1)
        } else {
            bf16 = nil
        }
    }

    /// features [P, C] → raw [P, 1 + out] with σ in column 0 and activated features after it, on the
    /// calling thread (the renderer runs one block of points per worker). `hiddenBuffer` holds P·hidden floats.
    func forward(_ features: UnsafePointer<Float>, count p: Int, hiddenBuffer: UnsafeMutablePointer<Float>,
                 output: UnsafeMutablePointer<Float>) {
        let c = inFeatures, hd = hidden, o = fc1.outFeatures
        if let bf16 {
            fc0.bias.withUnsafeBufferPointer { b0 in
            fc1.bias.withUnsafeBufferPointer { b1 in
                bf16.fc0.forward(features, rows: p, into: hiddenBuffer, ldy: hd)
                Pointwise.softplusRows(hiddenBuffer, bias: b0.baseAddress!, rows: p, cols: hd)
                bf16.fc1.forward(hiddenBuffer, rows: p, into: output, ldy: o)
                Pointwise.sigmoidRows(output, bias: b1.baseAddress!, rows: p, cols: o, scale: 1 + 2 * 0.001, shift: -0.001)
            }}
            return
        }
        fc0.weight.withUnsafeBufferPointer { w0 in
        fc0.bias.withUnsafeBufferPointer { b0 in
        fc1.weight.withUnsafeBufferPointer { w1 in
        fc1.bias.withUnsafeBufferPointer { b1 in
            Gemm.serial(transB: true, m: p, n: hd, k: c, a: features, lda: c, b: w0.baseAddress!, ldb: c,
                        c: hiddenBuffer, ldc: hd)
            Pointwise.softplusRows(hiddenBuffer, bias: b0.baseAddress!, rows: p, cols: hd)
            Gemm.serial(transB: true, m: p, n: o, k: hd, a: hiddenBuffer, lda: hd, b: w1.baseAddress!, ldb: hd,
                        c: output, ldc: o)
            Pointwise.sigmoidRows(output, bias: b1.baseAddress!, rows: p, cols: o, scale: 1 + 2 * 0.001, shift: -0.001)
        }}}}
    }
}
