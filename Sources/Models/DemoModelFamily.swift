// The built-in demo model family: a source generator, an e4e encoder and three style generators with the
// real architectures at a reduced width and resolution, fitted by tools/fit_demo/ to a procedural cartoon
// head (not trained on faces): W holds the head's parameters (mouth open, smile, each eye's blink, brows,
// head width, jaw, nose, skin, hair) along fixed directions, shipped in directions/demo/. The fitted
// bundles ship as resources of this module (DemoModels/), so every build finds them wherever it runs.
// Real models are imported with `avatarize models import`.
import Foundation
import Tensors

public enum DemoModelFamily {
    /// Bump when the fitted bundles change, so caches keyed on it (latent tracks) are not reused.
    public static let version = "demo-v6-fitted"
    public static let notice = """
        using the built-in demo models: a cartoon head fitted by tools/fit_demo (not a GAN trained on \
        faces), so the avatar is a cartoon that follows the speaker's pose, mouth, eyes and brows. For real \
        avatars import EG3D and e4e checkpoints with `avatarize models import` (see \
        README) and pass them with --model/--encoder/--style.
        """

    /// Style names of the demo family (each a style generator in the same W space as the source); `--style`
    /// also takes `source`, the source generator itself, which is the default.
    public static let styles = ["caricature", "poster", "sketch"]
    /// The name that selects the source generator's own look.
    public static let sourceStyleName = "source"

    public struct Paths: Sendable {
        public var source: URL
        public var encoder: URL
        public var styles: [String: URL]
    }

    /// The user's home: $HOME when set (FileManager's home ignores it and reads the password database).
    public static func homeDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let h = environment["HOME"], !h.isEmpty { return URL(fileURLWithPath: h) }
        return FileManager.default.homeDirectoryForCurrentUser
    }

    /// Where avatarize caches (latent tracks, the full-size random models): $AVATARIZE_CACHE, else
    /// $XDG_CACHE_HOME/avatarize, else $HOME/.cache/avatarize; the version names a folder inside.
    public static func cacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        let base: URL
        if let c = environment["AVATARIZE_CACHE"], !c.isEmpty {
            base = URL(fileURLWithPath: c)
        } else if let x = environment["XDG_CACHE_HOME"], !x.isEmpty {
            base = URL(fileURLWithPath: x).appendingPathComponent("avatarize")
        } else {
            base = homeDirectory(environment: environment).appendingPathComponent(".cache/avatarize")
        }
        return base.appendingPathComponent(version)
    }

    /// The demo generator: the EG3D layout (mapping, StyleGAN2 backbone to 96-channel tri-planes, OSG
    /// decoder, 8XDC-shaped super-resolution) with w 32, channels 32, 64² planes and 128² rays with 16 + 16
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
        // The fitted super-resolution adds no noise (noise mode "none"), so its bundles hold no noise buffers.
        let sr = [
            BlockSpec(prefix: "superresolution.block0", resolution: 128, inChannels: 32, outChannels: 32, imgChannels: 3, hasNoise: false),
            BlockSpec(prefix: "superresolution.block1", resolution: 256, inChannels: 32, outChannels: 16, imgChannels: 3, hasNoise: false),
        ]
        return GeneratorArchitecture(zDim: 32, cDim: 25, wDim: 32, mappingLayers: 2, backbone: blocks,
                                     superresolution: sr, decoderHidden: 64, decoderOutput: 32)
    }

    public static func generatorOptions() -> GeneratorOptions {
        var o = GeneratorOptions()
        o.neuralRenderingResolution = 128
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

    /// The folder holding the fitted bundles: $AVATARIZE_DEMO_MODELS when set, else this module's resources.
    public static func bundledDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        if let d = environment["AVATARIZE_DEMO_MODELS"], !d.isEmpty { return URL(fileURLWithPath: d) }
        guard let url = Bundle.module.url(forResource: "DemoModels", withExtension: nil) else {
            throw ModelError.notABundle(path: "DemoModels (the demo models are not beside the avatarize binary; copy avatarize_Models.resources with it)")
        }
        return url
    }

    /// Where each fitted bundle is. Nothing is written: the bundles ship with the build.
    public static func ensure(in directory: URL? = nil) throws -> Paths {
        let dir = try directory ?? bundledDirectory()
        let paths = Paths(source: dir.appendingPathComponent("source"),
                          encoder: dir.appendingPathComponent("encoder"),
                          styles: Dictionary(uniqueKeysWithValues: styles.map { ($0, dir.appendingPathComponent("style-\($0)")) }))
        for url in [paths.source, paths.encoder] + styles.map({ paths.styles[$0]! })
        where !FileManager.default.fileExists(atPath: url.appendingPathComponent(ModelBundle.weightsName).path) {
            throw ModelError.notABundle(path: url.path)
        }
        return paths
    }

    static func writeBundle(at url: URL, manifest: Data, tensors: [String: Tensor], extraFiles: [String: [String: Tensor]] = [:]) throws {
        let fm = FileManager.default
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
            try manifest.write(to: tmp.appendingPathComponent(ModelBundle.manifestName))
            try SafeTensorsWriter.write(tensors, to: tmp.appendingPathComponent(ModelBundle.weightsName),
                                        metadata: ["format": "pt", "avatarize": version])
            for (name, t) in extraFiles { try SafeTensorsWriter.write(t, to: tmp.appendingPathComponent(name), metadata: ["format": "pt"]) }
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
