// Port of FullyConnectedLayer from NVlabs/eg3d training/networks_stylegan2.py: Tensors' EqualizedLinear
// (weight · lr_mul / √in, bias · lr_mul) read from the official keys, followed by bias_act's activation.
import Tensors

struct FullyConnectedLayer: Sendable {
    let linear: EqualizedLinear
    let activation: Activation
    var inFeatures: Int { linear.inFeatures }
    var outFeatures: Int { linear.outFeatures }
    /// Effective weight, [out, in].
    var weight: [Float] { linear.weight }
    /// Effective bias, [out].
    var bias: [Float] { linear.bias }

    init(_ w: Weights, prefix: String, lrMultiplier: Float = 1, activation: Activation = .linear) {
        linear = EqualizedLinear(weight: w["\(prefix).weight"], bias: w["\(prefix).bias"], lrMultiplier: lrMultiplier)
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
        linear.forward(x, rows: rows, into: y)
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
