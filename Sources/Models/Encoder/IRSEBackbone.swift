// Port of the IR-SE50 trunk of Encoder4Editing (omertov/encoder4editing models/encoders/psp_encoders.py:
// `input_layer` and `body`, built from helpers.get_blocks(50) with bottleneck_IR_SE units):
//   input_layer = conv3×3(3→64, no bias) → BatchNorm2d(64) → PReLU(64)
//   body        = 24 units (3 / 4 / 14 / 3 at 64 / 128 / 256 / 512), the first of each stage with stride 2.
// The outputs of units 6, 20 and 23 (c1 at 64², c2 at 32², c3 at 16² for a 256² input) feed the FPN.
import Tensors

struct IRSEBackbone: Sendable {
    let architecture: EncoderArchitecture
    /// input_layer.0.weight [stem, 3, 3, 3].
    let inputConv: [Float]
    /// input_layer.1 (BatchNorm2d(stem)).
    let inputNorm: BatchNorm2d
    /// input_layer.2.weight [stem] (PReLU slopes).
    let inputPReLU: [Float]
    /// body.0 … body.23.
    let units: [BottleneckIRSE]

    init(_ w: EncoderWeights) {
        architecture = w.architecture
        inputConv = w["input_layer.0.weight"].data
        inputNorm = BottleneckIRSE.batchNorm(w, "input_layer.1")
        inputPReLU = w["input_layer.2.weight"].data
        units = w.architecture.units.enumerated().map { BottleneckIRSE(w, prefix: "body.\($0.offset)", unit: $0.element) }
    }

    /// image [3, H, W] → the tapped unit outputs [c1, c2, c3] (EncoderArchitecture.tapUnits).
    func callAsFunction(_ image: Tensor) -> [Tensor] {
        let h = image.shape[1], wd = image.shape[2], c = architecture.stemWidth
        var x = Tensor(zeros: [c, h, wd])
        image.data.withUnsafeBufferPointer { ip in
            x.data.withUnsafeMutableBufferPointer { xp in
                inputConv.withUnsafeBufferPointer { wp in
                    Convolution.conv2d(input: ip.baseAddress!, inChannels: architecture.inputChannels, height: h, width: wd,
                                       weight: wp.baseAddress!, outChannels: c, kernel: 3, padding: 1, output: xp.baseAddress!)
                }
                inputNorm.apply(xp.baseAddress!, count: h * wd)
                inputPReLU.withUnsafeBufferPointer { PReLU.apply(xp.baseAddress!, channels: c, count: h * wd, slopes: $0.baseAddress!) }
            }
        }
        var taps: [Tensor] = []
        for (i, unit) in units.enumerated() {
            x = unit(x)
            if EncoderArchitecture.tapUnits.contains(i) { taps.append(x) }
        }
        return taps
    }
}
