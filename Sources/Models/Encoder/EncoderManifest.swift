// model.json of an encoder bundle, as `avatarize models import` writes it:
// {"kind": "e4e-encoder", "architecture": "Encoder4Editing", "backbone": "ir_se50", "style_count": 14,
//  "w_dim": 512, "input_size": 256, "source": "<checkpoint file name>", "latent_avg": "<where it came from>"}
// The weights are the authority on shapes; the manifest is checked against them.
import Foundation
import Tensors

public struct EncoderManifest: Sendable, Equatable {
    public static let kind = "e4e-encoder"

    public var architecture: String
    public var backbone: String
    public var styleCount: Int?
    public var wDim: Int?
    public var inputSize: Int?
    public var source: String?
    /// How the loader the encoder was trained with resized the aligned face (absent: `direct`).
    public var preprocessing: EncoderPreprocessing?
    public let file: String

    public static func read(_ url: URL) throws -> EncoderManifest {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw EncoderLoadError.badManifest(file: url.path, reason: "unreadable (\(error.localizedDescription))")
        }
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw EncoderLoadError.badManifest(file: url.path, reason: "not a JSON object")
        }
        func int(_ key: String) throws -> Int? {
            guard let v = obj[key] else { return nil }
            switch JSONCount(v) {
            case let .count(n): return n
            case let .refused(problem): throw EncoderLoadError.badManifest(file: url.path, reason: "'\(key)' \(problem)")
            }
        }
        guard let kind = obj["kind"] as? String, kind == Self.kind else {
            throw EncoderLoadError.badManifest(file: url.path, reason: "'kind' must be \"\(Self.kind)\" (found \(obj["kind"].map { "\($0)" } ?? "nothing"))")
        }
        var m = EncoderManifest(
            architecture: obj["architecture"] as? String ?? "Encoder4Editing",
            backbone: obj["backbone"] as? String ?? "ir_se50",
            styleCount: try int("style_count"), wDim: try int("w_dim"), inputSize: try int("input_size"),
            source: obj["source"] as? String, preprocessing: nil, file: url.path)
        if let p = obj["preprocessing"] {
            guard let name = p as? String, let value = EncoderPreprocessing(rawValue: name) else {
                throw EncoderLoadError.badManifest(file: url.path, reason: "'preprocessing' must be one of \(EncoderPreprocessing.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            m.preprocessing = value
        }
        guard m.isGOAE || EncoderHead(rawValue: m.architecture) != nil else {
            throw EncoderLoadError.badManifest(file: url.path, reason: "architecture '\(m.architecture)' is not supported (\((EncoderHead.allCases.map(\.rawValue) + [GOAEncoderArchitecture.name]).joined(separator: ", ")) are)")
        }
        let backbone = m.isGOAE ? GOAEncoderArchitecture.backbone : "ir_se50"
        guard m.backbone == backbone else {
            throw EncoderLoadError.badManifest(file: url.path, reason: "backbone '\(m.backbone)' is not supported with \(m.architecture) (\(backbone) is)")
        }
        return m
    }

    /// A GOAE bundle (Swin-V2 encoder, optional AFA module), which GOAEncoder loads rather than EncoderWeights.
    public var isGOAE: Bool { architecture == GOAEncoderArchitecture.name }

    /// Throws when the manifest's numbers contradict the weights.
    public func verify(against arch: EncoderArchitecture) throws {
        if architecture != arch.head.rawValue {
            throw EncoderLoadError.badManifest(file: file, reason: "architecture '\(architecture)', but the weights are a \(arch.head.rawValue)")
        }
        if let s = styleCount, s != arch.styleCount {
            throw EncoderLoadError.badManifest(file: file, reason: "style_count \(s), but the weights hold \(arch.styleCount) styles")
        }
        if let w = wDim, w != arch.styleWidth {
            throw EncoderLoadError.badManifest(file: file, reason: "w_dim \(w), but the weights' styles are \(arch.styleWidth) wide")
        }
        if let i = inputSize, i != EncoderArchitecture.inputSize {
            throw EncoderLoadError.badManifest(file: file, reason: "input_size \(i); Encoder4Editing takes \(EncoderArchitecture.inputSize)² crops")
        }
    }
}
