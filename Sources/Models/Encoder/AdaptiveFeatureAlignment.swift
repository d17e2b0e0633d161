// Port of GOAE's AFA module (jiangyzy/GOAE goae/models/afa.py AFA.forward), eval mode, batch 1:
//   x = input_layer(rec − img)            conv3×3 (no bias) → BatchNorm → PReLU, on the 512² images
//   x = body(x)                           9 IR-SE units, 3 per stage, the first of each with stride 2 (get_blocks_F)
//   x = output_layer(x)                   EqualConv2d 3×3 → ScaledLeakyReLU(0.2) → EqualConv2d 3×3
//   kv = LayerNorm(x as tokens); q = LayerNorm(feature map as tokens)          (no affine parameters)
//   γ = cross_att_gamma(q, kv), β = cross_att_beta(q, kv)   → maps like the feature map
//   out = γ · feature + β
// The feature map is the generator backbone's 32² features for the W+ code; `out` replaces them.
import Foundation
import Tensors

public struct AdaptiveFeatureAlignmentArchitecture: Sendable, Equatable {
    /// get_blocks_F: 3 stages of 3 bottleneck_IR_SE units, the first with stride 2.
    public static let unitsPerStage = 3
    public static let stageCount = 3

    public var stemWidth: Int
    public var stageWidths: [Int]
    public var seHidden: [Int]
    /// The generator's channels at 32² (512 released): the output convs' and the cross-attentions' width.
    public var featureWidth: Int
    public var crossHidden: Int

    /// The released layout (afa.py: get_blocks_F widths 64 / 128 / 256, SE reduction 16, 512-wide output and
    /// cross-attentions with a 1024 feed-forward).
    public static func released() -> AdaptiveFeatureAlignmentArchitecture {
        AdaptiveFeatureAlignmentArchitecture(stemWidth: 64, stageWidths: [64, 128, 256], seHidden: [4, 4, 4, 8, 8, 8, 16, 16, 16],
                                             featureWidth: 512, crossHidden: 1024)
    }

    /// Random weights in this layout at PyTorch's default scale, for benchmarks without a checkpoint.
    public func randomWeights(seed: UInt64 = 6) -> [String: Tensor] {
        TriPlaneRefinerArchitecture.pytorchDefaultInit(expectedShapes(), seed: seed)
    }

    /// One line for listings.
    public var summary: String {
        "IR-SE \(stemWidth)/\(stageWidths.map(String.init).joined(separator: "/")) on the 512² residual, \(featureWidth)-wide cross-attention"
    }

    public var units: [EncoderArchitecture.Unit] {
        var out: [EncoderArchitecture.Unit] = []
        var inC = stemWidth
        for s in 0..<Self.stageCount {
            for j in 0..<Self.unitsPerStage {
                out.append(EncoderArchitecture.Unit(inChannels: inC, depth: stageWidths[s], stride: j == 0 ? 2 : 1,
                                                    seHidden: seHidden[out.count]))
                inC = stageWidths[s]
            }
        }
        return out
    }

    /// Every tensor of the state dict (BatchNorm's num_batches_tracked counters, which only training reads, aside).
    public func expectedShapes() -> [String: [Int]] {
        var e = EncoderArchitecture.trunkShapes(inputChannels: 3, stemWidth: stemWidth, units: units)
        let F = featureWidth
        e["output_layer.0.weight"] = [F, stageWidths.last!, 3, 3]
        e["output_layer.0.bias"] = [F]
        e["output_layer.2.weight"] = [F, F, 3, 3]
        e["output_layer.2.bias"] = [F]
        e.merge(CrossAttentionBlock.expectedShapes("cross_att_gamma", width: F, hidden: crossHidden)) { $1 }
        e.merge(CrossAttentionBlock.expectedShapes("cross_att_beta", width: F, hidden: crossHidden)) { $1 }
        return e
    }

