// Port of GOAE's encoder (jiangyzy/GOAE goae/training/goae.py GOAEncoder.forward at its last training stage,
// ProgressiveStage.Inference), eval mode, batch 1. With the Swin-V2's tokens x_fine (stage-1 input), x_mid,
// x_coarse, x_query (stage-4 input, transposed) and x_base (normed output, transposed):
//   base   = mapper_base_channel(mapper_base_spatial(x_base)ᵀ + maxpool(x_base)ᵀ), repeated for every style
//   query_g = mapper_query_channel_g(mapper_query_spatial_g(x_query)ᵀ + maxpool(x_query)ᵀ)     g = coarse, mid, fine
//   kv_coarse = mapper_coarse_channel(x_coarse)
//   kv_mid    = mapper_mid_channel(x_mid) + mapper_coarse_to_mid_spatial(kv_coarseᵀ)ᵀ
//   kv_fine   = mapper_fine_channel(x_fine) + mapper_mid_to_fine_spatial(kv_midᵀ)ᵀ
//   ws = base + [0 ‖ cross_att_coarse(query_coarse, kv_coarse) ‖ … mid … ‖ … fine …]   (rows 1–3, 4–6, 7–13)
// Net.forward then adds the generator's w_avg. Every mapper is get_mlp_layer(·, ·, 2) = Linear → LeakyReLU →
// Linear, or a Linear → LeakyReLU chain; LeakyReLU has PyTorch's default slope 0.01.
import Foundation
import Tensors

public struct GOAEncoderArchitecture: Sendable, Equatable {
    public var swin: SwinV2Architecture
    /// w's width (512 released).
    public var wDim: Int
    /// Styles per query group: coarse, mid, fine (3 / 3 / 7); the first style takes no delta.
    public var groupStyles: [Int]
    /// mapper_fine_channel's hidden width (256 released).
    public var fineHidden: Int
    /// mapper_coarse_to_mid_spatial's and mapper_mid_to_fine_spatial's hidden widths (512, 2048 released).
    public var spatialHidden: [Int]
    /// The cross-attentions' feed-forward width (1024 released).
    public var crossHidden: Int

    public static let groups = ["coarse", "mid", "fine"]
    /// model.json's architecture and backbone for a GOAE bundle.
    public static let name = "GOAEncoder"
    public static let backbone = "swin_v2"

    /// One line for listings: "Swin-V2 embed 128, depths 2/2/18/2, heads 4/8/16/32, windows 16, 256² input, 14 × 512 codes".
    public var summary: String {
        let s = swin
        return "Swin-V2 embed \(s.embedWidth), depths \(s.depths.map(String.init).joined(separator: "/")), heads \(s.heads.map(String.init).joined(separator: "/")), window \(s.windows.max() ?? 0), \(s.inputSide)² input, \(styleCount) × \(wDim) codes"
    }
    public static let swinPrefix = "swin_model."

    public var styleCount: Int { 1 + groupStyles.reduce(0, +) }

    /// The released layout (configs/swinv2.yaml: embed 128, depths 2/2/18/2, heads 4/8/16/32, window 16, on 256²;
    /// goae.py's mappers at w 512).
    public static func released() -> GOAEncoderArchitecture {
        let depths = [2, 2, 18, 2]
        let swin = SwinV2Architecture(inputSide: 256, patchSize: 4, embedWidth: 128, depths: depths, heads: [4, 8, 16, 32],
                                      windows: Array(repeating: 16, count: 22) + [8, 8], positionHidden: 512, mlpRatio: 4)
        return GOAEncoderArchitecture(swin: swin, wDim: 512, groupStyles: [3, 3, 7], fineHidden: 256, spatialHidden: [512, 2048],
                                      crossHidden: 1024)
    }

    /// The pretrained window sizes of configs/swinv2.yaml, which scale the released relative_coords_table.
    public static let releasedPretrainedWindows = [12, 12, 12, 6]

