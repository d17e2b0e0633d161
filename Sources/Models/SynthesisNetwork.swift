// Port of SynthesisNetwork from NVlabs/eg3d training/networks_stylegan2.py: StyleGAN2 blocks b4…b256
// producing the 96-channel tri-plane image. Block i reads ws[k ..< k + numConv + numTorgb] where k
// advances by numConv per block.
import Tensors

final class SynthesisNetwork: @unchecked Sendable {
    let blocks: [SynthesisBlock]

    init(_ w: Weights, arch: GeneratorArchitecture, options: GeneratorOptions, precision: Precision) {
        blocks = arch.backbone.map {
            SynthesisBlock(w, spec: $0, useNoise: options.backboneNoiseMode == "const", convClamp: options.backboneConvClamp,
                           precision: precision)
        }
    }

    var styleNames: [String] { blocks.flatMap(\.styleNames) }

    /// ws [num_ws, w_dim] → style vectors in `styleNames` order.
    func styles(ws: Tensor) -> [[Float]] {
        var out: [[Float]] = []
        var k = 0
        for b in blocks {
            let count = b.spec.numConv + 1
            out += b.styles((k..<(k + count)).map { ws.slice($0).data })
            k += b.spec.numConv
        }
        return out
    }

    /// Style vectors (in `styleNames` order) → planes [3·C, R, R].
    func forward(styles: ArraySlice<[Float]>) -> Tensor {
        forward(styles: styles, blocks: 0..<blocks.count, x: nil, img: nil).img
    }

    /// Runs `range` of the blocks from (x, img) (nil for the first block): GOAE splits the backbone at 32² to
    /// modulate the features there (jiangyzy/GOAE networks_stylegan2.py train_forward_1 / train_forward_2).
    func forward(styles: ArraySlice<[Float]>, blocks range: Range<Int>, x x0: Tensor?, img img0: Tensor?) -> (x: Tensor, img: Tensor) {
        var x = x0, img = img0
        var i = styles.startIndex
        for b in blocks[..<range.lowerBound] { i += b.spec.numConv + 1 }
        for b in blocks[range] {
            let n = b.spec.numConv + 1
            let r = b.forward(x: x.take(), img: img, styles: Array(styles[i..<(i + n)]))
            x = r.x; img = r.img
            i += n
        }
        return (x!, img!)
    }
}
