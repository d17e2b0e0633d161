// Port of the IR-SE50 trunk of Encoder4Editing (omertov/encoder4editing models/encoders/psp_encoders.py:
// `input_layer` and `body`, built from helpers.get_blocks(50) with bottleneck_IR_SE units):
//   input_layer = conv3×3(3→64, no bias) → BatchNorm2d(64) → PReLU(64)
//   body        = 24 units (3 / 4 / 14 / 3 at 64 / 128 / 256 / 512), the first of each stage with stride 2.
// The outputs of units 6, 20 and 23 (c1 at 64², c2 at 32², c3 at 16² for a 256² input) feed the FPN.
import Tensors

struct IRSEBackbone: Sendable {
    let architecture: EncoderArchitecture
    /// input_layer.0.weight [stem, 3, 3, 3], prepared for the 256² input.
    let inputConv: SameConv3x3
    /// input_layer.1 (BatchNorm2d(stem)).
    let inputNorm: BatchNorm2d
    /// input_layer.2.weight [stem] (PReLU slopes).
    let inputPReLU: [Float]
    /// body.0 … body.23.
    let units: [BottleneckIRSE]

    init(_ w: EncoderWeights, precision: Precision) {
        self.init(architecture: w.architecture, side: EncoderArchitecture.inputSize, precision: precision) { w[$0] }
    }

    /// - side: the input's height and width (256 for the encoders; TriPlaneNet's tri-plane encoder is fully
    ///   convolutional); tensor: the checked weights by official name.
    init(architecture a: EncoderArchitecture, side inputSide: Int, precision: Precision, tensor w: (String) -> Tensor) {
        architecture = a
        inputConv = SameConv3x3(weight: w("input_layer.0.weight").data, outChannels: a.stemWidth,
                                inChannels: a.inputChannels, side: inputSide, precision: precision)
        inputNorm = BottleneckIRSE.batchNorm(w, "input_layer.1")
        inputPReLU = w("input_layer.2.weight").data
        var side = inputSide
        var units: [BottleneckIRSE] = []
        for (i, u) in a.units.enumerated() {
            units.append(BottleneckIRSE(tensor: w, prefix: "body.\(i)", unit: u, side: side, precision: precision))
            side = (side - 1) / u.stride + 1
        }
        self.units = units
    }

    /// image [3, H, W] → the tapped unit outputs [c1, c2, c3] (EncoderArchitecture.tapUnits).
    func callAsFunction(_ image: Tensor) -> [Tensor] {
        callAsFunction(image, taps: EncoderArchitecture.tapUnits)
    }

    /// image [C, H, W] → the outputs of the units in `tapUnits` (ascending), in that order.
    func callAsFunction(_ image: Tensor, taps tapUnits: [Int]) -> [Tensor] {
        let h = image.shape[1], wd = image.shape[2], c = architecture.stemWidth
        var x = Tensor(zeros: [c, h, wd])
        image.data.withUnsafeBufferPointer { ip in
            x.data.withUnsafeMutableBufferPointer { xp in
                inputConv(ip.baseAddress!, height: h, width: wd, output: xp.baseAddress!)
                inputNorm.apply(xp.baseAddress!, count: h * wd)
                inputPReLU.withUnsafeBufferPointer { PReLU.apply(xp.baseAddress!, channels: c, count: h * wd, slopes: $0.baseAddress!) }
            }
        }
        var taps: [Tensor] = []
        for (i, unit) in units.enumerated() {
            x = unit(x)
            if tapUnits.contains(i) { taps.append(x) }
        }
        return taps
    }
}