    /// Random weights in this layout at PyTorch's default scale (logit scales log 10 and the relative coordinate
    /// tables as WindowAttention builds them), for benchmarks without a checkpoint.
    public func randomWeights(seed: UInt64 = 5, pretrainedWindows: [Int] = releasedPretrainedWindows) -> [String: Tensor] {
        var t = TriPlaneRefinerArchitecture.pytorchDefaultInit(expectedShapes(), seed: seed)
        var block = 0
        for st in 0..<swin.stageCount {
            for j in 0..<swin.depths[st] {
                let b = "\(Self.swinPrefix)layers.\(st).blocks.\(j).attn."
                let w = swin.windows[block], side = 2 * w - 1
                block += 1
                t[b + "logit_scale"] = Tensor(shape: [swin.heads[st], 1, 1], data: Array(repeating: logf(10), count: swin.heads[st]))
                t[b + "relative_coords_table"] = Tensor(shape: [1, side, side, 2],
                                                        data: SwinV2Architecture.relativeCoordsTable(window: w, pretrained: pretrainedWindows[st]))
            }
        }
        return t
    }

    /// Floating-point operations of one forward (2 per multiply-add): the Swin's linears and window attention, the
    /// mappers and the cross-attentions.
    public var flopsPerImage: Double {
        let s = swin, W = wDim
        var macs = 0.0
        func linear(_ rows: Int, _ i: Int, _ o: Int) { macs += Double(rows) * Double(i) * Double(o) }
        let tokens = (0..<s.stageCount).map { s.side(ofStage: $0) * s.side(ofStage: $0) }
        linear(tokens[0], 3 * s.patchSize * s.patchSize, s.embedWidth)
        var block = 0
        for st in 0..<s.stageCount {
            let C = s.width(ofStage: st), L = tokens[st]
            for _ in 0..<s.depths[st] {
                let n = s.windows[block] * s.windows[block]
                block += 1
                linear(L, C, 3 * C)
                macs += 2 * Double(L) * Double(n) * Double(C)  // q·kᵀ and attention·v over each window
                linear(L, C, C)
                linear(L, C, s.mlpRatio * C)
                linear(L, s.mlpRatio * C, C)
            }
            if st < s.stageCount - 1 { linear(tokens[st] / 4, 4 * C, 2 * C) }
        }
        let T = s.lastTokens, top = s.width(ofStage: s.stageCount - 1)
        for n in [1] + groupStyles {
            linear(top, T, T); linear(top, T, n); linear(n, top, top); linear(n, top, W)
        }
        linear(tokens[2], s.width(ofStage: 2), W)
        linear(tokens[1], s.width(ofStage: 1), W)
        linear(W, tokens[2], spatialHidden[0]); linear(W, spatialHidden[0], tokens[1])
        linear(tokens[0], s.width(ofStage: 0), fineHidden); linear(tokens[0], fineHidden, W)
        linear(W, tokens[1], spatialHidden[1]); linear(W, spatialHidden[1], tokens[0])
        for (n, m) in zip(groupStyles, [tokens[2], tokens[1], tokens[0]]) {
            linear(n, W, W); linear(m, W, 2 * W)                // q; k and v
            macs += 2 * Double(n) * Double(m) * Double(W)      // scores and attention·v
            linear(n, W, W); linear(n, W, crossHidden); linear(n, crossHidden, W)
        }
        return 2 * macs
    }

    /// Every tensor of the state dict (GOAE's encoder_FFHQ.pt), Swin's buffers aside.
    public func expectedShapes() -> [String: [Int]] {
        var e = swin.expectedShapes(prefix: Self.swinPrefix)
        let s = swin, T = s.lastTokens, top = s.width(ofStage: s.stageCount - 1), W = wDim
        let tokens = (0..<s.stageCount).map { s.side(ofStage: $0) * s.side(ofStage: $0) }
        func linear(_ name: String, _ o: Int, _ i: Int) { e[name + ".weight"] = [o, i]; e[name + ".bias"] = [o] }
        linear("mapper_base_spatial.0", T, T)
        linear("mapper_base_spatial.2", 1, T)
        linear("mapper_base_channel.0", top, top)
        linear("mapper_base_channel.2", W, top)
        for (g, n) in zip(Self.groups, groupStyles) {
            linear("mapper_query_spatial_\(g).0", T, T)
            linear("mapper_query_spatial_\(g).2", n, T)
            linear("mapper_query_channel_\(g).0", top, top)
            linear("mapper_query_channel_\(g).2", W, top)
            e.merge(CrossAttentionBlock.expectedShapes("cross_att_\(g)", width: W, hidden: crossHidden)) { $1 }
        }
        linear("mapper_coarse_channel.0", W, s.width(ofStage: 2))
        linear("mapper_mid_channel.0", W, s.width(ofStage: 1))
        linear("mapper_fine_channel.0", fineHidden, s.width(ofStage: 0))
        linear("mapper_fine_channel.2", W, fineHidden)
        linear("mapper_coarse_to_mid_spatial.0", spatialHidden[0], tokens[2])
        linear("mapper_coarse_to_mid_spatial.2", tokens[1], spatialHidden[0])
        linear("mapper_mid_to_fine_spatial.0", spatialHidden[1], tokens[1])
        linear("mapper_mid_to_fine_spatial.2", tokens[0], spatialHidden[1])
        return e
    }

