import ArgumentParser
import Foundation
import Models
import Pipeline
import Tensors
import Video

/// `avatarize bench pipeline`: the whole avatar run (faces, encoder, generator, compositing, video) on a
/// few frames of a clip, with the demo models or random weights in the full-size layouts.
struct BenchPipelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Time a whole avatar run per stage (demo models, or full-size random weights).",
        discussion: """
        Runs `avatarize run` on the first --frames frames of the clip and prints the encode and render \
        stages in ms per frame. With --full-size, the models are random weights in the released layouts \
        (ffhq512-128 generator, IR-SE50 e4e with 14 × 512 codes), written once to the cache (~0.8 GB): \
        their pictures mean nothing, their cost is the real one. The last line is \
        `frame_ms=… gflops=… sgemm_gflops=… encoder_ms=… generator_ms=… refinement_ms=…` (GFLOP/s of the encoder \
        and both generators' counted work over the whole frame time, refinement not counted; OpenBLAS's sgemm rate \
        measured in the same run). With --triplanenet, a random TriPlaneNet v2 encoder makes every frame render \
        from refined tri-planes; with --goae, a random GOAE encoder (Swin-V2) and AFA module make every frame \
        render from GOAE's mixed tri-plane. \
        Reading the models (face models and encoder before encoding, the generators before rendering; encoder \
        and generators never at once) is printed on its own line and left out of frame_ms. Build with -c release before quoting numbers.
        """
    )

    @Argument(help: "Clip to run on.") var input = "samples/talking-head.mp4"
    @Flag(help: "Random full-size models instead of the demo family.") var fullSize = false
    @Flag(help: "With --full-size: a random TriPlaneNet v2 encoder, so frames render from refined tri-planes (the refinement stage is timed).")
    var triplanenet = false
    @Flag(help: "With --full-size: a random GOAE encoder with its AFA module, so frames render from GOAE's mixed tri-plane (the refinement stage is timed).")
    var goae = false
    @Option(help: "Frames to run (default: 4 with --full-size, else 48).") var frames: Int?
    @Option(help: "Layout: avatar, side-by-side or paste-back.") var layout = "paste-back"
    @Option(help: "fp32, bf16 or auto (bf16 where the CPU has AVX512_BF16).") var precision: PrecisionChoice = .auto
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Option(help: "Rendered frames that may wait for compositing and video encoding while the next is generated (0: none, all in the frame loop).")
    var framesInFlight = 2

    func validate() throws {
        guard framesInFlight >= 0 else { throw ValidationError("--frames-in-flight must be 0 or more") }
        guard !triplanenet || fullSize else { throw ValidationError("--triplanenet needs --full-size") }
        guard !goae || fullSize else { throw ValidationError("--goae needs --full-size") }
        guard !(goae && triplanenet) else { throw ValidationError("--goae and --triplanenet are two different encoders: give one") }
    }

    func run() throws {
        Parallel.configure(threads: threads)
        let logger = makeLogger()
        let url = URL(fileURLWithPath: input)
        let info = try MediaInfo.probe(url)
        guard let rate = info.video?.frameRate, rate > 0 else {
            throw ValidationError("\(input): no video stream with a frame rate")
        }
        guard let layout = Layout(rawValue: layout) else { throw ValidationError("--layout: avatar, side-by-side or paste-back") }
        let n = frames ?? (fullSize ? 4 : 48)
        var selection = AvatarModels.Selection()
        if fullSize {
            let t = Clock.now()
            let (source, encoder) = goae ? try FullSizeRandomModels.ensureGOAE()
                : triplanenet ? try FullSizeRandomModels.ensureTriPlaneNet() : try FullSizeRandomModels.ensure()
            selection = .init(source: source, encoder: encoder, style: source.path)
            print(String(format: "full-size random bundles ready in %.1f s (%@)", Clock.now() - t, source.deletingLastPathComponent().path))
        }
        selection.precision = try precision.resolve()
        print("precision: \(selection.precision), threads: \(threads ?? Parallel.workers), frames in flight: \(framesInFlight)")
        let models = try AvatarModels.load(selection, logger: logger)
        var encoder = ClipEncoder()
        // Half a frame less than n frames, so exactly n start inside the range.
        encoder.duration = (Double(n) - 0.5) / rate
        var settings = RenderSettings()
        settings.layout = layout
        settings.framesInFlight = framesInFlight
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-bench-\(getpid()).mp4")
        defer { try? FileManager.default.removeItem(at: out) }
        let report = try runAvatar(input: url, output: out, models: models, encoder: encoder, settings: settings, logger: logger)
        let done = report.render.frames
        printStages("encode", report.encode.stageSeconds, frames: report.encode.frames)
        printStages("render", report.render.stageSeconds, frames: done)
        func ms(_ stages: [(String, Double)], _ name: String) -> Double {
            (stages.first { $0.0.trimmingCharacters(in: .whitespaces) == name }?.1 ?? 0) * 1000 / Double(max(done, 1))
        }
        if let peak = Clock.peakResidentBytes() { print(String(format: "peak memory: %.0f MB", Double(peak) / 1e6)) }
        // Reading the models is not frame time: the encoder is built and the generators read inside the run.
        let loadEncoder = report.encode.stageSeconds.first { $0.0 == "load encoder" }?.1 ?? 0
        let loadGenerators = report.render.stageSeconds.first { $0.0 == "load generators" }?.1 ?? 0
        let loadFaces = report.encode.stageSeconds.first { $0.0 == "load face models" }?.1 ?? 0
        let loads = loadEncoder + loadGenerators + loadFaces
        print(String(format: "models read in %.2f s (face models %.2f, encoder %.2f, generators %.2f)", loads, loadFaces, loadEncoder, loadGenerators))
        let frameSeconds = (report.seconds - loads) / Double(max(done, 1))
        // Counted work per frame: one encoder pass, and the style generator (plus the source generator's
        // styles, which cost no convolutions).
        let gflop = (models.encoderLayout.flopsPerImage
                     + models.styleArchitecture.flops(options: models.styleBundle.manifest.architecture).values.reduce(0, +)) / 1e9
        let sgemm = Gemm.measureRate(size: 1024, repeats: 3)
        print(String(format: "frame_ms=%.1f gflops=%.1f sgemm_gflops=%.1f encoder_ms=%.1f generator_ms=%.1f refinement_ms=%.1f frames=%d",
                     frameSeconds * 1000, gflop / frameSeconds, sgemm, ms(report.encode.stageSeconds, "encoder"),
                     ms(report.render.stageSeconds, "generator"), ms(report.render.stageSeconds, "refinement"), done))
    }
}
