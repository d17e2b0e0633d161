// `avatarize models import`: a checkpoint file in, a bundle folder out (model.json + weights.safetensors,
// the format ModelBundle and EncoderWeights load). EG3D network pickles become generator bundles,
// e4e / pSp / PREIM3D checkpoints encoder bundles. The weights are checked against the architecture
// (shapes, every key) before anything is written, and the bundle appears atomically.
import Foundation
import Models
import Tensors

public enum ImportRole: String, Sendable, CaseIterable {
    case source, style, encoder
}

public struct ImportRequest: Sendable {
    public var file: URL
    /// The bundle folder to create; default ./models/<name>.
    public var output: URL?
    public var role: ImportRole?
    public var name: String?
    /// A generator bundle, for PREIM3D checkpoints (their latent average comes from the generator).
    public var generator: URL?
    /// GOAE's AFA module (afa_FFHQ.pt), imported into the encoder's bundle.
    public var adapter: URL?
    /// Recorded in model.json (the CLI adds the checkpoint's SHA-256).
    public var provenance: String?
    /// The weights' licence and where they are published, recorded in model.json; a known release's
    /// (`KnownReleases`) when not given.
    public var license: String?
    public var published: String?

    public init(file: URL, output: URL? = nil, role: ImportRole? = nil, name: String? = nil, generator: URL? = nil,
                adapter: URL? = nil, provenance: String? = nil, license: String? = nil, published: String? = nil) {
        self.adapter = adapter
        self.provenance = provenance
        self.license = license
        self.published = published
        self.file = file
        self.output = output
        self.role = role
        self.name = name
        self.generator = generator
    }
}

public struct ImportResult: Sendable {
    public var bundle: URL
    public var kind: String
    public var summary: [String]
}

public enum ModelImporter {
    enum Parsed {
        case generator(EG3DSnapshot)
        case encoder(EncoderCheckpoint)
    }

