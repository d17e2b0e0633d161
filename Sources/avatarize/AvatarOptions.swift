import ArgumentParser
import Faces
import Foundation
import Pipeline
import Reports
import Tensors

extension PrecisionChoice: ExpressibleByArgument {}

/// Which networks to use (shared by encode, render and run).
struct ModelOptions: ParsableArguments {
    @Option(name: .customLong("model"), help: "Source generator bundle (EG3D trained on faces). Default: the built-in demo models.")
    var model: String?
    @Option(help: "Encoder bundle (e4e for the source generator). Default: the built-in demo models.")
    var encoder: String?
    @Option(help: "Style: a style generator bundle folder, a demo style (\(Pipeline.demoStyleNames.joined(separator: ", "))), or source. Default: source (the source generator's own look; with the demo models, the plain cartoon head).")
    var style: String?
    @Option(name: .customLong("face-models"), help: "Folder with the Haar cascades and dlib's shape predictor (default: Debian's paths, or $AVATARIZE_FACE_MODELS).")
    var faceModels: String?
    @Option(help: "Arithmetic of the encoder's and generators' convolutions: fp32, bf16 (bfloat16 products, float32 sums; needs AVX512_BF16) or auto (the default: bf16 where the CPU has AVX512_BF16, else fp32).")
    var precision: PrecisionChoice = .auto
    @Option(help: "Worker threads for the networks (default: all cores).")
    var threads: Int?
    @Option(help: ArgumentHelp("Which face is the subject: auto, largest, center, N (the N-th from the left where faces first appear) or X,Y (the face nearest that point).", valueName: "choice"))
    var face: String = "auto"

    var subjectChoice: SubjectChoice {
        get throws {
            guard let c = SubjectChoice(argument: face) else {
                throw ValidationError("--face \(face): expected auto, largest, center, a number from 1, or X,Y")
            }
            return c
        }
    }

    var selection: AvatarModels.Selection {
        get throws {
            AvatarModels.Selection(source: model.map { URL(fileURLWithPath: $0) }, encoder: encoder.map { URL(fileURLWithPath: $0) },
                                   style: style, precision: try precision.resolve())
        }
    }

    func load() throws -> AvatarModels {
        if let threads { Parallel.configure(threads: threads) }
        let m = try AvatarModels.load(try selection, logger: makeLogger())
        if m.isDemo { warn(Pipeline.demoNotice) }
        return m
    }

    var facePaths: FaceModelPaths { FaceModelPaths(directory: faceModels) }
}

/// How to render (shared by render and run).
struct RenderOptions: ParsableArguments {
    @Option(name: .customLong("edit"), help: ArgumentHelp("Semantic edit NAME=STRENGTH or NAME=KEYS (e.g. smile=1.5, mouth_open=0:0,2s:1); repeatable. Needs --directions (directions/demo for the demo models).", valueName: "name=value"))
    var edits: [String] = []
    @Option(help: "Folder of direction files (.npy/.safetensors, or PREIM3D's published .pt; name = file name): directions/demo for the demo models, InterFaceGAN's for real ones.")
    var directions: String?
    @Option(name: .customLong("style-edit"), help: ArgumentHelp("StyleSpace edit LAYER:CHANNEL=VALUE in units of the channel's std (e.g. b64.torgb:3=10; in the demo models only the last ToRGB layer's styles vary with the code, so other layers' edits show little); repeatable.", valueName: "layer:channel=value"))
    var styleEdits: [String] = []
    @Option(help: ArgumentHelp("Geometry strength α between the source's and the style's early-layer styles (0 = source shape, 1 = style shape; keyframes allowed).", valueName: "alpha"))
    var geometry: String?
    @Option(help: ArgumentHelp("Thin-plate-spline warp of the front tri-plane: a JSON file {\"from\": [[x,y],…], \"to\": [[x,y],…]} in plane coordinates [-1, 1], or exaggerate[:FACTOR].", valueName: "file|exaggerate"))
    var tps: String?
    @Option(help: "Camera: follow (the head pose, clamped), frontal, orbit[:SECONDS], or YAW,PITCH in radians.")
    var camera: String = "follow"
    @Option(help: "Output layout: avatar, side-by-side, paste-back.")
    var layout: String = "avatar"
    @Option(help: ArgumentHelp("Smoothing of the W+ codes: none, gaussian:SIGMA (frames; one value or one per layer, separated by /), ema:ALPHA, one-euro:MINCUTOFF,BETA.", valueName: "filter"))
    var smooth: String = "gaussian:1.5"
    @Option(name: .customLong("smooth-camera"), help: "Smoothing of the cameras (same forms as --smooth).")
    var smoothCamera: String = "gaussian:2"
    @Option(help: "Also write the depth as a grey video to this file.")
    var depth: String?
    @Option(help: "x264 quality, 0 (lossless) to 51.") var crf: Int = 18
    @Option(help: "x264 preset: ultrafast … veryslow.") var preset: String = "medium"
    @Flag(help: "Leave the audio out.") var noAudio = false
    @Flag(help: "With a TriPlaneNet encoder and --style source, render the W+ codes alone instead of tri-planes refined on each frame (faster, less of the person's detail).")
    var noRefinement = false

