// Port of SuperresolutionHybrid8XDC from NVlabs/eg3d training/superresolution.py: the rendered RGB and
// features are first resized to the SR's fixed input side (`input_resolution` 128; F.interpolate
// bilinear, align_corners=False, antialias=sr_antialias) when the render has another size (the -64
// models), then two StyleGAN2 SynthesisBlocks (128² → 256² → 512²), every affine fed the last w, no
// noise, conv_clamp 256 in the released configuration. The image path starts from the raw RGB.
import Tensors

final class SuperResolution: @unchecked Sendable {
    let blocks: [SynthesisBlock]
    /// Side the first block expects its input at.
    let inputResolution: Int
    let antialias: Bool

    init(_ w: Weights, arch: GeneratorArchitecture, options: GeneratorOptions, precision: Precision) {
        blocks = arch.superresolution.map {
            SynthesisBlock(w, spec: $0, useNoise: options.superresolutionNoiseMode == "const",
                           convClamp: options.superresolutionConvClamp, precision: precision)
        }
        inputResolution = (arch.superresolution.first?.resolution ?? 2) / 2
        antialias = options.superresolutionAntialias
    }

    var styleNames: [String] { blocks.flatMap(\.styleNames) }

    /// Every affine sees ws[num_ws − 1].
    func styles(ws: Tensor) -> [[Float]] {
        let last = ws.slice(ws.shape[0] - 1).data
        return blocks.flatMap { $0.styles([last, last, last]) }
    }

    /// rgb [3, R, R], features [C, R, R] → image [3, 4S, 4S] with S the input resolution.
    func forward(rgb: Tensor, features: Tensor, styles: ArraySlice<[Float]>) -> Tensor {
        var x = features, img = rgb
        if x.shape[1] != inputResolution || x.shape[2] != inputResolution {
            x = Self.resize(x, to: inputResolution, antialias: antialias)
            img = Self.resize(img, to: inputResolution, antialias: antialias)
        }
        var i = styles.startIndex
        for b in blocks {
            let n = b.spec.numConv + 1
            let r = b.forward(x: consume x, img: img, styles: Array(styles[i..<(i + n)]))
            x = r.x; img = r.img
            i += n
        }
        return img
    }

    /// One axis of torch's bilinear interpolation with align_corners=False: output o reads input taps
    /// with weights. Antialiased (aten upsample_bilinear2d_aa, the PIL-style triangle filter widened by
    /// the shrink factor and renormalised at the borders) or plain (source (o + ½)·in/out − ½, clamped at
    /// 0). For enlarging, the two give the same weights.
    static func taps(inSize: Int, outSize: Int, antialias: Bool) -> [(first: Int, weights: [Float])] {
        let scale = Float(inSize) / Float(outSize)
        if antialias {
            let support: Float = scale >= 1 ? scale : 1
            let invScale: Float = scale >= 1 ? 1 / scale : 1
            return (0..<outSize).map { o in
                let center = scale * (Float(o) + 0.5)
                let lo = max(Int(center - support + 0.5), 0)
                let hi = min(Int(center + support + 0.5), inSize)
                var w = (lo..<hi).map { j in max(0, 1 - abs((Float(j) - center + 0.5) * invScale)) }
                let total = w.reduce(0, +)
                if total != 0 { w = w.map { $0 / total } }
                return (lo, w)
            }
        }
        return (0..<outSize).map { o in
            let src = max(0, scale * (Float(o) + 0.5) - 0.5)
            let i0 = min(Int(src), inSize - 1)
            let lambda = src - Float(i0)
            return i0 < inSize - 1 ? (i0, [1 - lambda, lambda]) : (i0, [1])
        }
    }

    /// [C, h, w] → [C, side, side], separable: columns then rows, as the reference kernels do.
    static func resize(_ t: Tensor, to side: Int, antialias: Bool) -> Tensor {
        let c = t.shape[0], h = t.shape[1], w = t.shape[2]
        let xs = taps(inSize: w, outSize: side, antialias: antialias)
        let ys = taps(inSize: h, outSize: side, antialias: antialias)
        var mid = [Float](repeating: 0, count: c * h * side)
        var out = Tensor(zeros: [c, side, side])
        for ch in 0..<c {
            for y in 0..<h {
                let row = (ch * h + y) * w
                for (ox, tap) in xs.enumerated() {
                    var v: Float = 0
                    for (k, wt) in tap.weights.enumerated() { v += wt * t.data[row + tap.first + k] }
                    mid[(ch * h + y) * side + ox] = v
                }
            }
            for (oy, tap) in ys.enumerated() {
                for ox in 0..<side {
                    var v: Float = 0
                    for (k, wt) in tap.weights.enumerated() { v += wt * mid[(ch * h + tap.first + k) * side + ox] }
                    out.data[(ch * side + oy) * side + ox] = v
                }
            }
        }
        return out
    }
}
