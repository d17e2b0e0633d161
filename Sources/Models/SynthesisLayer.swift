// Port of SynthesisLayer from NVlabs/eg3d training/networks_stylegan2.py: a modulated, demodulated
// k×k convolution (optionally ×2 upsampling), plus constant noise, bias, leaky ReLU (gain √2) and clamp.
import Tensors

final class SynthesisLayer: @unchecked Sendable {
    /// Official key prefix, e.g. "backbone.synthesis.b8.conv0"; also the layer's S-space name.
    let name: String
    let affine: FullyConnectedLayer  // affine.weight [in, w_dim], affine.bias [in]
    let weight: [Float]              // weight [out, in, k, k]
    let bias: [Float]                // bias [out]
    let inChannels: Int
    let outChannels: Int
    let kernel: Int
    let resolution: Int
    let up: Int
    let filter: [Float]              // resample_filter [f, f]
    let filterSize: Int
    /// noise_const [res, res] · noise_strength [], nil when no noise is added.
    let noise: [Float]?
    let convClamp: Float?

    init(_ w: Weights, prefix: String, resolution: Int, up: Int, useNoise: Bool, convClamp: Float?) {
        name = prefix
        affine = FullyConnectedLayer(w, prefix: "\(prefix).affine")
        let wt = w["\(prefix).weight"]
        weight = wt.data
        outChannels = wt.shape[0]
        inChannels = wt.shape[1]
        kernel = wt.shape[2]
        bias = w["\(prefix).bias"].data
        self.resolution = resolution
        self.up = up
        let f = w["\(prefix).resample_filter"]
        filter = f.data
        filterSize = f.shape[0]
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
        let modulated = weight.withUnsafeBufferPointer { wp in
            style.withUnsafeBufferPointer { sp in
                ModulatedConv.modulate(weight: wp.baseAddress!, outChannels: outChannels, inChannels: inChannels,
                                       taps: kernel * kernel, styles: sp.baseAddress!, demodulate: true)
            }
        }
        let n = h * up * wd * up
        x.data.withUnsafeBufferPointer { xp in
            modulated.withUnsafeBufferPointer { mp in
                out.data.withUnsafeMutableBufferPointer { op in
                    ModulatedConv.convolve(input: xp.baseAddress!, inChannels: inChannels, height: h, width: wd,
                                           weight: mp.baseAddress!, outChannels: outChannels, kernel: kernel, up: up,
                                           filter: filter, filterSize: filterSize, output: op.baseAddress!)
                    let o = op.baseAddress!
                    if let noise {
                        noise.withUnsafeBufferPointer { np in
                            let nz = np.baseAddress!
                            Parallel.forChunks(outChannels) { s, e in
                                for c in s..<e { let p = o + c * n; for i in 0..<n { p[i] += nz[i] } }
                            }
                        }
                    }
                    let act = Activation.leakyReLU(0.2)
                    bias.withUnsafeBufferPointer { bp in
                        act.apply(o, channels: outChannels, count: n, bias: bp.baseAddress!, gain: act.defaultGain,
                                  clamp: convClamp)
                    }
                }
            }
        }
        return out
    }
}
