// Port of SynthesisLayer from NVlabs/eg3d training/networks_stylegan2.py: a modulated, demodulated
// k×k convolution (optionally ×2 upsampling), plus constant noise, bias, leaky ReLU (gain √2) and clamp.
import Tensors

final class SynthesisLayer: @unchecked Sendable {
    /// Official key prefix, e.g. "backbone.synthesis.b8.conv0"; also the layer's S-space name.
    let name: String
    let affine: FullyConnectedLayer  // affine.weight [in, w_dim], affine.bias [in]
    let conv: ModulatedConvolution   // weight [out, in, k, k], resample_filter [f, f]
    let bias: [Float]                // bias [out]
    var inChannels: Int { conv.inChannels }
    var outChannels: Int { conv.outChannels }
    let resolution: Int
    let up: Int
    /// noise_const [res, res] · noise_strength [], nil when no noise is added.
    let noise: [Float]?
    let convClamp: Float?

    init(_ w: Weights, prefix: String, resolution: Int, up: Int, useNoise: Bool, convClamp: Float?, precision: Precision) {
        name = prefix
        affine = FullyConnectedLayer(w, prefix: "\(prefix).affine")
        let wt = w["\(prefix).weight"]
        let f = w["\(prefix).resample_filter"]
        conv = ModulatedConvolution(weight: wt.data, outChannels: wt.shape[0], inChannels: wt.shape[1],
                                    kernel: wt.shape[2], up: up, inputSide: resolution / up,
                                    filter: f.data, filterSize: f.shape[0], precision: precision)
        bias = w["\(prefix).bias"].data
        self.resolution = resolution
        self.up = up
        if useNoise, let nc = w.tensors["\(prefix).noise_const"], let ns = w.tensors["\(prefix).noise_strength"] {
            noise = nc.data.map { $0 * ns.data[0] }
        } else {
            noise = nil
        }
        self.convClamp = convClamp
    }

    /// The S-space vector of this layer: affine(w), [in].
    func style(_ w: [Float]) -> [Float] { affine(w) }

    /// x [in, res/up, res/up] → [out, res, res].
    func forward(_ x: Tensor, style: [Float]) -> Tensor {
        let h = x.shape[1], wd = x.shape[2]
        var out = Tensor(zeros: [outChannels, h * up, wd * up])
        let n = h * up * wd * up
        x.data.withUnsafeBufferPointer { xp in
            style.withUnsafeBufferPointer { sp in
                out.data.withUnsafeMutableBufferPointer { op in
                    OpProfile.measure(up == 2 ? "conv up \(resolution)" : "conv \(resolution)") {
                        conv.forward(input: xp.baseAddress!, height: h, width: wd, styles: sp.baseAddress!,
                                     output: op.baseAddress!)
                    }
                    let o = op.baseAddress!
                    OpProfile.measure("noise+act") {
                        let act = Activation.leakyReLU(0.2)
                        bias.withUnsafeBufferPointer { bp in
                            func apply(_ noise: UnsafePointer<Float>?) {
                                act.apply(o, channels: outChannels, count: n, bias: bp.baseAddress!, gain: act.defaultGain,
                                          clamp: convClamp, noise: noise)
                            }
                            if let noise { noise.withUnsafeBufferPointer { apply($0.baseAddress!) } } else { apply(nil) }
                        }
                    }
                }
            }
        }
        return out
    }
}