    /// Missing, unexpected and mis-shaped tensors; the Swin's derived buffers may be present or not.
    public func check(shapes: [String: [Int]]) -> [WeightProblem] {
        let buffers = swin.bufferShapes(prefix: Self.swinPrefix)
        var found = shapes
        for (name, shape) in buffers where found[name] == shape { found[name] = nil }
        return EncoderArchitecture.problems(expected: expectedShapes(), found: found)
    }

    /// Reads the layout off the shapes. The input side follows from the base mapper's token count
    /// (64 = 8² tokens after 4 stages of a 256² input in patches of 4).
    public static func infer(from shapes: [String: [Int]], file: String) throws -> GOAEncoderArchitecture {
        func dim(_ name: String, _ axis: Int) throws -> Int {
            try EncoderArchitecture.dim([(name, axis)], "GOAE's \(name.split(separator: ".").first ?? "")", shapes: shapes, file: file)
        }
        guard shapes["\(swinPrefix)patch_embed.proj.weight"] != nil else {
            throw EncoderLoadError.cannotInferArchitecture(file: file, reason: "a GOAE encoder has 'swin_model.patch_embed.proj.weight'; it is absent")
        }
        let T = try dim("mapper_base_spatial.0.weight", 0)
        let lastSide = Int(Double(T).squareRoot().rounded())
        guard lastSide > 0, lastSide * lastSide == T else {
            throw EncoderLoadError.cannotInferArchitecture(file: file, reason: "mapper_base_spatial takes \(T) tokens, not a square map")
        }
        var stages = 0
        while shapes["\(swinPrefix)layers.\(stages).blocks.0.norm1.weight"] != nil { stages += 1 }
        let patch = shapes["\(swinPrefix)patch_embed.proj.weight"].map { $0.count == 4 ? $0[2] : 0 } ?? 0
        guard stages >= 2, stages <= 6, patch > 0, patch <= 64 else {
            throw EncoderLoadError.cannotInferArchitecture(file: file, reason: "the Swin-V2 has \(stages) stages and patches of \(patch)")
        }
        let swin = try SwinV2Architecture.infer(from: shapes, prefix: swinPrefix, inputSide: (lastSide * patch) << (stages - 1), file: file)
        guard swin.stageCount == 4 else {
            throw EncoderLoadError.cannotInferArchitecture(file: file, reason: "GOAE reads 4 Swin stages; this one has \(swin.stageCount)")
        }
        let a = GOAEncoderArchitecture(
            swin: swin, wDim: try dim("mapper_base_channel.2.weight", 0),
            groupStyles: try groups.map { try dim("mapper_query_spatial_\($0).2.weight", 0) },
            fineHidden: try dim("mapper_fine_channel.0.weight", 0),
            spatialHidden: [try dim("mapper_coarse_to_mid_spatial.0.weight", 0), try dim("mapper_mid_to_fine_spatial.0.weight", 0)],
            crossHidden: try dim("cross_att_coarse.linear1.weight", 0))
        guard a.wDim > 0, a.wDim % CrossAttentionBlock.heads == 0, a.groupStyles.allSatisfy({ $0 > 0 }), a.fineHidden > 0,
              a.spatialHidden.allSatisfy({ $0 > 0 }), a.crossHidden > 0 else {
            throw EncoderLoadError.cannotInferArchitecture(file: file, reason: "a width of 0, or w (\(a.wDim)) not divisible by \(CrossAttentionBlock.heads) heads")
        }
        return a
    }
}

