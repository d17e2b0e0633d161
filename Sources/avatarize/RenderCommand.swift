import ArgumentParser
import Foundation
import Pipeline
import Reports
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

    func run() throws {
        let logger = makeLogger()
        let settings = try render.settings()
        let t = try LatentTrack.load(from: URL(fileURLWithPath: track))
        let m = try models.load()
        try t.check(source: URL(fileURLWithPath: source), model: m.trackIdentity, trackPath: track)
        let bar = ProgressDisplay(label: "render")
        let began = Date()
        var renderer = AvatarRenderer(models: m, settings: settings)
        let recorder = reportOptions.recorder(models: m, settings: settings)
        if let recorder {
            renderer.onFrame = { try recorder.observe($0) }
            renderer.observerNeedsSource = recorder.needsSource
        }
        let report = try renderer.render(t, source: URL(fileURLWithPath: source), output: URL(fileURLWithPath: output), logger: logger) { d, n in
            bar.update(done: d, total: n)
            return true
        }
        bar.finish()
        for n in report.notes { warn(n) }
        printRenderSummary(output, report)
        try reportOptions.write(recorder, input: source, output: output, encode: nil, render: report, seconds: Date().timeIntervalSince(began))
    }
}

func printRenderSummary(_ output: String, _ r: RenderReport) {
    print("\(output): \(r.frames) frames \(r.width)x\(r.height)")
    print(String(format: "  jitter (mean frame-to-frame distance): codes %.4f → %.4f, cameras %.4f → %.4f, rendered frames %.4f",
                 r.smoothing.codeJitterBefore, r.smoothing.codeJitterAfter, r.smoothing.cameraJitterBefore,
                 r.smoothing.cameraJitterAfter, r.frameJitter))
    printStages("render", r.stageSeconds, frames: r.frames)
}
