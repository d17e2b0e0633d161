// Port of GradualStyleBlock from omertov/encoder4editing models/encoders/psp_encoders.py:
//   convs  = log2(spatial) × [conv3×3(stride 2, padding 1, with bias) → LeakyReLU(0.01)]
//   linear = EqualLinear(out_c, out_c, lr_mul=1) (models/stylegan2/model.py: weight / √in, no activation)
// on a [in_c, spatial, spatial] map, giving one w-sized vector. The first conv is run by
// StyleBlockGroup for all blocks that read the same map; this type runs the rest.
import Tensors

struct GradualStyleBlock: Sendable {
    let width: Int
    // convs.0 (weight [width, in_c, 3, 3], bias [width]) is held and run by StyleBlockGroup.
    /// convs.2, convs.4, …: weight [width, width, 3, 3] (bf16 for bf16 layers), bias [width].
    let laterWeights: [PackedWeights]
    let laterBiases: [[Float]]
    /// linear.weight [width, width], linear.bias [width].
    let linear: EqualizedLinear

    init(_ w: EncoderWeights, index i: Int, precision: Precision) {
        let p = "styles.\(i)"
        width = w.architecture.styleWidth
        let n = EncoderArchitecture.convCount(ofStyle: i)
        laterWeights = (1..<n).map { PackedWeights(w["\(p).convs.\(2 * $0).weight"].data, precision: precision) }
        laterBiases = (1..<n).map { w["\(p).convs.\(2 * $0).bias"].data }
        linear = EqualizedLinear(weight: w["\(p).linear.weight"], bias: w["\(p).linear.bias"])
    }

    /// Continues from the first conv's activated output [width, side, side] to the style vector [width].
    func finish(firstConvOutput x: UnsafePointer<Float>, side: Int) -> [Float] {
        var cur = Array(UnsafeBufferPointer(start: x, count: width * side * side))
        var s = side
        for (wt, b) in zip(laterWeights, laterBiases) {
            let so = (s - 1) / 2 + 1
            var next = [Float](repeating: 0, count: width * so * so)
            cur.withUnsafeBufferPointer { cp in
                next.withUnsafeMutableBufferPointer { np in
                    Convolution.conv2d(input: cp.baseAddress!, inChannels: width, height: s, width: s, weights: wt,
                                       outChannels: width, kernel: 3, stride: 2, padding: 1, output: np.baseAddress!)
                    b.withUnsafeBufferPointer { bp in
                        Activation.leakyReLU(EncoderArchitecture.styleLeakySlope).apply(
                            np.baseAddress!, channels: width, count: so * so, bias: bp.baseAddress!, gain: 1, clamp: nil)
                    }
                }
            }
            cur = next
            s = so
        }
        // x.view(-1, out_c): the last conv leaves 1×1 for the reference's 256² input.
        precondition(s == 1, "GradualStyleBlock: \(s)×\(s) map left after the convs")
        return linear(cur)
    }
}
