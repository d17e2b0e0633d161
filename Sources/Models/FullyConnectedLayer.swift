// Port of FullyConnectedLayer from NVlabs/eg3d training/networks_stylegan2.py: an equalised linear
// layer. Stored weight [out, in] is used as weight · lr_mul / √in, bias as bias · lr_mul.
import Tensors

struct FullyConnectedLayer: Sendable {
    let inFeatures: Int
    let outFeatures: Int
    /// Effective weight, [out, in].
    let weight: [Float]
    /// Effective bias, [out].
    let bias: [Float]
    let activation: Activation

    init(_ w: Weights, prefix: String, lrMultiplier: Float = 1, activation: Activation = .linear) {
        let wt = w["\(prefix).weight"]  // [out, in]
        outFeatures = wt.shape[0]
        inFeatures = wt.shape[1]
        let gain = lrMultiplier / Float(inFeatures).squareRoot()
        weight = wt.data.map { $0 * gain }
        bias = lrMultiplier == 1 ? w["\(prefix).bias"].data : w["\(prefix).bias"].data.map { $0 * lrMultiplier }
        self.activation = activation
    }

    /// One input vector → one output vector.
    func callAsFunction(_ x: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: outFeatures)
        forward(x, rows: 1, into: &y)
        return y
    }

    /// `rows` input rows [rows, in] → [rows, out], activation applied.
    func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        weight.withUnsafeBufferPointer { wp in
            bias.withUnsafeBufferPointer { bp in
                Gemm.linear(x, rows: rows, inFeatures: inFeatures, weight: wp.baseAddress!, outFeatures: outFeatures,
                            bias: bp.baseAddress!, into: y)
            }
        }
        if activation != .linear {
            // Rows are the "channel" axis of bias_act here only for the gain/slope; bias is already added.
            activation.apply(y, channels: rows, count: outFeatures, bias: nil, gain: activation.defaultGain, clamp: nil)
        }
    }

    func forward(_ x: [Float], rows: Int, into y: inout [Float]) {
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in forward(xp.baseAddress!, rows: rows, into: yp.baseAddress!) }
        }
    }
}