public struct GOAEncoder: Sendable {
    public let architecture: GOAEncoderArchitecture
    public let file: String
    let swin: SwinV2
    let baseSpatial: [DenseLayer]
    let baseChannel: [DenseLayer]
    let querySpatial: [[DenseLayer]]
    let queryChannel: [[DenseLayer]]
    let crossAttention: [CrossAttentionBlock]
    let coarseChannel: DenseLayer
    let midChannel: DenseLayer
    let fineChannel: [DenseLayer]
    let coarseToMid: [DenseLayer]
    let midToFine: [DenseLayer]

    /// What Net.forward adds to the codes ([styles, w], the generator's w_avg on every row), when the bundle holds it.
    public let latentAverage: Tensor?

    /// - tensors: GOAE's encoder state dict (official names), plus `latent_avg` in a bundle; every tensor is checked.
    public init(file: String, tensors all: [String: Tensor]) throws {
        var tensors = all
        let latent = tensors.removeValue(forKey: "latent_avg")
        let shapes = tensors.mapValues(\.shape)
        let a = try GOAEncoderArchitecture.infer(from: shapes, file: file)
        let problems = a.check(shapes: shapes)
        if !problems.isEmpty { throw EncoderLoadError.weights(file: file, problems: problems) }
        if let latent, latent.shape != [a.styleCount, a.wDim] {
            throw EncoderLoadError.weights(file: file, problems: [.misshaped(name: "latent_avg", expected: [a.styleCount, a.wDim], found: latent.shape)])
        }
        latentAverage = latent
        architecture = a
        self.file = file
        func t(_ name: String) -> Tensor { tensors[name]! }
        func mlp(_ p: String) -> [DenseLayer] { [DenseLayer(t, "\(p).0"), DenseLayer(t, "\(p).2")] }
        swin = try SwinV2(architecture: a.swin, prefix: GOAEncoderArchitecture.swinPrefix, file: file, tensor: t, buffer: { tensors[$0] })
        baseSpatial = mlp("mapper_base_spatial")
        baseChannel = mlp("mapper_base_channel")
        querySpatial = GOAEncoderArchitecture.groups.map { mlp("mapper_query_spatial_\($0)") }
        queryChannel = GOAEncoderArchitecture.groups.map { mlp("mapper_query_channel_\($0)") }
        crossAttention = GOAEncoderArchitecture.groups.map { CrossAttentionBlock(t, "cross_att_\($0)") }
        coarseChannel = DenseLayer(t, "mapper_coarse_channel.0")
        midChannel = DenseLayer(t, "mapper_mid_channel.0")
        fineChannel = mlp("mapper_fine_channel")
        coarseToMid = mlp("mapper_coarse_to_mid_spatial")
        midToFine = mlp("mapper_mid_to_fine_spatial")
    }

    /// Reads an encoder bundle's weights.safetensors (or a .safetensors file itself).
    public init(contentsOf url: URL) throws {
        var isDir: ObjCBool = false
        let f = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
            ? url.appendingPathComponent("weights.safetensors") : url
        guard FileManager.default.fileExists(atPath: f.path) else { throw EncoderLoadError.notAnEncoderBundle(path: f.path) }
        try self.init(file: f.path, tensors: try SafeTensorsFile(url: f).all())
    }

    /// The layout of a bundle's encoder, checked from its weights' header alone.
    public static func architecture(inBundle dir: URL) throws -> GOAEncoderArchitecture {
        let f = dir.appendingPathComponent("weights.safetensors")
        var shapes = try SafeTensorsFile(url: f).entries.mapValues(\.shape)
        let latent = shapes.removeValue(forKey: "latent_avg")
        let a = try GOAEncoderArchitecture.infer(from: shapes, file: f.path)
        var problems = a.check(shapes: shapes)
        // A bundle's codes need the latent average the importer writes (the generator's w_avg, as GOAE's Net adds it).
        if latent != [a.styleCount, a.wDim] {
            problems.append(latent.map { .misshaped(name: "latent_avg", expected: [a.styleCount, a.wDim], found: $0) }
                            ?? .missing(name: "latent_avg", expected: [a.styleCount, a.wDim]))
        }
        if !problems.isEmpty { throw EncoderLoadError.weights(file: f.path, problems: problems) }
        return a
    }

    public var inputSide: Int { architecture.swin.inputSide }

