// Port of Encoder4Editing from omertov/encoder4editing models/encoders/psp_encoders.py (commit 4a7ff27),
// as PREIM3D (mybabyyh/Preim3D) uses it for EG3D with 14 styles, at the Inference progressive stage:
//   c1, c2, c3 = body taps after units 6, 20, 23                       (IRSEBackbone)
//   w0 = styles[0](c3), broadcast to every style
//   p2 = bilinear_align_corners(c3 → c2's size) + latlayer1(c2)       (styles 3…6 read p2)
//   p1 = bilinear_align_corners(p2 → c1's size) + latlayer2(c1)       (styles 7… read p1)
//   w[i] = w0 + styles[i](features_i) for i ≥ 1                       (styles 1, 2 read c3)
// and, as pSp / PREIM3D do before the generator, codes = w + latent_avg.
// The same type runs PREIM3D's released WPlusEncoder (the same trunk, a WPlusHead instead of the FPN and style
// blocks), chosen by the weights' layout (EncoderArchitecture.head), and pSp's GradualStyleEncoder (TriPlaneNet's),
// which is e4e's network without the w0 broadcast: w[i] = styles[i](features_i) for every i.
import Foundation
import Tensors

/// One encoded image.
public struct EncoderOutput: Sendable {
    /// The encoder's output w (e4e: w0 broadcast plus deltas), [styleCount, w].
    public var styles: Tensor
    /// styles + latent_avg, [styleCount, w]: the W+ code for the generator.
    public var codes: Tensor
    /// Body outputs after units 6, 20, 23 ([C, H, W] each) when asked for, else empty.
    public var taps: [Tensor]
}

public struct Encoder4Editing: Sendable {
    public let architecture: EncoderArchitecture
    /// The weights file this encoder was built from.
    public let file: String
    let backbone: IRSEBackbone
    /// Style blocks grouped by the map they read: c3 (0…2), p2 (3…6), p1 (7…).
    let groups: [StyleBlockGroup]
    /// latlayer1.weight [w_top, c2, 1, 1], latlayer1.bias [w_top].
    let lateral1: [Float]
    let lateral1Bias: [Float]
    /// latlayer2.weight [w_top, c1, 1, 1], latlayer2.bias [w_top].
    let lateral2: [Float]
    let lateral2Bias: [Float]
    /// The WPlusEncoder head (nil for e4e's, whose style groups and laterals are above).
    let wPlus: WPlusHead?
    /// latent_avg [styleCount, w].
    let latentAverage: Tensor
    /// Precision of the convolutions' products (fixed at load).
    public let precision: Precision

    public init(weights w: EncoderWeights, precision: Precision = .fp32) {
        architecture = w.architecture
        file = w.file
        self.precision = precision
        backbone = IRSEBackbone(w, precision: precision)
        latentAverage = w["latent_avg"]
        if w.architecture.head == .wPlus {
            wPlus = WPlusHead(w)
            groups = []
            (lateral1, lateral1Bias, lateral2, lateral2Bias) = ([], [], [], [])
            return
        }
        wPlus = nil
        let n = w.architecture.styleCount
        groups = (0..<3).map { g in
            StyleBlockGroup(w, styles: (0..<n).filter { EncoderArchitecture.group(ofStyle: $0) == g }, precision: precision)
        }
        lateral1 = w["latlayer1.weight"].data
        lateral1Bias = w["latlayer1.bias"].data
        lateral2 = w["latlayer2.weight"].data
        lateral2Bias = w["latlayer2.bias"].data
    }

    /// Loads a bundle folder or .safetensors file (EncoderWeights.load) and builds the encoder.
    public init(contentsOf url: URL, precision: Precision = .fp32) throws {
        self.init(weights: try EncoderWeights.load(from: url), precision: precision)
    }

    /// The shape the encoder takes: [3, 256, 256].
    public var inputShape: [Int] {
        [architecture.inputChannels, EncoderArchitecture.inputSize, EncoderArchitecture.inputSize]
    }

    /// Encodes one aligned crop, [3, 256, 256] or [1, 3, 256, 256] with values in [−1, 1].
    public func encode(_ image: Tensor, keepTaps: Bool = false) throws -> EncoderOutput {
        var shape = image.shape
        if shape.count == 4 && shape[0] == 1 { shape.removeFirst() }
        guard shape == inputShape else { throw EncoderInputError.badImageShape(found: image.shape, expected: inputShape) }
        let taps = backbone(image.reshaped(shape))
        if let wPlus {
            var codes = wPlus(taps[2])
            let styles = codes
            for k in 0..<codes.count { codes.data[k] += latentAverage.data[k] }
            return EncoderOutput(styles: styles, codes: codes, taps: keepTaps ? taps : [])
        }
        let (c1, c2, c3) = (taps[0], taps[1], taps[2])
        let n = architecture.styleCount, wd = architecture.styleWidth
        var vectors = [[Float]](repeating: [], count: n)
        func run(_ g: Int, _ features: Tensor) {
            for (i, v) in zip(groups[g].styles, groups[g](features)) { vectors[i] = v }
        }
        run(0, c3)
        if !groups[1].styles.isEmpty {
            let p2 = upsampleAdd(c3, lateral: c2, weight: lateral1, bias: lateral1Bias)
            run(1, p2)
            if !groups[2].styles.isEmpty {
                run(2, upsampleAdd(p2, lateral: c1, weight: lateral2, bias: lateral2Bias))
            }
        }
        var styles = Tensor(zeros: [n, wd])
        let w0 = vectors[0]
        let deltas = architecture.head == .styleBlocks
        for i in 0..<n {
            for j in 0..<wd { styles.data[i * wd + j] = i == 0 || !deltas ? vectors[i][j] : w0[j] + vectors[i][j] }
        }
        var codes = styles
        for k in 0..<codes.count { codes.data[k] += latentAverage.data[k] }
        return EncoderOutput(styles: styles, codes: codes, taps: keepTaps ? taps : [])
    }

    /// _upsample_add(top, latlayer(lateral)): the lateral's 1×1 conv (with bias) plus the top map
    /// resized bilinearly (align_corners=True) to the lateral's size.
    func upsampleAdd(_ top: Tensor, lateral: Tensor, weight: [Float], bias: [Float]) -> Tensor {
        let c = top.shape[0], h = lateral.shape[1], wd = lateral.shape[2]
        var out = Tensor(zeros: [c, h, wd])
        lateral.data.withUnsafeBufferPointer { lp in
            out.data.withUnsafeMutableBufferPointer { op in
                weight.withUnsafeBufferPointer { wp in
                    Convolution.conv2d(input: lp.baseAddress!, inChannels: lateral.shape[0], height: h, width: wd,
                                       weight: wp.baseAddress!, outChannels: c, kernel: 1, padding: 0, output: op.baseAddress!,
                                       precision: precision)
                }
                bias.withUnsafeBufferPointer { bp in
                    Activation.linear.apply(op.baseAddress!, channels: c, count: h * wd, bias: bp.baseAddress!, gain: 1, clamp: nil)
                }
                top.data.withUnsafeBufferPointer { tp in
                    BilinearResize.alignCorners(input: tp.baseAddress!, channels: c, height: top.shape[1], width: top.shape[2],
                                                outHeight: h, outWidth: wd, output: op.baseAddress!, accumulate: true)
                }
            }
        }
        return out
    }
}
