// The built-in demo model family: a source generator, an e4e encoder and two style generators with the
// real architectures at a reduced width and resolution, made from fixed seeds so every machine builds
// the same bytes. Their weights are untrained: the pictures are abstract. They exist so the whole
// pipeline runs out of the box (and fast); real models are converted with tools/convert_eg3d.py and
// tools/convert_e4e.py.
import Foundation
import Tensors

public enum DemoModelFamily {
    /// Bump when the recipe changes, so old caches are not reused.
    public static let version = "demo-v2"
    public static let notice = """
        using the built-in demo models: their weights are untrained, so the avatars are abstract \
        patterns, not faces. Convert real EG3D and e4e checkpoints with tools/convert_eg3d.py and \
        tools/convert_e4e.py (see README) and pass them with --model/--encoder/--style.
        """

    /// Style names of the demo family (each a style generator in the same W space as the source).
    public static let styles = ["sketch", "poster"]

    public struct Paths: Sendable {
        public var source: URL
        public var encoder: URL
        public var styles: [String: URL]
    }

    /// Where the family is cached: $AVATARIZE_CACHE, else $XDG_CACHE_HOME/avatarize, else ~/.cache/avatarize.
    public static func cacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        let base: URL
        if let c = environment["AVATARIZE_CACHE"], !c.isEmpty {
            base = URL(fileURLWithPath: c)
        } else if let x = environment["XDG_CACHE_HOME"], !x.isEmpty {
            base = URL(fileURLWithPath: x).appendingPathComponent("avatarize")
        } else {
            base = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/avatarize")
        }
        return base.appendingPathComponent(version)
    }

    /// The demo generator: the EG3D layout (mapping, StyleGAN2 backbone to 96-channel tri-planes, OSG
    /// decoder, 8XDC-shaped super-resolution) with w 32, channels 32, 64² planes and 64² rays with 16 + 16
    /// samples each → 256² images.
    public static func generatorArchitecture() -> GeneratorArchitecture {
        var blocks: [BlockSpec] = []
        var res = 4, prev = 0
        while res <= 64 {
            blocks.append(BlockSpec(prefix: "backbone.synthesis.b\(res)", resolution: res, inChannels: prev,
                                    outChannels: 32, imgChannels: 96, hasNoise: true))
            prev = 32
            res *= 2
        }
        let sr = [
            BlockSpec(prefix: "superresolution.block0", resolution: 128, inChannels: 32, outChannels: 32, imgChannels: 3, hasNoise: true),
            BlockSpec(prefix: "superresolution.block1", resolution: 256, inChannels: 32, outChannels: 16, imgChannels: 3, hasNoise: true),
        ]
        return GeneratorArchitecture(zDim: 32, cDim: 25, wDim: 32, mappingLayers: 2, backbone: blocks,
                                     superresolution: sr, decoderHidden: 64, decoderOutput: 32)
    }

    public static func generatorOptions() -> GeneratorOptions {
        var o = GeneratorOptions()
        o.neuralRenderingResolution = 64
        o.rendering.depthResolution = 16
        o.rendering.depthResolutionImportance = 16
        return o
    }

    /// The demo encoder: IR-SE50 with widths 4 / 8 / 16 / 32 (the released ones ÷ 16) and w 32, one style
    /// per w the demo generator takes (10: its backbone stops at 64²).
    public static func encoderArchitecture() -> EncoderArchitecture {
        let widths = [4, 8, 16, 32]
        var hidden: [Int] = []
        for (s, n) in EncoderArchitecture.unitsPerStage.enumerated() { hidden += Array(repeating: max(1, widths[s] / 8), count: n) }
        return EncoderArchitecture(stemWidth: 4, stageWidths: widths, seHidden: hidden,
                                   styleCount: generatorArchitecture().numWs, styleWidth: 32)
    }

    /// Source generator weights (seed 1). Weights are scaled so activations stay in a useful range.
    static func sourceWeights() -> Weights {
        let w = Weights.random(generatorArchitecture(), seed: 1)
        var t = w.tensors
        // At the reference initialisation the decoder's densities stay near zero and the volume renders as
        // empty space; larger decoder weights give the untrained field visible 3-D structure to look at.
        for (name, gain) in [("decoder.net.0.weight", Float(3)), ("decoder.net.2.weight", Float(4))] {
            if var x = t[name] { x.data = x.data.map { $0 * gain }; t[name] = x }
        }
        // Give the mapping a non-zero average w (the encoder adds latent_avg, the generator truncates toward it).
        if let avg = t["backbone.mapping.w_avg"] {
            var rng = SplitMix64(seed: 11)
            t["backbone.mapping.w_avg"] = Tensor(shape: avg.shape, data: avg.data.map { _ in rng.gaussian() * 0.5 })
        }
        return Weights(file: "<demo source generator>", tensors: t)
    }

    /// A style generator: the source's mapping (so W means the same person) with its early-layer affine
    /// biases offset (Δs on the coarse layers, as the method's adaptation learns) and its later synthesis,
    /// decoder and super-resolution weights changed (the style's appearance).
    static func styleWeights(_ source: Weights, style: Int) -> Weights {
        var rng = SplitMix64(seed: 100 + UInt64(style))
        var t = source.tensors
        for name in t.keys.sorted() {
            guard var x = t[name] else { continue }
            let early = ["b4.", "b8.", "b16."].contains { name.contains("backbone.synthesis.\($0)") }
            if early && name.hasSuffix("affine.bias") {
                x.data = x.data.map { $0 + 0.5 * rng.gaussian() }
            } else if !early && (name.hasPrefix("backbone.synthesis") || name.hasPrefix("decoder") || name.hasPrefix("superresolution")),
                      name.hasSuffix(".weight") && !name.hasSuffix("affine.weight") {
                // Noise at the tensor's own scale, so each layer keeps its gain.
                let rms = (x.data.reduce(0) { $0 + $1 * $1 } / Float(max(1, x.count))).squareRoot()
                x.data = x.data.map { 0.8 * $0 + 0.6 * rms * rng.gaussian() }
            }
            t[name] = x
        }
        return Weights(file: "<demo style \(styles[style])>", tensors: t)
    }

    /// Makes the family in `directory` if it is not there yet, and returns where each bundle is. Each bundle
    /// is written to a temporary folder and renamed into place, so an interrupted first run leaves nothing
    /// half-made and concurrent workers agree on the result.
    public static func ensure(in directory: URL = cacheDirectory()) throws -> Paths {
        let paths = Paths(source: directory.appendingPathComponent("source"),
                          encoder: directory.appendingPathComponent("encoder"),
                          styles: Dictionary(uniqueKeysWithValues: styles.map { ($0, directory.appendingPathComponent("style-\($0)")) }))
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ModelError.badManifest(file: directory.path, reason: "cannot create the demo model cache (\(error.localizedDescription))")
        }
        var source: Weights?
        func sourceOnce() -> Weights {
            if let s = source { return s }
            let s = sourceWeights(); source = s; return s
        }
        let options = generatorOptions()
        if !fm.fileExists(atPath: paths.source.path) {
            var m = GeneratorManifest()
            m.name = "demo-source"; m.role = "source generator"; m.style = "photo"
            m.description = "avatarize demo source generator (untrained, seed 1)"
            m.architecture = options
            m.provenance = "made by avatarize from fixed seeds (\(version))"; m.license = "untrained weights generated by avatarize; no third-party material"
            try writeBundle(at: paths.source, manifest: try JSONEncoder.sorted.encode(m), tensors: sourceOnce().tensors)
        }
        for (i, name) in styles.enumerated() where !fm.fileExists(atPath: paths.styles[name]!.path) {
            var m = GeneratorManifest()
            m.name = "demo-\(name)"; m.role = "style generator"; m.style = name
            m.description = "avatarize demo style '\(name)' (untrained; same W space as demo-source)"
            m.architecture = options
            m.camera.pivot = [0, 0.05, 0.17]   // look-at point found for artistic styles (3DAvatarGAN, Abdal et al. 2023, camera alignment)
            m.provenance = "made by avatarize from fixed seeds (\(version))"; m.license = "untrained weights generated by avatarize; no third-party material"
            try writeBundle(at: paths.styles[name]!, manifest: try JSONEncoder.sorted.encode(m), tensors: styleWeights(sourceOnce(), style: i).tensors)
        }
        if !fm.fileExists(atPath: paths.encoder.path) {
            let manifest: [String: Any] = ["kind": EncoderManifest.kind, "architecture": "Encoder4Editing", "backbone": "ir_se50",
                                           "style_count": encoderArchitecture().styleCount, "w_dim": 32, "input_size": 256, "name": "demo-encoder",
                                           "source": "made by avatarize from fixed seeds (\(version)); untrained"]
            let w = EncoderWeights.random(encoderArchitecture(), seed: 2)
            var t = w.tensors
            // latent_avg = the source generator's w_avg, as e4e is trained to centre on it.
            if let avg = sourceOnce().tensors["backbone.mapping.w_avg"] {
                let n = encoderArchitecture().styleCount
                t["latent_avg"] = Tensor(shape: [n, avg.count], data: Array((0..<n).map { _ in avg.data }.joined()))
            }
            try writeBundle(at: paths.encoder, manifest: try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys, .prettyPrinted]), tensors: t)
        }
        return paths
    }

    static func writeBundle(at url: URL, manifest: Data, tensors: [String: Tensor]) throws {
        let fm = FileManager.default
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
            try manifest.write(to: tmp.appendingPathComponent(ModelBundle.manifestName))
            try SafeTensorsWriter.write(tensors, to: tmp.appendingPathComponent(ModelBundle.weightsName),
                                        metadata: ["format": "pt", "avatarize": version])
            if rename(tmp.path, url.path) != 0 {
                // Another process made it first (rename onto a non-empty folder fails): keep theirs.
                try? fm.removeItem(at: tmp)
                guard fm.fileExists(atPath: url.path) else {
                    throw ModelError.badManifest(file: url.path, reason: "cannot write the model bundle (\(String(cString: strerror(errno))))")
                }
            }
        } catch {
            try? fm.removeItem(at: tmp)
            throw error
        }
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return e
    }
}
