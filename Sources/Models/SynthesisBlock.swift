// Port of SynthesisBlock from NVlabs/eg3d training/networks_stylegan2.py ('skip' architecture):
// [const] → conv0 (×2 up, absent in the first block) → conv1 → torgb, with the incoming image
// upsampled by upfirdn2d's upsample2d and added to torgb's output.
import Tensors

final class SynthesisBlock: @unchecked Sendable {
    let spec: BlockSpec
    let const: Tensor?          // const [out, res, res] (first block only)
    let conv0: SynthesisLayer?  // see SynthesisLayer for shapes
    let conv1: SynthesisLayer
    let torgb: ToRGBLayer
    let filter: [Float]         // resample_filter [f, f]
    let filterSize: Int

    init(_ w: Weights, spec: BlockSpec, useNoise: Bool, convClamp: Float?, precision: Precision) {
        self.spec = spec
        let p = spec.prefix
        const = spec.inChannels == 0 ? w["\(p).const"] : nil
        conv0 = spec.inChannels == 0 ? nil
            : SynthesisLayer(w, prefix: "\(p).conv0", resolution: spec.resolution, up: 2,
                             useNoise: useNoise && spec.hasNoise, convClamp: convClamp, precision: precision)
        conv1 = SynthesisLayer(w, prefix: "\(p).conv1", resolution: spec.resolution, up: 1,
                               useNoise: useNoise && spec.hasNoise, convClamp: convClamp, precision: precision)
        torgb = ToRGBLayer(w, prefix: "\(p).torgb", convClamp: convClamp)
        let f = w["\(p).resample_filter"]
        filter = f.data
        filterSize = f.shape[0]
    }

    /// S-space names of this block's affines, in the order the block consumes w vectors.
    var styleNames: [String] { (conv0.map { [$0.name] } ?? []) + [conv1.name, torgb.name] }

    /// One w per affine (conv0?, conv1, torgb) → the style vectors.
    func styles(_ ws: [[Float]]) -> [[Float]] {
        var out: [[Float]] = []
        var i = 0
        if let conv0 { out.append(conv0.style(ws[i])); i += 1 }
        out.append(conv1.style(ws[i])); i += 1
        out.append(torgb.style(ws[i]))
        return out
    }

    /// (x, img) → (x, img) at this block's resolution; `styles` as returned by `styles(_:)`. Hand `x` over
    /// (`consume`) when the caller has no further use for it: it is let go as soon as conv0 has read it,
    /// before conv1 runs (the super-resolution's last block takes a 67 MB input at full size).
    func forward(x: consuming Tensor?, img: Tensor?, styles: [[Float]]) -> (x: Tensor, img: Tensor) {
        var i = 0
        var h: Tensor
        if let const {
            h = conv1.forward(const, style: styles[0]); i = 1
        } else {
            guard let conv0, let input = x.take() else { preconditionFailure("\(spec.prefix): block needs an input") }
            h = conv0.forward(consume input, style: styles[0])
            h = conv1.forward(h, style: styles[1]); i = 2
        }
        var y = OpProfile.measure("torgb") { torgb.forward(h, style: styles[i]) }
        if let img { OpProfile.measure("img skip") {
            let c = img.shape[0], ih = img.shape[1], iw = img.shape[2]
            var up = Tensor(zeros: [c, 2 * ih, 2 * iw])
            img.data.withUnsafeBufferPointer { ip in
                up.data.withUnsafeMutableBufferPointer { op in
                    UpFirDn.upsample2x(input: ip.baseAddress!, channels: c, height: ih, width: iw,
                                       filter: filter, filterSize: filterSize, output: op.baseAddress!)
                }
            }
            for j in 0..<y.count { y.data[j] = up.data[j] + y.data[j] }
        } }
        return (h, y)
    }
}
