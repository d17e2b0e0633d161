// Port of ToRGBLayer from NVlabs/eg3d training/networks_stylegan2.py: a modulated 1×1 convolution
// without demodulation, styles scaled by 1/√(in·k²), then bias and clamp (no activation).
import Tensors

final class ToRGBLayer: @unchecked Sendable {
    let name: String
    let affine: FullyConnectedLayer  // affine.weight [in, w_dim], affine.bias [in]
    let weight: [Float]              // weight [out, in, 1, 1]
    let bias: [Float]                // bias [out]
    let inChannels: Int
    let outChannels: Int
    let weightGain: Float
    let convClamp: Float?

    init(_ w: Weights, prefix: String, convClamp: Float?) {
        name = prefix
        affine = FullyConnectedLayer(w, prefix: "\(prefix).affine")
        let wt = w["\(prefix).weight"]
        weight = wt.data
        outChannels = wt.shape[0]
        inChannels = wt.shape[1]
        weightGain = 1 / Float(inChannels * wt.shape[2] * wt.shape[3]).squareRoot()
        bias = w["\(prefix).bias"].data
        self.convClamp = convClamp
    }

    /// The S-space vector: affine(w) before the 1/√in weight gain, [in].
    func style(_ w: [Float]) -> [Float] { affine(w) }

    /// x [in, H, W] → [out, H, W].
    func forward(_ x: Tensor, style: [Float]) -> Tensor {
        let h = x.shape[1], wd = x.shape[2]
        var out = Tensor(zeros: [outChannels, h, wd])
        let scaled = style.map { $0 * weightGain }
        let modulated = weight.withUnsafeBufferPointer { wp in
            scaled.withUnsafeBufferPointer { sp in
                FusedModulatedConv.modulate(weight: wp.baseAddress!, outChannels: outChannels, inChannels: inChannels,
                                       taps: 1, styles: sp.baseAddress!, demodulate: false)
            }
        }
        x.data.withUnsafeBufferPointer { xp in
            modulated.withUnsafeBufferPointer { mp in
                out.data.withUnsafeMutableBufferPointer { op in
                    Convolution.conv2d(input: xp.baseAddress!, inChannels: inChannels, height: h, width: wd,
                                       weight: mp.baseAddress!, outChannels: outChannels, kernel: 1, padding: 0,
                                       output: op.baseAddress!)
                    bias.withUnsafeBufferPointer { bp in
                        Activation.linear.apply(op.baseAddress!, channels: outChannels, count: h * wd,
                                                bias: bp.baseAddress!, gain: 1, clamp: convClamp)
                    }
                }
            }
        }
        return out
    }
}
