import ArgumentParser
import Faces
import Foundation
import Pipeline
import Reports
import Tensors
import Video

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render a latent track as an avatar video, with a style, edits, camera and layout.",
        discussion: """
        Example: avatarize render out/talking-head.track --source samples/talking-head.mp4 --style poster \
        --camera orbit --layout side-by-side -o out/poster.mp4
        """
    )

    @Argument(help: "Latent track made by `avatarize encode`.", completion: .file()) var track: String
    @Option(help: "The clip the track was encoded from (for audio, layouts and the check that it matches).") var source: String
    @Option(name: .shortAndLong, help: "Output video.") var output: String
    @OptionGroup var models: ModelOptions
    @OptionGroup var render: RenderOptions
    @OptionGroup var reportOptions: ReportOptions
    @Option(help: "Also write the render summary (frames, identity figure) as JSON here.") var json: String?

    func run() throws {
        let logger = makeLogger()
        let settings = try render.settings()
        let t = try LatentTrack.load(from: URL(fileURLWithPath: track))
        let m = try models.load()
        try t.check(source: URL(fileURLWithPath: source), model: m.trackIdentity, trackPath: track)
        let bar = ProgressDisplay(label: "render")
        let began = Date()
        var renderer = AvatarRenderer(models: m, settings: settings)
        let identity = makeIdentityFigure(models.facePaths)
        let recorder = reportOptions.recorder(models: m, settings: settings)
        // The renderer has one observer slot: the identity figure and the report share it.
        if identity != nil || recorder != nil {
            renderer.onFrame = { frame in
                try identity?.observe(frame)
                try recorder?.observe(frame)
            }
            renderer.observerNeedsSource = identity != nil || (recorder?.needsSource ?? false)
        }
        let report = try renderer.render(t, source: URL(fileURLWithPath: source), output: URL(fileURLWithPath: output), logger: logger) { d, n in
            bar.update(done: d, total: n)
            return true
        }
        bar.finish()
        for n in report.notes { warn(n) }
        printRenderSummary(output, report)
        try reportOptions.write(recorder, input: source, output: output, encode: nil, render: report, seconds: Date().timeIntervalSince(began),
                                identity: identity)
        print("precision \(m.precision), \(Parallel.workers) threads")
        if let identity { print(identity.summary.line) }
        if let json {
            try writeSummaryJSON(RunSummaryJSON(input: source, output: output, frames: report.frames, identity: identity?.summary), to: json)
        }
    }
}

/// The identity figure's observer, or nil (with a warning saying why) when its models are missing.
func makeIdentityFigure(_ paths: FaceModelPaths) -> IdentityFigure? {
    do {
        return try IdentityFigure(paths: paths)
    } catch {
        warn("no identity figure: \(error)")
        return nil
    }
}

/// What `run --json` and `render --json` write.
struct RunSummaryJSON: Encodable {
    var input: String
    var output: String
    var frames: Int
    var facesFound: Int?
    var framesFilled: Int?
    var seconds: Double?
    var identity: IdentityFigure.Summary?
}

func writeSummaryJSON(_ summary: RunSummaryJSON, to path: String) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys, .prettyPrinted]
    do {
        try enc.encode(summary).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw ValidationError("cannot write \(path): \(error.localizedDescription)")
    }
}

func printRenderSummary(_ output: String, _ r: RenderReport) {
    print("\(output): \(r.frames) frames \(r.width)x\(r.height)")
    print(String(format: "  jitter (mean frame-to-frame distance): codes %.4f → %.4f, cameras %.4f → %.4f, rendered frames %.4f",
                 r.smoothing.codeJitterBefore, r.smoothing.codeJitterAfter, r.smoothing.cameraJitterBefore,
                 r.smoothing.cameraJitterAfter, r.frameJitter))
    printStages("render", r.stageSeconds, frames: r.frames)
}
