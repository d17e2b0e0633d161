// A model bundle: a folder holding model.json (what the model is, hyper-parameters the tensor shapes
// cannot tell, camera defaults, provenance, licence) and weights.safetensors (official EG3D key names).
// A bare weights.safetensors also loads, with the released ffhq512-128 settings.
import Foundation
import Tensors

public struct CameraDefaults: Codable, Sendable, Equatable {
    public var focal: Double = 4.2647
    public var radius: Double = 2.7
    public var pivot: [Double] = [0, 0, 0.2]
    public init() {}

    /// Ranges: a positive focal length (normalised by the image side; 4.2647 is an 18.8° field of view), a
    /// camera outside the head, and a pivot of three coordinates near the origin.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = CameraDefaults()
        focal = try c.number(.focal, in: 0.1...100, or: d.focal)
        radius = try c.number(.radius, in: 0.1...100, or: d.radius)
        pivot = try c.decodeIfPresent([Double].self, forKey: .pivot) ?? d.pivot
        guard pivot.count == 3, pivot.allSatisfy({ abs($0) <= 10 }) else {
            throw ManifestValueError(key: c.path(.pivot), problem: "is [\(pivot.map(\.manifestText).joined(separator: ", "))]; it must be three coordinates (x, y, z) between -10 and 10")
        }
    }

    /// The frontal camera the mapping network is conditioned on.
    public var frontal: GeneratorCamera { camera(yaw: 0, pitch: 0) }

    public func camera(yaw: Double, pitch: Double) -> GeneratorCamera {
        GeneratorCamera.lookAt(yaw: yaw, pitch: pitch, radius: radius,
                      lookAt: (pivot.count > 0 ? pivot[0] : 0, pivot.count > 1 ? pivot[1] : 0, pivot.count > 2 ? pivot[2] : 0),
                      focal: focal)
    }
}

/// model.json of a generator bundle. Example:
/// {"kind": "eg3d-generator", "name": "ffhq512-128", "role": "source-generator", "style": "photo",
///  "architecture": {"neural_rendering_resolution": 128, "superresolution_conv_clamp": 256, …},
///  "camera": {"focal": 4.2647, "radius": 2.7, "pivot": [0, 0, 0.2]},
///  "truncation_psi": 0.7, "truncation_cutoff": 14, "provenance": "…", "license": "…"}
public struct GeneratorManifest: Codable, Sendable, Equatable {
    public static let kind = "eg3d-generator"
    public var kind: String = GeneratorManifest.kind
    public var name: String?
    /// "source-generator" (G_s, real faces) or "style-generator" (G_t, one artistic style).
    public var role: String?
    public var style: String?
    public var description: String?
    public var architecture = GeneratorOptions()
    public var camera = CameraDefaults()
    public var truncationPsi: Float = 0.7
    public var truncationCutoff: Int = 14
    public var provenance: String?
    public var license: String?
    /// Where the weights are published (a URL), for imported releases.
    public var published: String?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case kind, name, role, style, description, architecture, camera, provenance, license, published
        case truncationPsi = "truncation_psi", truncationCutoff = "truncation_cutoff"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decodeIfPresent(String.self, forKey: .kind) ?? GeneratorManifest.kind
        name = try c.decodeIfPresent(String.self, forKey: .name)
        role = try c.decodeIfPresent(String.self, forKey: .role)
        style = try c.decodeIfPresent(String.self, forKey: .style)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        architecture = try c.decodeIfPresent(GeneratorOptions.self, forKey: .architecture) ?? GeneratorOptions()
        camera = try c.decodeIfPresent(CameraDefaults.self, forKey: .camera) ?? CameraDefaults()
        // ψ 0 is the average face, 1 no truncation; the cutoff counts ws from the first (more than the
        // generator has truncates them all).
        truncationPsi = Float(try c.number(.truncationPsi, in: 0...1, or: 0.7))
        truncationCutoff = try c.count(.truncationCutoff, in: 0...1024, or: 14)!
        provenance = try c.decodeIfPresent(String.self, forKey: .provenance)
        license = try c.decodeIfPresent(String.self, forKey: .license)
        published = try c.decodeIfPresent(String.self, forKey: .published)
    }
}

public struct ModelBundle: Sendable {
    public static let manifestName = "model.json"
    public static let weightsName = "weights.safetensors"

    /// The folder (or bare weights file) the bundle was opened from.
    public let url: URL
    public let weightsURL: URL
    public let manifest: GeneratorManifest

