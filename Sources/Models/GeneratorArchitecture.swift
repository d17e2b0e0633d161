// The shape of an EG3D TriPlaneGenerator (training/triplane.py), read off a state dict's tensor shapes,
// and the full list of official keys with the shape each must have.

/// One StyleGAN2 synthesis block (networks_stylegan2.py SynthesisBlock, 'skip' architecture).
public struct BlockSpec: Sendable, Equatable {
    /// Official key prefix, e.g. "backbone.synthesis.b64" or "superresolution.block0".
    public var prefix: String
    public var resolution: Int
    /// 0 for the first backbone block (it starts from a learned constant).
    public var inChannels: Int
    public var outChannels: Int
    public var imgChannels: Int
    public var hasNoise: Bool
    public var numConv: Int { inChannels == 0 ? 1 : 2 }
}

public struct GeneratorArchitecture: Sendable, Equatable {
    public var zDim: Int
    public var cDim: Int
    public var wDim: Int
    public var mappingLayers: Int
    public var backbone: [BlockSpec]
    public var superresolution: [BlockSpec]
    public var decoderHidden: Int
    /// Decoder output features besides density (32: 3 colours + 29 SR features).
    public var decoderOutput: Int
    public var kernelSize: Int = 3
    public var filterSize: Int = 4

    /// Number of w vectors the synthesis network consumes (14 for ffhq512-128).
    public var numWs: Int { backbone.reduce(0) { $0 + $1.numConv } + 1 }
    /// Tri-plane channels per plane (backbone output channels / 3).
    public var planeChannels: Int { (backbone.last?.imgChannels ?? 0) / 3 }
    public var planeResolution: Int { backbone.last?.resolution ?? 0 }
    public var imageResolution: Int { superresolution.last?.resolution ?? 0 }

    /// The released ffhq512-128 generator (channel_base 32768); `channelMax` 512 gives the full model,
    /// 32 the narrow parity fixture.
    public static func ffhq512(channelMax: Int = 512, renderingResolution: Int = 128) -> GeneratorArchitecture {
        var blocks: [BlockSpec] = []
        var res = 4, prev = 0
        while res <= 256 {
            let ch = min(32768 / res, channelMax)
            blocks.append(BlockSpec(prefix: "backbone.synthesis.b\(res)", resolution: res, inChannels: prev,
                                    outChannels: ch, imgChannels: 96, hasNoise: true))
            prev = ch
            res *= 2
        }
        let sr = [
            BlockSpec(prefix: "superresolution.block0", resolution: renderingResolution * 2, inChannels: 32,
                      outChannels: 256, imgChannels: 3, hasNoise: true),
            BlockSpec(prefix: "superresolution.block1", resolution: renderingResolution * 4, inChannels: 256,
                      outChannels: 128, imgChannels: 3, hasNoise: true),
        ]
        return GeneratorArchitecture(zDim: 512, cDim: 25, wDim: 512, mappingLayers: 2, backbone: blocks,
                                     superresolution: sr, decoderHidden: 64, decoderOutput: 32)
    }

    /// Reads the architecture from tensor shapes (`shapes[name]`); `file` names the source in errors.
    /// The super-resolution's input side is `superresolutionInput` when given, else read off its first
    /// noise buffer (8XDC sizes its blocks for 128² whatever the rendering resolution), else the
    /// rendering resolution.
    public static func infer(shapes: [String: [Int]], renderingResolution: Int, superresolutionInput: Int? = nil,
                             file: String) throws -> GeneratorArchitecture {
        func need(_ name: String, rank: Int) throws -> [Int] {
            guard let s = shapes[name] else {
                throw ModelError.cannotInferArchitecture(file: file, reason: "tensor '\(name)' is missing")
            }
            guard s.count == rank else {
                throw ModelError.cannotInferArchitecture(file: file, reason: "tensor '\(name)' has shape \(s), expected rank \(rank)")
            }
            return s
        }
        // Mapping network: embed [w, c], fc0 [w, z + w], …, fcN−1 [w, w].
        var layers = 0
        while shapes["backbone.mapping.fc\(layers).weight"] != nil { layers += 1 }
        guard layers > 0 else { throw ModelError.cannotInferArchitecture(file: file, reason: "no backbone.mapping.fc0.weight") }
        let embed = try need("backbone.mapping.embed.weight", rank: 2)
        let fc0 = try need("backbone.mapping.fc0.weight", rank: 2)
        let last = try need("backbone.mapping.fc\(layers - 1).weight", rank: 2)
        let wDim = last[0]
        let zDim = fc0[1] - embed[0]
        // Backbone blocks b4, b8, … while present.
        var blocks: [BlockSpec] = []
        var res = 4, prev = 0
        var kernel = 3
        while shapes["backbone.synthesis.b\(res).conv1.weight"] != nil {
            let p = "backbone.synthesis.b\(res)"
            let conv1 = try need("\(p).conv1.weight", rank: 4)
            let torgb = try need("\(p).torgb.weight", rank: 4)
            kernel = conv1[2]
            blocks.append(BlockSpec(prefix: p, resolution: res, inChannels: prev, outChannels: conv1[0],
                                    imgChannels: torgb[0], hasNoise: shapes["\(p).conv1.noise_const"] != nil))
            prev = conv1[0]
            res *= 2
        }
        guard !blocks.isEmpty else { throw ModelError.cannotInferArchitecture(file: file, reason: "no backbone.synthesis.b4 block") }
        guard blocks.last!.imgChannels % 3 == 0 else {
            throw ModelError.cannotInferArchitecture(file: file, reason: "backbone output channels \(blocks.last!.imgChannels) are not 3 planes")
        }
        let dec0 = try need("decoder.net.0.weight", rank: 2)
        let dec2 = try need("decoder.net.2.weight", rank: 2)
        var sr: [BlockSpec] = []
        var srIn = dec2[0] - 1
        var srRes = renderingResolution * 2
        if let r = superresolutionInput {
            srRes = 2 * r
        } else if let n = shapes["superresolution.block0.conv0.noise_const"] ?? shapes["superresolution.block0.conv1.noise_const"],
                  n.count == 2, n[0] == n[1], n[0] >= 2 {
            srRes = n[0]
        }
        while shapes["superresolution.block\(sr.count).conv1.weight"] != nil {
            let p = "superresolution.block\(sr.count)"
            let conv1 = try need("\(p).conv1.weight", rank: 4)
            let torgb = try need("\(p).torgb.weight", rank: 4)
            sr.append(BlockSpec(prefix: p, resolution: srRes, inChannels: srIn, outChannels: conv1[0],
                                imgChannels: torgb[0], hasNoise: shapes["\(p).conv1.noise_const"] != nil))
            srIn = conv1[0]
            srRes *= 2
        }
        guard !sr.isEmpty else { throw ModelError.cannotInferArchitecture(file: file, reason: "no superresolution.block0") }
        var arch = GeneratorArchitecture(zDim: zDim, cDim: embed[1], wDim: wDim, mappingLayers: layers, backbone: blocks,
                                         superresolution: sr, decoderHidden: dec0[0], decoderOutput: dec2[0] - 1)
        arch.kernelSize = kernel
        if let f = shapes["backbone.synthesis.b4.resample_filter"], f.count == 2 { arch.filterSize = f[0] }
        return arch
    }