    public func check(shapes: [String: [Int]]) -> [WeightProblem] {
        EncoderArchitecture.problems(expected: expectedShapes(), found: shapes)
    }

    public static func infer(from shapes: [String: [Int]], file: String) throws -> AdaptiveFeatureAlignmentArchitecture {
        func dim(_ name: String, _ axis: Int) throws -> Int {
            try EncoderArchitecture.dim([(name, axis)], "AFA's \(name)", shapes: shapes, file: file)
        }
        let stem = try dim("input_layer.0.weight", 0)
        var widths: [Int] = [], hidden: [Int] = []
        for i in 0..<(stageCount * unitsPerStage) {
            if i % unitsPerStage == 0 { widths.append(try dim("body.\(i).res_layer.1.weight", 0)) }
            hidden.append(try dim("body.\(i).res_layer.5.fc1.weight", 0))
        }
        let a = AdaptiveFeatureAlignmentArchitecture(stemWidth: stem, stageWidths: widths, seHidden: hidden,
                                                     featureWidth: try dim("output_layer.2.weight", 0),
                                                     crossHidden: try dim("cross_att_gamma.linear1.weight", 0))
        guard stem > 0, widths.allSatisfy({ $0 > 0 }), hidden.allSatisfy({ $0 > 0 }), a.featureWidth > 0,
              a.featureWidth % CrossAttentionBlock.heads == 0, a.crossHidden > 0 else {
            throw EncoderLoadError.cannotInferArchitecture(file: file, reason: "a width of 0, or a feature width not divisible by \(CrossAttentionBlock.heads) heads")
        }
        return a
    }
}

public struct AdaptiveFeatureAlignment: Sendable {
    /// The bundle file AFA's weights live in, beside weights.safetensors.
    public static let bundleFileName = "afa.safetensors"
    /// ScaledLeakyReLU(0.2): leaky_relu(x, 0.2) · √2.
    static let outputSlope: Float = 0.2

    public let architecture: AdaptiveFeatureAlignmentArchitecture
    public let file: String
    let inputConv: BiasedConv
    let inputNorm: BatchNorm2d
    let inputPReLU: [Float]
    let units: [BottleneckIRSE]
    let output: [BiasedConv]
    let gamma: CrossAttentionBlock
    let beta: CrossAttentionBlock
    /// The images' side (512 released: GOAE feeds AFA the 512² crop and the 512² render).
    public let side: Int

    public init(file: String, tensors: [String: Tensor], side: Int = 512, precision: Precision = .fp32) throws {
        let shapes = tensors.mapValues(\.shape)
        let a = try AdaptiveFeatureAlignmentArchitecture.infer(from: shapes, file: file)
        let problems = a.check(shapes: shapes)
        if !problems.isEmpty { throw EncoderLoadError.weights(file: file, problems: problems) }
        guard side >= 64, side % 64 == 0 else {
            throw EncoderInputError.badImageShape(found: [3, side, side], expected: [3, 512, 512])
        }
        func t(_ name: String) -> Tensor { tensors[name]! }
        architecture = a
        self.file = file
        self.side = side
        let w0 = t("input_layer.0.weight")
        inputConv = BiasedConv(w0, Tensor(zeros: [w0.shape[0]]), precision: precision)
        inputNorm = BottleneckIRSE.batchNorm(t, "input_layer.1")
        inputPReLU = t("input_layer.2.weight").data
        var s = side
        var units: [BottleneckIRSE] = []
        for (i, u) in a.units.enumerated() {
            units.append(BottleneckIRSE(tensor: t, prefix: "body.\(i)", unit: u, side: s, precision: precision))
            s = (s - 1) / u.stride + 1
        }
        self.units = units
        // EqualConv2d: conv(x, weight · 1/√(in·k²)) + bias.
        func equal(_ p: String) -> BiasedConv {
            let w = t("\(p).weight")
            let scale = 1 / Float(w.shape[1] * w.shape[2] * w.shape[3]).squareRoot()
            return BiasedConv(Tensor(shape: w.shape, data: w.data.map { $0 * scale }), t("\(p).bias"), precision: precision)
        }
        output = [equal("output_layer.0"), equal("output_layer.2")]
        gamma = CrossAttentionBlock(t, "cross_att_gamma")
        beta = CrossAttentionBlock(t, "cross_att_beta")
    }

