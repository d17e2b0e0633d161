// TriPlaneNet's tri-plane encoder (anantarb/triplanenet models/encoders/triplane_encoders.py for v1,
// triplane_encoders_v2.py for v2), with every width read off the weight shapes:
//   input_layer + body   the IR-SE50 trunk (as the W+ encoders'), on 6 channels (v1: ŷ, x − ŷ) or 9 (v2: ŷ, x − ŷ,
//                        mirror(x) − mirror(ŷ)); taps c0, c1, c2, c3 after units 2, 6, 20, 21, and the last unit's map
//   up1 … up4            U-Net steps: upsample (×1 for up1, then ×2), concatenate [skip ‖ upsampled], DoubleConv
//                        = BatchNorm → conv3×3 + bias → PReLU → conv3×3 + bias → PReLU → PReLU
//   v1                   PixelShuffle(2) → final_head (conv3×3 → PReLU → conv3×3 → PReLU → conv1×1): offsets that
//                        are added to the generator's planes
//   v2                   up5 (PixelShuffle(2), or nearest ×2 without --use_pixelshuffle, the training default) →
//                        [initial planes ‖ features] → final_head_two (same layers) → initial planes + that: the
//                        refined planes, which replace the generator's
import Tensors

public struct TriPlaneRefinerArchitecture: Sendable, Equatable {
    public enum Version: Int, Sendable, Equatable {
        /// TriPlaneNet (v1): the network's output is added to the generator's planes.
        case v1 = 1
        /// TriPlaneNet v2: the network returns the refined planes themselves.
        case v2 = 2
    }

    /// How the U-Net upsamples (v2's `--use_pixelshuffle`; v1 always shuffles).
    public enum Upsampling: String, Sendable, Equatable {
        case pixelShuffle = "pixel shuffle"
        case nearest = "nearest"
    }

    /// One U-Net step's DoubleConv widths.
    public struct Step: Sendable, Equatable {
        public var inChannels: Int
        public var outChannels: Int
    }

    /// Body units whose outputs the U-Net reads: c0, c1, c2, c3, then the last unit's map.
    public static let tapUnits = [2, 6, 20, 21, 23]
    /// The tri-plane features: 3 planes × 32 channels (EG3D's backbone output).
    public static let planeChannels = 96

    public var version: Version
    public var upsampling: Upsampling
    /// The IR-SE50 trunk (styleCount and styleWidth unused).
    public var trunk: EncoderArchitecture
    /// up1 … up4.
    public var steps: [Step]

    /// The input channels each version takes.
    public var expectedInputChannels: Int { version == .v1 ? 6 : 9 }
    /// The final head's prefix in the state dict.
    public var headPrefix: String { version == .v1 ? "final_head" : "final_head_two" }
    /// Channels after an upsampling by 2 of `c` channels.
    func upsampled(_ c: Int) -> Int { upsampling == .pixelShuffle ? c / 4 : c }
    /// The final head's input width: the upsampled U-Net output, after the initial planes for v2.
    public var headInputChannels: Int {
        (version == .v2 ? Self.planeChannels : 0) + upsampled(steps[3].outChannels)
    }

    /// Every tensor of the state dict with its shape (names without the checkpoint's `triplanenet_encoder.`).
    public func expectedShapes() -> [String: [Int]] {
        var e = trunk.trunkShapes()
        for (k, s) in steps.enumerated() {
            let p = "up\(k + 1).conv.double_conv"
            for n in ["weight", "bias", "running_mean", "running_var"] { e["\(p).0.\(n)"] = [s.inChannels] }
            e["\(p).1.weight"] = [s.outChannels, s.inChannels, 3, 3]
            e["\(p).1.bias"] = [s.outChannels]
            e["\(p).2.weight"] = [s.outChannels]
            e["\(p).3.weight"] = [s.outChannels, s.outChannels, 3, 3]
            e["\(p).3.bias"] = [s.outChannels]
            e["\(p).4.weight"] = [s.outChannels]
            e["\(p).5.weight"] = [s.outChannels]
        }
        let h = headPrefix, c = Self.planeChannels
        e["\(h).0.weight"] = [c, headInputChannels, 3, 3]
        e["\(h).0.bias"] = [c]
        e["\(h).1.weight"] = [c]
        e["\(h).2.weight"] = [c, c, 3, 3]
        e["\(h).2.bias"] = [c]
        e["\(h).3.weight"] = [c]
        e["\(h).4.weight"] = [c, c, 1, 1]
        e["\(h).4.bias"] = [c]
        return e
    }

    /// Every missing, unexpected or mis-shaped tensor, sorted by name, plus a wrong input width.
    public func check(shapes: [String: [Int]]) -> [WeightProblem] {
        var e = expectedShapes()
        // The input width is the version's, whatever the file says.
        e["input_layer.0.weight"]?[1] = expectedInputChannels
        return EncoderArchitecture.problems(expected: e, found: shapes)
    }

