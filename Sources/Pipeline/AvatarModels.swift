import Foundation
import Logging
import Models
import Tensors
import Video

/// The networks one run needs: the source generator (its S space anchors geometry edits and GANSpace),
/// the encoder that inverts faces into its W space, and the style generator that renders the avatar.
/// With nothing given, the built-in demo family (fitted bundles shipped with the build) is used.
///
/// The encoder and the generators are never in memory together: a run encodes the whole clip before it
/// renders, and at full size the encoder alone holds 1.2 GB in float32. So `load` opens the weights files and
/// reads only their headers and the manifests (the pair's layouts are checked, the track identity hashed from the
/// files, streamed); the encoding pass builds the encoder (`makeEncoder`, `EncoderOnDemand`) and lets it go when
/// the clip is encoded; the generators are read on first use (`generators()`) and then kept as long as these
/// models (or a copy) are. Both are read from the files opened by `load`, so a bundle replaced meanwhile does not
/// change what the track identity names.
public struct AvatarModels: @unchecked Sendable {
    public let sourceBundle: ModelBundle
    public let encoderURL: URL
    public let styleBundle: ModelBundle
    /// The encoder's layout, from its weights' header.
    public let encoderLayout: FaceEncoderLayout
    /// The style generator's layout, from its weights' header.
    public let styleArchitecture: GeneratorArchitecture
    /// Precision of the encoder's and generators' convolutions.
    public let precision: Precision
    public let isDemo: Bool
    /// The encoder bundle's tri-plane encoder (TriPlaneNet), from its header; nil for encoders without one.
    public let refinerArchitecture: TriPlaneRefinerArchitecture?
    /// The encoder bundle's AFA module (GOAE), from its header; nil for encoders without one.
    public let adapterArchitecture: AdaptiveFeatureAlignmentArchitecture?
    /// How the encoder's own loader resized the aligned face (model.json; `direct` when it does not say).
    public let encoderPreprocessing: EncoderPreprocessing

    /// Identity of encoder + source generator, recorded in latent tracks: codes are only meaningful for them.
    /// Names for people, SHA-256 prefixes of both weights files so that a retrained model of the same size and
    /// name is told apart.
    public let trackIdentity: String

    /// The IR-SE50 encoder's checked weights, still in their file (its header read, an open descriptor); nil for
    /// GOAE's, which is read from `encoderURL` when built.
    let encoderWeights: EncoderWeights?
    /// The generators' weights files, open, their headers checked.
    let sourceWeights: SafeTensorsFile
    let styleWeights: SafeTensorsFile
    /// The generators once read, shared by copies of these models.
    let loaded: GeneratorSlot

    public struct Selection: Sendable {
        /// Source generator bundle; nil → demo.
        public var source: URL?
        /// Encoder bundle; nil → demo.
        public var encoder: URL?
        /// Style: a bundle path, a demo style name, or `source`; nil → the source generator itself.
        public var style: String?
        /// Precision of the encoder's and generators' convolutions.
        public var precision: Precision
        public init(source: URL? = nil, encoder: URL? = nil, style: String? = nil, precision: Precision = .processDefault) {
            self.source = source; self.encoder = encoder; self.style = style; self.precision = precision
        }
    }

    public enum LoadError: Error, CustomStringConvertible {
        case mixedDemo(String)
        case unknownStyle(String, known: [String])
        case widthMismatch(encoder: String, generator: String)
        public var description: String {
            switch self {
            case .mixedDemo(let m): return m
            case let .unknownStyle(s, known): return "no style '\(s)': give a style bundle folder, or one of the demo styles: \(known.joined(separator: ", "))"
            case let .widthMismatch(e, g): return "the encoder writes W+ codes of \(e) but the generator takes \(g): they are not a pair"
            }
        }
    }