    /// Opens a bundle folder, or a bare .safetensors file (manifest defaults).
    public static func open(_ url: URL) throws -> ModelBundle {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw ModelError.notABundle(path: url.path)
        }
        if !isDir.boolValue {
            guard url.pathExtension == "safetensors" else { throw ModelError.notABundle(path: url.path) }
            return ModelBundle(url: url, weightsURL: url, manifest: GeneratorManifest())
        }
        let manifestURL = url.appendingPathComponent(manifestName)
        let weightsURL = url.appendingPathComponent(weightsName)
        guard FileManager.default.fileExists(atPath: weightsURL.path) else { throw ModelError.notABundle(path: url.path) }
        var manifest = GeneratorManifest()
        if FileManager.default.fileExists(atPath: manifestURL.path) {
            manifest = try readManifest(manifestURL)
        }
        return ModelBundle(url: url, weightsURL: weightsURL, manifest: manifest)
    }

    public static func readManifest(_ url: URL) throws -> GeneratorManifest {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ModelError.badManifest(file: url.path, reason: "unreadable (\(error.localizedDescription))")
        }
        return try decodeManifest(data, path: url.path)
    }

    /// Parses and checks the bytes of a generator's model.json; `path` names it in errors.
    public static func decodeManifest(_ data: Data, path: String) throws -> GeneratorManifest {
        let m: GeneratorManifest
        do { m = try JSONDecoder().decode(GeneratorManifest.self, from: data) } catch let e as ManifestValueError {
            throw ModelError.badManifest(file: path, reason: e.reason)
        } catch let DecodingError.typeMismatch(type, ctx) {
            let key = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            let expected = type == String.self ? "a string" : type == Bool.self ? "true or false"
                : type == Double.self || type == Float.self || type == Int.self ? "a number" : "\(type)"
            throw ModelError.badManifest(file: path, reason: key.isEmpty ? "not a JSON object" : "\(key) must be \(expected)")
        } catch {
            throw ModelError.badManifest(file: path, reason: "not valid JSON for a generator manifest")
        }
        guard m.kind == GeneratorManifest.kind else {
            throw ModelError.badManifest(file: path, reason: "'kind' is \"\(m.kind)\", not \"\(GeneratorManifest.kind)\"")
        }
        return m
    }

    /// Loads and strictly checks the weights, then builds the generator.
    public func loadGenerator(precision: Precision = .fp32) throws -> TriPlaneGenerator {
        try loadGenerator(from: SafeTensorsFile(url: weightsURL), precision: precision)
    }

    /// Builds the generator from this bundle's weights file opened earlier (`f`), checking the weights strictly.
    public func loadGenerator(from f: SafeTensorsFile, precision: Precision = .fp32) throws -> TriPlaneGenerator {
        try TriPlaneGenerator(weights: Weights(file: f.path, tensors: f.all()), options: manifest.architecture, precision: precision)
    }

    /// The generator's layout, checked as `loadGenerator` checks the weights but from the header of the opened
    /// weights file `f` alone (no tensor is read): what a run needs to know long before it needs the weights.
    public func generatorArchitecture(of f: SafeTensorsFile) throws -> GeneratorArchitecture {
        let arch = try Self.architecture(of: f, options: manifest.architecture)
        let problems = arch.check(shapes: f.entries.mapValues(\.shape))
        if !problems.isEmpty { throw ModelError.weights(file: f.path, problems: problems) }
        return arch
    }

    static func architecture(of f: SafeTensorsFile, options: GeneratorOptions) throws -> GeneratorArchitecture {
        try GeneratorArchitecture.infer(shapes: f.entries.mapValues(\.shape), renderingResolution: options.neuralRenderingResolution,
                                        superresolutionInput: options.superresolutionInputResolution, file: f.path)
    }

    /// Where `avatarize models` looks: $AVATARIZE_MODELS (colon-separated), ./models, $HOME/.avatarize/models.
    public static func searchPaths(environment: [String: String] = ProcessInfo.processInfo.environment) -> [URL] {
        var out: [URL] = []
        if let env = environment["AVATARIZE_MODELS"] {
            out += env.split(separator: ":").map { URL(fileURLWithPath: String($0)) }
        }
        out.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("models"))
        out.append(DemoModelFamily.homeDirectory(environment: environment).appendingPathComponent(".avatarize/models"))
        return out
    }

    /// A bundle folder found on disk, with its manifest's `kind` and summary (any kind: generators,
    /// encoders), or the reason it cannot be read.
    public struct Listing: Sendable {
        public var path: URL
        public var kind: String
        public var name: String
        public var summary: String
        public var problem: String?
    }

    /// Folders under the search paths (one level deep, or the path itself) that hold a model.json.
    public static func discover(in roots: [URL] = searchPaths()) -> [Listing] {
        var out: [Listing] = []
        var seen = Set<String>()
        let fm = FileManager.default
        for root in roots {
            var candidates = [root]
            if let kids = try? fm.contentsOfDirectory(at: root, includingPropertiesForKeys: nil) {
                candidates += kids.sorted { $0.path < $1.path }
            }
            for dir in candidates {
                let manifest = dir.appendingPathComponent(manifestName)
                let key = dir.standardizedFileURL.path
                guard fm.fileExists(atPath: manifest.path), !seen.contains(key) else { continue }
                seen.insert(key)
                out.append(listing(dir, manifest: manifest))
            }
        }
        return out
    }

    /// Layout and resolution of a generator bundle, from the weights' header and the manifest.
    static func generatorLayout(_ dir: URL, options: GeneratorOptions) throws -> [String] {
        let a = try architecture(of: SafeTensorsFile(url: dir.appendingPathComponent(weightsName)), options: options)
        let srIn = (a.superresolution.first?.resolution ?? 0) / 2
        let resize = srIn != options.neuralRenderingResolution ? " (resized to \(srIn)²)" : ""
        let axes = options.rendering.planeAxes == .original ? "XY/XZ/ZX as released" : "XY/XZ/ZY, corrected (NVlabs/eg3d#67)"
        return ["layout: EG3D TriPlaneGenerator, \(a.planeResolution)² tri-planes × \(a.planeChannels) (axes \(axes)), w \(a.wDim), \(a.superresolution.count)-block super-resolution",
                "resolution: render \(options.neuralRenderingResolution)²\(resize) → image \(a.imageResolution)²"]
    }

    static func listing(_ dir: URL, manifest: URL) -> Listing {
        let name = dir.lastPathComponent
        guard let data = try? Data(contentsOf: manifest),
              let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            return Listing(path: dir, kind: "?", name: name, summary: "", problem: "model.json is not a JSON object")
        }
        let kind = obj["kind"] as? String ?? "?"
        var problem: String? = nil
        if !FileManager.default.fileExists(atPath: dir.appendingPathComponent(weightsName).path) {
            problem = "no \(weightsName)"
        }
        var parts: [String] = []
        for key in ["role", "style", "description", "source", "license", "published"] {
            if let v = obj[key] as? String { parts.append("\(key): \(v)") }
        }
        if kind == EncoderManifest.kind, let p = (obj["preprocessing"] as? String).flatMap(EncoderPreprocessing.init(rawValue:)) {
            parts.append("input: \(p.summary)")
        }
        if kind == GeneratorManifest.kind, problem == nil {
            do {
                let m = try readManifest(manifest)
                parts.insert(contentsOf: try generatorLayout(dir, options: m.architecture), at: 0)
            } catch { problem = "\(error)" }
        } else if kind == EncoderManifest.kind, problem == nil {
            do {
                if try EncoderManifest.read(manifest).isGOAE {
                    let a = try GOAEncoder.architecture(inBundle: dir)
                    parts.insert(contentsOf: ["layout: \(GOAEncoderArchitecture.name) \(a.summary)"], at: 0)
                    if let r = try AdaptiveFeatureAlignment.architecture(inBundle: dir) {
                        parts.insert("refiner: GOAE AFA (\(r.summary)), modulating the generator's 32² features", at: 1)
                    }
                    return Listing(path: dir, kind: kind, name: obj["name"] as? String ?? name, summary: parts.joined(separator: ", "), problem: nil)
                }
                let w = try EncoderWeights.load(from: dir)
                let a = w.architecture
                parts.insert(contentsOf: ["layout: \(a.head.rawValue) IR-SE50 (stage widths \(a.stageWidths.map(String.init).joined(separator: "/")))",
                                          "resolution: \(EncoderArchitecture.inputSize)² input → \(a.styleCount)×\(a.styleWidth) codes"], at: 0)
                if let r = try TriPlaneRefiner.architecture(inBundle: dir) {
                    parts.insert("refiner: \(r.summary) tri-plane encoder (\(r.version == .v1 ? "offsets added to" : "refined planes replacing") the generator's planes)", at: 2)
                }
            } catch { problem = "\(error)" }
        }
        return Listing(path: dir, kind: kind, name: obj["name"] as? String ?? name,
                       summary: parts.joined(separator: ", "), problem: problem)
    }
}
