import ArgumentParser
import Foundation
import Pipeline
import Reports
import Video

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Turn a talking-head clip into an avatar video: encode, smooth, edit, render, audio kept.",
        discussion: """
        With no models given it uses the built-in demo models (untrained; abstract pictures) so the whole \
        pipeline can be tried at once. Convert real models with tools/convert_eg3d.py and tools/convert_e4e.py.

        Examples:
          avatarize run samples/talking-head.mp4 -o out/avatar.mp4
          avatarize run clip.mp4 --model ffhq512 --encoder e4e --style caricature \\
              --directions directions/ --edit Smiling=1.5 --layout paste-back -o out/smile.mp4
        """
    )

    @Argument(help: "Input video.", completion: .file()) var input: String
    @Option(name: .shortAndLong, help: "Output video.") var output: String
    @OptionGroup var models: ModelOptions
    @OptionGroup var render: RenderOptions
    @OptionGroup var reportOptions: ReportOptions
    @Option(help: "Also keep the latent track here, to render again later without encoding.") var keepTrack: String?
    @Option(help: "Start this many seconds into the input.") var start: Double = 0
    @Option(help: "Process only this many seconds.") var duration: Double?

    func run() throws {
        let logger = makeLogger()
        let settings = try render.settings()
        let m = try models.load()
        var enc = ClipEncoder(faceModels: models.facePaths)
        enc.start = start; enc.duration = duration
        let bar = ProgressDisplay(label: "run")
        let recorder = reportOptions.recorder(models: m, settings: settings)
        let report = try runAvatar(input: URL(fileURLWithPath: input), output: URL(fileURLWithPath: output), models: m,
                                   encoder: enc, settings: settings, keepTrack: keepTrack.map { URL(fileURLWithPath: $0) },
                                   logger: logger, onFrame: recorder.map { r in { try r.observe($0) } },
                                   observerNeedsSource: recorder?.needsSource ?? false) { stage, done, total in
            bar.update(done: done, total: total, unit: "frames (\(stage))")
            return true
        }
        bar.finish()
        for n in report.render.notes { warn(n) }
        let e = report.encode
        if e.framesLost > 0 { warn("\(input): \(e.framesLost) corrupt frame(s) skipped") }
        print("faces: found in \(e.facesFound) of \(e.frames) frames, \(e.framesFilled) filled from neighbours")
        printStages("encode", e.stageSeconds, frames: e.frames)
        printRenderSummary(output, report.render)
        print(String(format: "total %.1f s, %.2f frames per second", report.seconds, Double(e.frames) / max(report.seconds, 1e-9)))
        try reportOptions.write(recorder, input: input, output: output, encode: e, render: report.render, seconds: report.seconds)
    }
}
