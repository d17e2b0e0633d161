// Port of SuperresolutionHybrid8XDC from NVlabs/eg3d training/superresolution.py: two StyleGAN2
// SynthesisBlocks (128² → 256² → 512²), every affine fed the last w, no noise, conv_clamp 256 in the
// released configuration. The image path starts from the first 3 feature channels (the raw RGB).
import Tensors

final class SuperResolution: @unchecked Sendable {
    let blocks: [SynthesisBlock]

    init(_ w: Weights, arch: GeneratorArchitecture, options: GeneratorOptions, precision: Precision) {
        blocks = arch.superresolution.map {
            SynthesisBlock(w, spec: $0, useNoise: options.superresolutionNoiseMode == "const",
                           convClamp: options.superresolutionConvClamp, precision: precision)
        }
    }

    var styleNames: [String] { blocks.flatMap(\.styleNames) }

    /// Every affine sees ws[num_ws − 1].
    func styles(ws: Tensor) -> [[Float]] {
        let last = ws.slice(ws.shape[0] - 1).data
        return blocks.flatMap { $0.styles([last, last, last]) }
    }

    /// rgb [3, R, R], features [C, R, R] → image [3, 4R, 4R].
    func forward(rgb: Tensor, features: Tensor, styles: ArraySlice<[Float]>) -> Tensor {
        var x = features, img = rgb
        var i = styles.startIndex
        for b in blocks {
            let n = b.spec.numConv + 1
            let r = b.forward(x: x, img: img, styles: Array(styles[i..<(i + n)]))
            x = r.x; img = r.img
            i += n
        }
        return img
    }
}