    /// Resolves the selection and checks every file's manifest and weights header; reads no weights.
    public static func load(_ sel: Selection, logger: Logger) throws -> AvatarModels {
        let demoNeeded = sel.source == nil || sel.encoder == nil
        if demoNeeded && (sel.source != nil || sel.encoder != nil) {
            throw LoadError.mixedDemo("give both --model (source generator) and --encoder, or neither to use the demo models")
        }
        var demo: DemoModelFamily.Paths?
        if demoNeeded { demo = try DemoModelFamily.ensure() }
        let sourceBundle = try ModelBundle.open(sel.source ?? demo!.source)
        let encoderURL = sel.encoder ?? demo!.encoder
        let styleURL: URL
        // No style (or `source`): the source generator's own look, the avatar the encoder's codes describe.
        if let s = sel.style, s != DemoModelFamily.sourceStyleName {
            if let d = demo?.styles[s] { styleURL = d }
            else if FileManager.default.fileExists(atPath: s) { styleURL = URL(fileURLWithPath: s) }
            else { throw LoadError.unknownStyle(s, known: [DemoModelFamily.sourceStyleName] + DemoModelFamily.styles) }
        } else {
            styleURL = sourceBundle.url
        }
        let styleBundle = try ModelBundle.open(styleURL)
        let sourceWeights = try SafeTensorsFile(url: sourceBundle.weightsURL)
        let styleWeights = styleURL == sourceBundle.url ? sourceWeights : try SafeTensorsFile(url: styleBundle.weightsURL)
        let source = try sourceBundle.generatorArchitecture(of: sourceWeights)
        let style = styleURL == sourceBundle.url ? source : try styleBundle.generatorArchitecture(of: styleWeights)
        let layout = try FaceEncoderLayout.read(encoderURL)
        var encoderWeights: EncoderWeights?
        let encoderFile: URL
        if case .irse = layout {
            let w = try EncoderWeights.load(from: encoderURL)
            encoderWeights = w
            encoderFile = URL(fileURLWithPath: w.file)
        } else {
            encoderFile = encoderURL.appendingPathComponent(ModelBundle.weightsName)
        }
        let manifestURL = encoderURL.appendingPathComponent("model.json")
        let preprocessing = FileManager.default.fileExists(atPath: manifestURL.path)
            ? try EncoderManifest.read(manifestURL).preprocessing ?? .direct : .direct
        let refiner = try TriPlaneRefiner.architecture(inBundle: encoderURL)
        let adapter = try AdaptiveFeatureAlignment.architecture(inBundle: encoderURL)
        guard layout.wDim == source.wDim, layout.styleCount == source.numWs else {
            throw LoadError.widthMismatch(encoder: "\(layout.styleCount)×\(layout.wDim)", generator: "\(source.numWs)×\(source.wDim)")
        }
        let identity = "\(sourceBundle.manifest.name ?? sourceBundle.url.lastPathComponent)@\(try contentHash(of: sourceBundle.weightsURL).prefix(16))"
            + "+\(encoderURL.lastPathComponent)@\(try contentHash(of: encoderFile).prefix(16))"
            // bf16 codes differ from fp32 ones in the last bits: a track (and every piece keyed on it) names its
            // precision, so a farm of mixed CPUs never joins segments of both into one video. fp32 keeps the
            // names it always had.
            + (sel.precision == .fp32 ? "" : " \(sel.precision)")
        return AvatarModels(sourceBundle: sourceBundle, encoderURL: encoderURL, styleBundle: styleBundle,
                            encoderLayout: layout, styleArchitecture: style, precision: sel.precision,
                            isDemo: demoNeeded, refinerArchitecture: refiner, adapterArchitecture: adapter, encoderPreprocessing: preprocessing, trackIdentity: identity,
                            encoderWeights: encoderWeights, sourceWeights: sourceWeights,
                            styleWeights: styleWeights, loaded: GeneratorSlot())
    }

    /// A new encoder built from the checked weights (read tensor by tensor): hold it for an encoding pass only.
    public func makeEncoder() throws -> FaceEncoder {
        if let encoderWeights { return .irse(Encoder4Editing(weights: encoderWeights, precision: precision)) }
        return .goae(try GOAEncoder(contentsOf: encoderURL))
    }

    /// True when frames can render from refined tri-planes: the encoder bundle has a tri-plane encoder (TriPlaneNet)
    /// or an AFA module (GOAE) and the avatar is the source generator itself. Refined planes belong to the generator
    /// the encoder inverts into; a style generator takes the W+ codes only.
    public var refinesPlanes: Bool {
        (refinerArchitecture != nil || adapterArchitecture != nil) && styleBundle.url == sourceBundle.url
    }

    /// The tri-plane refinement for rendering (when `refinesPlanes`): the refiner read from the encoder bundle,
    /// with the source generator.
    public func makeRefinement() throws -> (any PlaneRefinement)? {
        guard refinesPlanes else { return nil }
        if adapterArchitecture != nil {
            // GOAE's AFA alone: the codes come from the track, so the encoder is not read.
            return try GOAERefinement(adapter: AdaptiveFeatureAlignment(contentsOf: encoderURL, precision: precision),
                                      generator: try generators().source)
        }
        let refiner = try TriPlaneRefiner(contentsOf: encoderURL, side: styleArchitecture.planeResolution, precision: precision)
        return try TriPlaneNetInversion(refiner: refiner, generator: try generators().source)
    }

    /// The source and style generators, read on the first call and kept from then on.
    public func generators() throws -> AvatarGenerators {
        try loaded.value {
            let source = try sourceBundle.loadGenerator(from: sourceWeights, precision: precision)
            let style = styleWeights === sourceWeights ? source : try styleBundle.loadGenerator(from: styleWeights, precision: precision)
            return AvatarGenerators(source: source, style: style)
        }
    }
}

/// The two generators of a run, once read.
public struct AvatarGenerators: Sendable {
    public let source: TriPlaneGenerator
    public let style: TriPlaneGenerator
}

/// Holds the generators once read; the first caller reads them, the others wait for it.
final class GeneratorSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var generators: AvatarGenerators?

    func value(_ read: () throws -> AvatarGenerators) throws -> AvatarGenerators {
        lock.lock(); defer { lock.unlock() }
        if let generators { return generators }
        let made = try read()
        generators = made
        return made
    }
}

/// Names and notice of the built-in demo family, for the command line's help and warnings.
public let demoStyleNames = DemoModelFamily.styles
public let demoNotice = DemoModelFamily.notice