    /// Reads the layout off the shapes: v2 has `final_head_two`, v1 `final_head`; v2's upsampling is told by
    /// up2's input width (the skip's width plus the upsampled up1 output, a quarter of it when shuffled).
    public static func infer(from shapes: [String: [Int]], file: String) throws -> TriPlaneRefinerArchitecture {
        let trunk = try EncoderArchitecture.inferTrunk(from: shapes, file: file)
        let version: Version
        if shapes["final_head_two.0.weight"] != nil {
            version = .v2
        } else if shapes["final_head.0.weight"] != nil {
            version = .v1
        } else {
            throw EncoderLoadError.cannotInferArchitecture(file: file, reason: "a TriPlaneNet tri-plane encoder has 'final_head' (v1) or 'final_head_two' (v2); neither is present")
        }
        var outs: [Int] = []
        for k in 1...4 {
            outs.append(try EncoderArchitecture.dim([("up\(k).conv.double_conv.1.weight", 0), ("up\(k).conv.double_conv.3.weight", 0)],
                                                    "up\(k)'s width", shapes: shapes, file: file))
        }
        guard outs.allSatisfy({ $0 > 0 }) else {
            throw EncoderLoadError.cannotInferArchitecture(file: file, reason: "a U-Net step of width 0 (\(outs))")
        }
        var upsampling = Upsampling.pixelShuffle
        if version == .v2, let up2 = shapes["up2.conv.double_conv.1.weight"], up2.count == 4,
           up2[1] == trunk.stageWidths[2] + outs[0] {
            upsampling = .nearest
        }
        return TriPlaneRefinerArchitecture(version: version, upsampling: upsampling, trunk: trunk, stepWidths: outs)
    }

    /// - stepWidths: up1 … up4's output widths; the inputs follow from the skips: c3 (stage 4, with the last map
    ///   itself for up1), c2 (stage 3), c1 (stage 2), c0 (stage 1).
    public init(version: Version, upsampling: Upsampling, trunk: EncoderArchitecture, stepWidths outs: [Int]) {
        precondition(outs.count == 4 && trunk.stageWidths.count == 4)
        self.version = version
        self.upsampling = upsampling
        self.trunk = trunk
        let w = trunk.stageWidths
        let up = { (c: Int) in upsampling == .pixelShuffle ? c / 4 : c }
        steps = [Step(inChannels: w[3] + w[3], outChannels: outs[0]),
                 Step(inChannels: w[2] + up(outs[0]), outChannels: outs[1]),
                 Step(inChannels: w[1] + up(outs[1]), outChannels: outs[2]),
                 Step(inChannels: w[0] + up(outs[2]), outChannels: outs[3])]
    }

    /// The released networks' layout (IR-SE50 at 64 / 128 / 256 / 512; TriPlane_Encoder's Up widths: v1 and v2 with
    /// pixel shuffle 512 / 384 / 256 / 96, v2 with nearest upsampling 512 / 256 / 128 / 64).
    public static func released(_ version: Version, upsampling: Upsampling = .nearest) -> TriPlaneRefinerArchitecture {
        var trunk = EncoderArchitecture.released(styleCount: 0)
        trunk.inputChannels = version == .v1 ? 6 : 9
        trunk.styleWidth = 0
        let shuffle = version == .v1 || upsampling == .pixelShuffle
        return TriPlaneRefinerArchitecture(version: version, upsampling: shuffle ? .pixelShuffle : .nearest, trunk: trunk,
                                           stepWidths: shuffle ? [512, 384, 256, 96] : [512, 256, 128, 64])
    }

    /// Random weights in this layout with PyTorch's default initialisation scale (convs and their biases
    /// U(±1/√fan_in), BatchNorm with unit statistics, PReLU 0.25), for benchmarks without a checkpoint.
    public func randomWeights(seed: UInt64 = 3) -> [String: Tensor] {
        Self.pytorchDefaultInit(expectedShapes(), seed: seed)
    }

    /// PyTorch's default initialisation scale for any layout: convs, linears and their biases U(±1/√fan_in),
    /// BatchNorm with unit statistics, LayerNorm (names with `norm`) weight 1 and bias 0, PReLU 0.25.
    static func pytorchDefaultInit(_ expected: [String: [Int]], seed: UInt64) -> [String: Tensor] {
        var rng = SplitMix64(seed: seed)
        var out: [String: Tensor] = [:]
        for (name, shape) in expected.sorted(by: { $0.key < $1.key }) {
            let n = shape.reduce(1, *)
            let dot = name.lastIndex(of: ".") ?? name.startIndex
            let stem = String(name[..<dot]), leaf = name[dot...]
            let isBatchNorm = expected[stem + ".running_mean"] != nil
            let isLayerNorm = !isBatchNorm && stem.split(separator: ".").last?.contains("norm") == true && shape.count == 1
            var data = [Float](repeating: 0, count: n)
            if name.hasSuffix("running_var") || ((isBatchNorm || isLayerNorm) && leaf == ".weight") {
                data = [Float](repeating: 1, count: n)
            } else if isBatchNorm || isLayerNorm {
                // running_mean and the norms' biases stay 0
            } else if shape.count == 1 && leaf == ".weight" {
                data = [Float](repeating: 0.25, count: n)  // PReLU
            } else {
                let weight = shape.count >= 2 ? shape : expected[stem + ".weight"] ?? [1, 1]
                let bound = 1 / Float(max(weight.dropFirst().reduce(1, *), 1)).squareRoot()
                data = (0..<n).map { _ in (Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1) * bound }
            }
            out[name] = Tensor(shape: shape, data: data)
        }
        return out
    }

    /// A name for people: "TriPlaneNet v2 (nearest upsampling)".
    public var summary: String {
        "TriPlaneNet v\(version.rawValue)" + (version == .v2 ? " (\(upsampling.rawValue) upsampling)" : "")
    }
}