    /// Linear → LeakyReLU → Linear (get_mlp_layer); `trailing` adds the LeakyReLU the Sequential mappers end with.
    static func run(_ layers: [DenseLayer], _ x: [Float], rows: Int, trailing: Bool = false) -> [Float] {
        var y = x
        for (i, l) in layers.enumerated() {
            y = l(y, rows: rows)
            if i < layers.count - 1 || trailing { TokenMath.leakyReLU(&y) }
        }
        return y
    }

    /// The W+ codes before w_avg [styles, w] and the base code repeated [styles, w] (GOAEncoder.forward's ws and
    /// ws_base) for image [3, S, S] in [−1, 1].
    public func encode(_ image: Tensor) throws -> (codes: Tensor, base: Tensor) {
        var shape = image.shape
        if shape.count == 4 && shape[0] == 1 { shape.removeFirst() }
        guard shape == [3, inputSide, inputSide] else { throw EncoderInputError.badImageShape(found: image.shape, expected: [3, inputSide, inputSide]) }
        let a = architecture, s = a.swin, W = a.wDim
        let f = swin(image.reshaped(shape))
        let T = s.lastTokens, top = s.width(ofStage: s.stageCount - 1)
        let tokens = (0..<s.stageCount).map { s.side(ofStage: $0) * s.side(ofStage: $0) }
        // [T, top] token rows → [top, T] (the transposes GOAE applies) and each channel's maximum over the tokens,
        // made once per map: the three query groups read the same x_query.
        func transposed(_ x: [Float]) -> (xt: [Float], maxima: [Float]) {
            let xt = TokenMath.transpose(x, rows: T, cols: top)
            var maxima = [Float](repeating: -.infinity, count: top)
            for c in 0..<top { for k in 0..<T { maxima[c] = max(maxima[c], xt[c * T + k]) } }
            return (xt, maxima)
        }
        // The spatial mapper over the token axis, plus the maxima, then the channel mapper.
        func pooled(_ x: (xt: [Float], maxima: [Float]), spatial: [DenseLayer], channel: [DenseLayer]) -> [Float] {
            let n = spatial[1].outFeatures
            var y = TokenMath.transpose(Self.run(spatial, x.xt, rows: top), rows: top, cols: n)  // [n, top]
            for r in 0..<n { for c in 0..<top { y[r * top + c] += x.maxima[c] } }
            return Self.run(channel, y, rows: n)
        }
        let base = pooled(transposed(f.output), spatial: baseSpatial, channel: baseChannel)
        let query = transposed(f.stageInputs[3])
        let kvCoarse = Self.run([coarseChannel], f.stageInputs[2], rows: tokens[2], trailing: true)
        var kvMid = Self.run([midChannel], f.stageInputs[1], rows: tokens[1], trailing: true)
        TokenMath.add(&kvMid, TokenMath.transpose(
            Self.run(coarseToMid, TokenMath.transpose(kvCoarse, rows: tokens[2], cols: W), rows: W, trailing: true), rows: W, cols: tokens[1]))
        var kvFine = Self.run(fineChannel, f.stageInputs[0], rows: tokens[0], trailing: true)
        TokenMath.add(&kvFine, TokenMath.transpose(
            Self.run(midToFine, TokenMath.transpose(kvMid, rows: tokens[1], cols: W), rows: W, trailing: true), rows: W, cols: tokens[0]))
        let memories = [(kvCoarse, tokens[2]), (kvMid, tokens[1]), (kvFine, tokens[0])]
        var codes = [Float](repeating: 0, count: a.styleCount * W)
        var baseRows = [Float](repeating: 0, count: a.styleCount * W)
        for r in 0..<a.styleCount { for c in 0..<W { codes[r * W + c] = base[c]; baseRows[r * W + c] = base[c] } }
        var row = 1
        for g in 0..<3 {
            let n = a.groupStyles[g]
            let q = pooled(query, spatial: querySpatial[g], channel: queryChannel[g])
            let delta = crossAttention[g](q, rows: n, memory: memories[g].0, memoryRows: memories[g].1)
            for i in 0..<(n * W) { codes[row * W + i] += delta[i] }
            row += n
        }
        return (Tensor(shape: [a.styleCount, W], data: codes), Tensor(shape: [a.styleCount, W], data: baseRows))
    }
}
