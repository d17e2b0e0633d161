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

    init(_ w: Weights, lrMultiplier: Float) {
        fc0 = FullyConnectedLayer(w, prefix: "decoder.net.0", lrMultiplier: lrMultiplier)
        fc1 = FullyConnectedLayer(w, prefix: "decoder.net.2", lrMultiplier: lrMultiplier)
    }

    /// features [P, C] → raw [P, 1 + out] with σ in column 0 and activated features after it, on the
    /// calling thread (the renderer runs one block of points per worker). `hiddenBuffer` holds P·hidden floats.
    func forward(_ features: UnsafePointer<Float>, count p: Int, hiddenBuffer: UnsafeMutablePointer<Float>,
                 output: UnsafeMutablePointer<Float>) {
        let c = inFeatures, hd = hidden, o = fc1.outFeatures
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
