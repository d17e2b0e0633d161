import Foundation
import Logging
import Models
import Tensors
import Video

/// The networks one run needs: the source generator (its S space anchors geometry edits and GANSpace),
/// the encoder that inverts faces into its W space, and the style generator that renders the avatar.
/// With nothing given, the built-in demo family (fitted bundles shipped with the build) is used.
public struct AvatarModels: @unchecked Sendable {
    public var source: TriPlaneGenerator
    public var sourceBundle: ModelBundle
    public var encoder: Encoder4Editing
    public var encoderURL: URL
    public var style: TriPlaneGenerator
    public var styleBundle: ModelBundle
    public var isDemo: Bool

    /// Identity of encoder + source generator, recorded in latent tracks: codes are only meaningful for them.
    /// Names for people, SHA-256 prefixes of both weights files so that a retrained model of the same size and
    /// name is told apart.
    public let trackIdentity: String

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
        let source = try sourceBundle.loadGenerator(precision: sel.precision)
        let style = styleURL == sourceBundle.url ? source : try styleBundle.loadGenerator(precision: sel.precision)
        let encoder = try Encoder4Editing(contentsOf: encoderURL, precision: sel.precision)
        guard encoder.architecture.styleWidth == source.architecture.wDim,
              encoder.architecture.styleCount == source.architecture.numWs else {
            throw LoadError.widthMismatch(encoder: "\(encoder.architecture.styleCount)×\(encoder.architecture.styleWidth)",
                                          generator: "\(source.architecture.numWs)×\(source.architecture.wDim)")
        }
        let encoderWeights = encoderURL.pathExtension == "safetensors" ? encoderURL : encoderURL.appendingPathComponent("weights.safetensors")
        let identity = "\(sourceBundle.manifest.name ?? sourceBundle.url.lastPathComponent)@\(try contentHash(of: sourceBundle.weightsURL).prefix(16))"
            + "+\(encoderURL.lastPathComponent)@\(try contentHash(of: encoderWeights).prefix(16))"
        return AvatarModels(source: source, sourceBundle: sourceBundle, encoder: encoder, encoderURL: encoderURL,
                            style: style, styleBundle: styleBundle, isDemo: demoNeeded, trackIdentity: identity)
    }
}

/// Names and notice of the built-in demo family, for the command line's help and warnings.
public let demoStyleNames = DemoModelFamily.styles
public let demoNotice = DemoModelFamily.notice
