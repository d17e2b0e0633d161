// The GradualStyleBlocks of Encoder4Editing that read one feature map (coarse: c3 at 16², middle: p2 at
// 32², fine: p1 at 64²). Their first stride-2 convs share one im2col and one GEMM: the blocks'
// convs.0 weights are stacked into a [blocks·width, in_c·9] matrix. Results equal running each
// GradualStyleBlock on its own (omertov/encoder4editing models/encoders/psp_encoders.py).
import Tensors

struct StyleBlockGroup: Sendable {
    /// Style indices of the blocks, ascending.
    let styles: [Int]
    let blocks: [GradualStyleBlock]
    let inChannels: Int
    let width: Int
    /// styles.i.convs.0.weight stacked over the group: [blocks·width, in_c, 3, 3] (bf16 for bf16 layers).
    let stackedWeight: PackedWeights
    /// styles.i.convs.0.bias stacked: [blocks·width].
    let stackedBias: [Float]

    init(_ w: EncoderWeights, styles: [Int], precision: Precision) {
        self.styles = styles
        let blocks = styles.map { GradualStyleBlock(w, index: $0, precision: precision) }
        self.blocks = blocks
        inChannels = w.architecture.stageWidths[3]
        width = w.architecture.styleWidth
        stackedWeight = PackedWeights(styles.flatMap { w["styles.\($0).convs.0.weight"].data }, precision: precision)
        stackedBias = styles.flatMap { w["styles.\($0).convs.0.bias"].data }
    }

    /// features [in_c, side, side] → one style vector [width] per block, in `styles` order.
    func callAsFunction(_ features: Tensor) -> [[Float]] {
        guard !blocks.isEmpty else { return [] }
        let side = features.shape[1]
        let so = (side - 1) / 2 + 1
        let rows = blocks.count * width
        var first = [Float](repeating: 0, count: rows * so * so)
        features.data.withUnsafeBufferPointer { fp in
            first.withUnsafeMutableBufferPointer { op in
                Convolution.conv2d(input: fp.baseAddress!, inChannels: inChannels, height: side, width: features.shape[2],
                                   weights: stackedWeight, outChannels: rows, kernel: 3, stride: 2, padding: 1,
                                   output: op.baseAddress!)
                stackedBias.withUnsafeBufferPointer { bp in
                    Activation.leakyReLU(EncoderArchitecture.styleLeakySlope).apply(
                        op.baseAddress!, channels: rows, count: so * so, bias: bp.baseAddress!, gain: 1, clamp: nil)
                }
            }
        }
        return first.withUnsafeBufferPointer { op in
            blocks.enumerated().map { b, block in
                block.finish(firstConvOutput: op.baseAddress! + b * width * so * so, side: so)
            }
        }
    }
}