    public static func run(_ request: ImportRequest) throws -> ImportResult {
        let file = request.file.path
        let bytes = try TorchCheckpoint.bytes(of: request.file)
        let name = request.name ?? request.file.deletingPathExtension().lastPathComponent
        let output = request.output ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            .appendingPathComponent("models").appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: output.path) {
            throw CheckpointError.output(path: output.path, reason: "it already exists (remove it or choose another --output)")
        }
        let parsed = try TorchCheckpoint.read(bytes[...], file: file) { root, format -> Parsed in
            if root.dict?["G_ema"] != nil {
                if request.role == .encoder {
                    throw CheckpointError.invalidModel(file: file, reason: "--role encoder, but this is an EG3D network pickle (a generator)")
                }
                return .generator(try EG3DSnapshot(root, file: file))
            }
            if let r = request.role, r != .encoder {
                throw CheckpointError.invalidModel(file: file, reason: "--role \(r.rawValue) needs an EG3D network-snapshot pickle (with G_ema); this \(format.rawValue) holds no generator")
            }
            return .encoder(try EncoderCheckpoint(root, file: file))
        }
        let provenance = request.provenance ?? "imported by avatarize models import from \(request.file.lastPathComponent)"
        switch parsed {
        case let .generator(s):
            return try writeGenerator(s, request: request, name: name, output: output, provenance: provenance)
        case let .encoder(e) where e.layout == .goae:
            return try writeGOAE(e, request: request, name: name, output: output, provenance: provenance)
        case let .encoder(e) where e.layout == .goaeAdapter:
            throw CheckpointError.invalidModel(file: file, reason: "this is GOAE's AFA module; import it with its encoder: avatarize models import encoder_FFHQ.pt --afa \(request.file.lastPathComponent) --generator BUNDLE")
        case let .encoder(e):
            if request.adapter != nil {
                throw CheckpointError.invalidModel(file: file, reason: "--afa goes with a GOAE encoder (encoder_FFHQ.pt); this is a \(e.layout.rawValue)")
            }
            return try writeEncoder(e, request: request, name: name, output: output, provenance: provenance)
        }
    }

    /// The w_avg of a generator bundle (read from its weights alone, the layout checked from the header), for the
    /// encoders that add it (TriPlaneNet, GOAE), after checking the codes fit the generator.
    static func generatorWAverage(_ gURL: URL, styles: Int, w: Int, file: String) throws -> [Float] {
        let bundle = try ModelBundle.open(gURL)
        let f = try SafeTensorsFile(url: bundle.weightsURL)
        let g = try bundle.generatorArchitecture(of: f)
        guard g.numWs == styles, g.wDim == w else {
            throw CheckpointError.invalidModel(file: file, reason: "the encoder makes \(styles)×\(w) codes, the generator \(gURL.path) takes \(g.numWs)×\(g.wDim)")
        }
        return try f.tensor("backbone.mapping.w_avg").data
    }

    /// GOAE: the encoder (and, with --afa, its AFA module) into one bundle; Net.forward adds the generator's w_avg.
    static func writeGOAE(_ e: EncoderCheckpoint, request: ImportRequest, name: String, output: URL, provenance: String) throws -> ImportResult {
        let file = request.file.path
        let all = try e.stateDict.materialize()
        // Builds the network: every tensor is checked, and the Swin's derived buffers by value.
        let encoder = try GOAEncoder(file: file, tensors: all)
        let a = encoder.architecture
        guard let gURL = request.generator else {
            throw CheckpointError.invalidModel(file: file, reason: "a GOAE encoder: Net.forward adds the w_avg of the EG3D generator it was trained with; pass that generator's bundle with --generator BUNDLE")
        }
        let wAvg = try generatorWAverage(gURL, styles: a.styleCount, w: a.wDim, file: file)
        // The derived buffers are rebuilt from the layout when the bundle loads.
        let buffers = a.swin.bufferShapes(prefix: GOAEncoderArchitecture.swinPrefix)
        var tensors = all.filter { buffers[$0.key] == nil }
        tensors["latent_avg"] = Tensor(shape: [a.styleCount, a.wDim], data: (0..<a.styleCount).flatMap { _ in wAvg })
        var extra: [String: [String: Tensor]] = [:]
        var adapterSummary: String?
        if let afaURL = request.adapter {
            let afaFile = afaURL.path
            let bytes = try TorchCheckpoint.bytes(of: afaURL)
            let checkpoint = try TorchCheckpoint.read(bytes[...], file: afaFile) { root, _ in try EncoderCheckpoint(root, file: afaFile) }
            guard checkpoint.layout == .goaeAdapter else {
                throw CheckpointError.invalidModel(file: afaFile, reason: "--afa takes GOAE's AFA state dict (afa_FFHQ.pt, with cross_att_gamma.*); this is a \(checkpoint.layout.rawValue)")
            }
            let t = try checkpoint.stateDict.materialize()
            let adapter = try AdaptiveFeatureAlignment(file: afaFile, tensors: t)
            let g = try ModelBundle.open(gURL)
            let ga = try g.generatorArchitecture(of: SafeTensorsFile(url: g.weightsURL))
            let channels = ga.backbone.first { $0.resolution == GOAERefinement.featureResolution }?.outChannels ?? 0
            guard channels == adapter.architecture.featureWidth else {
                throw CheckpointError.invalidModel(file: afaFile, reason: "AFA modulates \(adapter.architecture.featureWidth) channels at \(GOAERefinement.featureResolution)²; the generator \(gURL.path) has \(channels) there")
            }
            extra[AdaptiveFeatureAlignment.bundleFileName] = t
            adapterSummary = adapter.architecture.summary
        }
        let known = KnownReleases.release(named: request.file.lastPathComponent)
        var manifest: [String: Any] = [
            "kind": EncoderManifest.kind, "name": name, "role": "encoder",
            "architecture": GOAEncoderArchitecture.name, "backbone": GOAEncoderArchitecture.backbone,
            "style_count": a.styleCount, "w_dim": a.wDim, "input_size": a.swin.inputSide,
            "preprocessing": EncoderPreprocessing.pilBicubic.rawValue,
            "source": request.file.lastPathComponent,
            "latent_avg": "the w_avg of generator \(gURL.lastPathComponent), repeated \(a.styleCount)× (as GOAE's Net adds it)",
            "description": "GOAE encoder (\(a.summary))" + (adapterSummary.map { ", with its AFA module (\($0))" } ?? ""),
            "provenance": provenance,
        ]
        if let adapterSummary { manifest["refiner"] = "GOAE AFA: \(adapterSummary)" }
        if let license = request.license ?? known?.license { manifest["license"] = license }
        if let published = request.published ?? known?.published { manifest["published"] = published }
        let json = try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys])
        try BundleWriter.write(tensors: tensors, manifest: json, to: output, metadata: ["source": request.file.lastPathComponent],
                               extraFiles: extra)
        return ImportResult(bundle: output, kind: EncoderManifest.kind, summary: [
            "GOAE encoder from a \(e.layout.rawValue): \(a.summary), latent_avg from generator \(gURL.lastPathComponent)",
        ] + (adapterSummary.map { ["AFA module: \($0), modulating the generator's 32² features"] } ?? ["no AFA module (--afa afa_FFHQ.pt adds it): codes only"]))
    }

    static func writeGenerator(_ s: EG3DSnapshot, request: ImportRequest, name: String, output: URL, provenance: String) throws -> ImportResult {
        let file = request.file.path
        let tensors = try s.stateDict.materialize()
        // Builds the networks: every key and shape is checked against the architecture.
        let g = try TriPlaneGenerator(weights: Weights(file: file, tensors: tensors), options: s.options)
        var m = GeneratorManifest()
        m.name = name
        m.role = request.role == .style ? "style-generator" : "source-generator"
        m.architecture = s.options
        m.camera = s.camera
        m.provenance = provenance
        let known = KnownReleases.release(named: request.file.lastPathComponent)
        m.license = request.license ?? known?.license
        m.published = request.published ?? known?.published
        m.description = "EG3D TriPlaneGenerator (G_ema), SuperresolutionHybrid8XDC, neural rendering \(s.options.neuralRenderingResolution)²"
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try enc.encode(m)
        // The bundle must open again: its settings pass the loader's range checks (ModelBundle.decodeManifest).
        do { _ = try ModelBundle.decodeManifest(json, path: file) } catch let ModelError.badManifest(_, reason) {
            throw CheckpointError.unsupportedModel(file: file, reason: "its settings are outside what avatarize renders: \(reason)")
        }
        try BundleWriter.write(tensors: tensors, manifest: json, to: output, metadata: ["source": request.file.lastPathComponent])
        let a = g.architecture
        return ImportResult(bundle: output, kind: GeneratorManifest.kind, summary: [
            "EG3D generator (\(m.role!)): \(a.imageResolution)² images, neural rendering \(s.options.neuralRenderingResolution)², w \(a.wDim), \(a.numWs) ws, \(tensors.count) tensors",
            "SR conv_clamp \(s.options.superresolutionConvClamp.map { "\($0)" } ?? "none"), backbone conv_clamp \(s.options.backboneConvClamp.map { "\($0)" } ?? "none"), SR noise \(s.options.superresolutionNoiseMode)",
        ])
    }

    static func writeEncoder(_ e: EncoderCheckpoint, request: ImportRequest, name: String, output: URL, provenance: String) throws -> ImportResult {
        let file = request.file.path
        var tensors = try e.stateDict.materialize()
        // The layout (styles, w) comes from the weights; latent_avg must match it.
        let renamed = try EncoderWeights.renamed(tensors.mapValues(\.shape), file: file)
        let arch = try EncoderArchitecture.infer(from: renamed.shapes, file: file)
        let styles = arch.styleCount, w = arch.styleWidth
        let latentSource: String
        let latent: Tensor
        if e.layout == .triplanenet {
            // TriPlaneNet adds the latent_avg of the EG3D file it loads (configs/paths_config.py 'eg3d_ffhq',
            // ckpt['latent_avg'] repeated n_styles times); that file is a conversion of NVIDIA's ffhq512-128.pkl whose
            // latent_avg is the mapping network's tracked w_avg, so the generator's w_avg is used here.
            guard let gURL = request.generator else {
                throw CheckpointError.invalidModel(file: file, reason: "a TriPlaneNet checkpoint: its latent average is the w_avg of the EG3D generator it was trained with; pass that generator's bundle with --generator BUNDLE")
            }
            // Only w_avg is read: the layout is checked from the weights file's header.
            let wAvg = try generatorWAverage(gURL, styles: styles, w: w, file: file)
            latent = Tensor(shape: [styles, w], data: (0..<styles).flatMap { _ in wAvg })
            latentSource = "the w_avg of generator \(gURL.lastPathComponent), repeated \(styles)× (as TriPlaneNet adds its EG3D file's latent_avg)"
        } else if e.layout == .preim3d {
            guard let gURL = request.generator else {
                throw CheckpointError.invalidModel(file: file, reason: "a PREIM3D checkpoint: its latent average is computed from the EG3D generator it was trained with; pass that generator's bundle with --generator BUNDLE")
            }
            let bundle = try ModelBundle.open(gURL)
            let g = try bundle.loadGenerator()
            guard g.architecture.numWs == styles, g.architecture.wDim == w else {
                throw CheckpointError.invalidModel(file: file, reason: "the encoder makes \(styles)×\(w) codes, the generator \(gURL.path) takes \(g.architecture.numWs)×\(g.architecture.wDim)")
            }
            latent = LatentAverage.preim3d(generator: g, camera: bundle.manifest.camera)
            latentSource = "computed as PREIM3D does from generator \(gURL.lastPathComponent) (10000 z of RandomState(123), psi 0.7, cutoff 14)"
        } else {
            guard let ref = e.latentAverage else {
                throw CheckpointError.invalidModel(file: file, reason: "the checkpoint holds no latent_avg (e4e adds it to every code)")
            }
            let t = try ref.materialize(file: file, name: "latent_avg")
            switch t.shape {
            case [styles, w], [1, styles, w]: latent = Tensor(shape: [styles, w], data: t.data)
            case [w], [1, w]: latent = Tensor(shape: [styles, w], data: (0..<styles).flatMap { _ in t.data })
            default:
                throw CheckpointError.invalidModel(file: file, reason: "latent_avg has shape \(t.shape); expected [\(styles), \(w)], [1, \(styles), \(w)] or [\(w)]")
            }
            latentSource = "checkpoint"
        }
        tensors["latent_avg"] = latent
        // pSp's GradualStyleEncoder has e4e's tensors; the checkpoint says which network they are.
        let head: EncoderHead = e.layout == .triplanenet || e.encoderType == EncoderHead.gradualStyle.rawValue ? .gradualStyle : arch.head
        let weights = try EncoderWeights(file: file, tensors: tensors, head: head)
        var extra: [String: [String: Tensor]] = [:]
        var refiner: TriPlaneRefinerArchitecture?
        if let r = e.refinerStateDict {
            let prefix = EncoderCheckpoint.refinerPrefix
            let t = Dictionary(uniqueKeysWithValues: try r.materialize().map { (String($0.key.dropFirst(prefix.count)), $0.value) })
            let a = try TriPlaneRefinerArchitecture.infer(from: t.mapValues(\.shape), file: file)
            let problems = a.check(shapes: t.mapValues(\.shape))
            if !problems.isEmpty { throw EncoderLoadError.weights(file: "\(file) (\(prefix)*)", problems: problems) }
            extra[TriPlaneRefiner.bundleFileName] = t
            refiner = a
        }
        let known = KnownReleases.release(named: request.file.lastPathComponent)
        let network = head == .wPlus ? "pSp WPlusEncoder" : (head == .gradualStyle ? "pSp GradualStyleEncoder" : "e4e Encoder4Editing")
        var manifest: [String: Any] = [
            "kind": EncoderManifest.kind, "name": name, "role": "encoder",
            "architecture": head.rawValue, "backbone": "ir_se50",
            "style_count": styles, "w_dim": w, "input_size": EncoderArchitecture.inputSize,
            // TriPlaneNet resizes tensors (no antialiasing); e4e, pSp and PREIM3D resize PIL images (bilinear).
            "preprocessing": (e.layout == .triplanenet ? EncoderPreprocessing.bilinearNoAntialias : .pilBilinear).rawValue,
            "source": request.file.lastPathComponent, "latent_avg": latentSource,
            "description": "\(network) from a \(e.layout.rawValue)" + (refiner.map { ", with \($0.summary)'s tri-plane encoder" } ?? ""),
            "provenance": provenance,
        ]
        if let refiner { manifest["refiner"] = refiner.summary }
        if let license = request.license ?? known?.license { manifest["license"] = license }
        if let published = request.published ?? known?.published { manifest["published"] = published }
        let json = try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys])
        try BundleWriter.write(tensors: weights.tensors, manifest: json, to: output, metadata: ["source": request.file.lastPathComponent],
                               extraFiles: extra)
        return ImportResult(bundle: output, kind: EncoderManifest.kind, summary: [
            "\(network) from a \(e.layout.rawValue): \(styles) styles × \(w), stage widths \(arch.stageWidths), latent_avg from \(latentSource)",
        ] + (refiner.map { ["tri-plane encoder: \($0.summary), \($0.version == .v1 ? "offsets added to" : "refined planes replacing") the generator's planes"] } ?? []))
    }
}

extension ModelImporter {
    /// Parses a checkpoint held in memory as `run` would, materialising every tensor, without writing
    /// anything; returns the number of tensors. For the fuzz targets and quick checks.
    @discardableResult
    public static func inspect(_ bytes: ArraySlice<UInt8>, file: String) throws -> Int {
        let parsed = try TorchCheckpoint.read(bytes, file: file) { root, _ -> Parsed in
            root.dict?["G_ema"] != nil ? .generator(try EG3DSnapshot(root, file: file)) : .encoder(try EncoderCheckpoint(root, file: file))
        }
        switch parsed {
        case let .generator(s): return try s.stateDict.materialize().count
        case let .encoder(e):
            _ = try e.latentAverage?.materialize(file: file, name: "latent_avg")
            return try e.stateDict.materialize().count + (e.refinerStateDict?.materialize().count ?? 0)
        }
    }
}