    /// Every official state-dict key with its shape, in a stable order.
    public func expectedShapes() -> [(String, [Int])] {
        var out: [(String, [Int])] = []
        let f = [filterSize, filterSize], k = kernelSize
        func layer(_ p: String, inC: Int, outC: Int, res: Int, noise: Bool) {
            out.append(("\(p).weight", [outC, inC, k, k]))
            if noise { out.append(("\(p).noise_strength", [])) }
            out.append(("\(p).bias", [outC]))
            out.append(("\(p).resample_filter", f))
            if noise { out.append(("\(p).noise_const", [res, res])) }
            out.append(("\(p).affine.weight", [inC, wDim]))
            out.append(("\(p).affine.bias", [inC]))
        }
        func block(_ b: BlockSpec) {
            if b.inChannels == 0 { out.append(("\(b.prefix).const", [b.outChannels, b.resolution, b.resolution])) }
            out.append(("\(b.prefix).resample_filter", f))
            if b.inChannels != 0 { layer("\(b.prefix).conv0", inC: b.inChannels, outC: b.outChannels, res: b.resolution, noise: b.hasNoise) }
            layer("\(b.prefix).conv1", inC: b.outChannels, outC: b.outChannels, res: b.resolution, noise: b.hasNoise)
            out.append(("\(b.prefix).torgb.weight", [b.imgChannels, b.outChannels, 1, 1]))
            out.append(("\(b.prefix).torgb.bias", [b.imgChannels]))
            out.append(("\(b.prefix).torgb.affine.weight", [b.outChannels, wDim]))
            out.append(("\(b.prefix).torgb.affine.bias", [b.outChannels]))
        }
        backbone.forEach(block)
        out.append(("backbone.mapping.w_avg", [wDim]))
        out.append(("backbone.mapping.embed.weight", [wDim, cDim]))
        out.append(("backbone.mapping.embed.bias", [wDim]))
        for i in 0..<mappingLayers {
            out.append(("backbone.mapping.fc\(i).weight", [wDim, i == 0 ? zDim + wDim : wDim]))
            out.append(("backbone.mapping.fc\(i).bias", [wDim]))
        }
        superresolution.forEach(block)
        out.append(("decoder.net.0.weight", [decoderHidden, planeChannels]))
        out.append(("decoder.net.0.bias", [decoderHidden]))
        out.append(("decoder.net.2.weight", [decoderOutput + 1, decoderHidden]))
        out.append(("decoder.net.2.bias", [decoderOutput + 1]))
        return out
    }

    /// Compares actual shapes with `expectedShapes()`; returns every problem (empty when all match).
    public func check(shapes: [String: [Int]]) -> [WeightProblem] {
        var problems: [WeightProblem] = []
        var expectedNames = Set<String>()
        for (name, shape) in expectedShapes() {
            expectedNames.insert(name)
            guard let found = shapes[name] else { problems.append(.missing(name: name, expected: shape)); continue }
            if found != shape { problems.append(.misshaped(name: name, expected: shape, found: found)) }
        }
        for name in shapes.keys.sorted() where !expectedNames.contains(name) {
            problems.append(.unexpected(name: name, shape: shapes[name]!))
        }
        return problems
    }
}