    /// Reads `afa.safetensors` of an encoder bundle (or a .safetensors file itself).
    public init(contentsOf url: URL, precision: Precision = .fp32) throws {
        var isDir: ObjCBool = false
        let f = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
            ? url.appendingPathComponent(Self.bundleFileName) : url
        guard FileManager.default.fileExists(atPath: f.path) else { throw EncoderLoadError.notAnEncoderBundle(path: f.path) }
        try self.init(file: f.path, tensors: try SafeTensorsFile(url: f).all(), precision: precision)
    }

    /// The layout of a bundle's AFA module, checked from its header alone; nil when the bundle has none.
    public static func architecture(inBundle dir: URL) throws -> AdaptiveFeatureAlignmentArchitecture? {
        let f = dir.appendingPathComponent(bundleFileName)
        guard FileManager.default.fileExists(atPath: f.path) else { return nil }
        let shapes = try SafeTensorsFile(url: f).entries.mapValues(\.shape)
        let a = try AdaptiveFeatureAlignmentArchitecture.infer(from: shapes, file: f.path)
        let problems = a.check(shapes: shapes)
        if !problems.isEmpty { throw EncoderLoadError.weights(file: f.path, problems: problems) }
        return a
    }

    /// image, render [3, side, side] in [−1, 1]; features [F, m, m] (the backbone's at 32²) → (γ·features + β, γ, β).
    public func callAsFunction(image: Tensor, render: Tensor, features: Tensor) throws -> (out: Tensor, gamma: Tensor, beta: Tensor) {
        let expected = [3, side, side]
        guard image.count == 3 * side * side else { throw EncoderInputError.badImageShape(found: image.shape, expected: expected) }
        guard render.count == 3 * side * side else { throw EncoderInputError.badImageShape(found: render.shape, expected: expected) }
        let F = architecture.featureWidth
        guard features.shape.count == 3, features.shape[0] == F, features.shape[1] == features.shape[2] else {
            throw EncoderInputError.badImageShape(found: features.shape, expected: [F, 32, 32])
        }
        var diff = Tensor(zeros: expected)
        for i in 0..<diff.count { diff.data[i] = render.data[i] - image.data[i] }
        var x = inputConv(diff)
        x.data.withUnsafeMutableBufferPointer { inputNorm.apply($0.baseAddress!, count: side * side) }
        x.prelu(inputPReLU)
        for u in units { x = u(x) }
        x = output[0](x)
        let root2 = Float(2).squareRoot()
        for i in 0..<x.count { let v = x.data[i]; x.data[i] = (v < 0 ? v * Self.outputSlope : v) * root2 }
        x = output[1](x)
        let keys = x.shape[1] * x.shape[2], m = features.shape[1] * features.shape[2]
        let kv = LayerNormLayer(plainWidth: F)(TokenMath.transpose(x.data, rows: F, cols: keys))
        let q = LayerNormLayer(plainWidth: F)(TokenMath.transpose(features.data, rows: F, cols: m))
        let g = Tensor(shape: features.shape, data: TokenMath.transpose(gamma(q, rows: m, memory: kv, memoryRows: keys), rows: m, cols: F))
        let b = Tensor(shape: features.shape, data: TokenMath.transpose(beta(q, rows: m, memory: kv, memoryRows: keys), rows: m, cols: F))
        var out = features
        for i in 0..<out.count { out.data[i] = g.data[i] * features.data[i] + b.data[i] }
        return (out, g, b)
    }
}