    func settings() throws -> RenderSettings {
        var s = RenderSettings()
        s.edits = try edits.map { e in
            guard let v = NamedEdit(argument: e) else { throw ValidationError("--edit \(e): expected NAME=VALUE or NAME=TIME:VALUE,…") }
            return v
        }
        if let d = directions { s.directions = try DirectionLibrary(folder: URL(fileURLWithPath: d)) }
        if !s.edits.isEmpty && s.directions == nil { throw ValidationError("--edit needs --directions DIR (a folder of direction files)") }
        s.styleEdits = try styleEdits.map { e in
            guard let v = StyleChannelEdit(argument: e) else { throw ValidationError("--style-edit \(e): expected LAYER:CHANNEL=VALUE") }
            return v
        }
        if let g = geometry {
            guard let v = EditValue(parsing: g) else { throw ValidationError("--geometry \(g): expected a number or keyframes") }
            s.geometry = v
        }
        if let t = tps { s.planeWarp = try Self.parseTPS(t) }
        guard let cam = CameraMode(argument: camera) else { throw ValidationError("--camera \(camera): expected follow, frontal, orbit[:SECONDS] or YAW,PITCH") }
        s.camera = cam
        guard let l = Layout(rawValue: layout) else { throw ValidationError("--layout \(layout): expected avatar, side-by-side or paste-back") }
        s.layout = l
        let layers = smooth.split(separator: ":", maxSplits: 1)
        if layers.count == 2, layers[0].lowercased().hasPrefix("gauss"), layers[1].contains("/") {
            s.smoothing.codes = try layers[1].split(separator: "/").map { sigma in
                guard let f = TemporalFilter(spec: "gaussian:\(sigma)") else { throw ValidationError("--smooth \(smooth): bad σ '\(sigma)'") }
                return f
            }
        } else {
            guard let f = TemporalFilter(spec: smooth) else { throw ValidationError("--smooth \(smooth): expected none, gaussian:SIGMA, ema:ALPHA or one-euro:MINCUTOFF,BETA") }
            s.smoothing.codes = [f]
        }
        guard let fc = TemporalFilter(spec: smoothCamera) else { throw ValidationError("--smooth-camera \(smoothCamera): not a filter") }
        s.smoothing.cameras = fc
        s.depthOutput = depth.map { URL(fileURLWithPath: $0) }
        guard (0...51).contains(crf) else { throw ValidationError("--crf must be between 0 and 51") }
        s.crf = crf; s.preset = preset; s.keepAudio = !noAudio
        s.refinePlanes = !noRefinement
        return s
    }

    static func parseTPS(_ arg: String) throws -> ThinPlateSpline {
        if arg.lowercased().hasPrefix("exaggerate") {
            let parts = arg.split(separator: ":")
            let factor = parts.count > 1 ? Double(parts[1]) : 1.3
            guard let factor, factor > 0 else { throw ValidationError("--tps \(arg): the factor must be a positive number") }
            return try ThinPlateSpline.exaggerate(factor: factor)
        }
        let url = URL(fileURLWithPath: arg)
        guard let data = try? Data(contentsOf: url) else { throw ValidationError("--tps \(arg): no such file") }
        struct Points: Decodable { var from: [[Double]]; var to: [[Double]] }
        guard let p = try? JSONDecoder().decode(Points.self, from: data),
              p.from.allSatisfy({ $0.count == 2 }), p.to.allSatisfy({ $0.count == 2 }) else {
            throw ValidationError("\(arg): expected JSON {\"from\": [[x, y], …], \"to\": [[x, y], …]}")
        }
        do {
            return try ThinPlateSpline(from: p.from.map { SIMD2($0[0], $0[1]) }, to: p.to.map { SIMD2($0[0], $0[1]) })
        } catch {
            throw ValidationError("\(arg): \(error)")
        }
    }
}

func printStages(_ title: String, _ stages: [(String, Double)], frames: Int) {
    let total = stages.filter { !$0.0.hasPrefix(" ") }.reduce(0) { $0 + $1.1 }
    let n = Double(max(frames, 1))
    func row(_ name: String, _ s: Double) -> String {
        name.padding(toLength: 22, withPad: " ", startingAt: 0)
            + String(format: "%10.1f ms total %9.2f ms/frame", s * 1000, s * 1000 / n)
    }
    print("\(title) (\(frames) frames):")
    for (name, s) in stages { print("  " + row(name, s)) }
    print("  " + row("all", total) + String(format: "  (%.2f fps)", n / max(total, 1e-9)))
}

/// `--report R.html` for `run` and `render`.
struct ReportOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Also write a self-contained HTML report of the clip (pose, smoothing, faces, timings, contact sheet) here.", valueName: "file.html"))
    var report: String?

    /// A recorder to hand to the renderer when a report was asked for.
    func recorder(models: AvatarModels, settings: RenderSettings) -> ClipReportRecorder? {
        report == nil ? nil : ClipReportRecorder(numWs: models.styleArchitecture.numWs, settings: settings,
                                                 precision: models.precision.rawValue)
    }

    func write(_ recorder: ClipReportRecorder?, input: String, output: String, encode: EncodeReport?, render: RenderReport, seconds: Double,
               identity: IdentityFigure?) throws {
        guard let recorder, let report else { return }
        let r = try recorder.report(input: URL(fileURLWithPath: input), output: URL(fileURLWithPath: output), encode: encode,
                                    render: render, seconds: seconds, identity: identity.map(ClipReport.Identity.init))
        try ReportPage.write(r, to: URL(fileURLWithPath: report))
        print("report: \(report)")
    }
}
