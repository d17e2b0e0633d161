import ArgumentParser
import Foundation
import Pipeline
import Reports
import Tensors
import Video

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Turn a talking-head clip into an avatar video: encode, smooth, edit, render, audio kept.",
        discussion: """
        With no models given it uses the built-in demo models (a fitted cartoon head, not a GAN trained on \
        faces) so the whole pipeline can be tried at once. Import real models with `avatarize models import`.

        Examples:
          avatarize run samples/talking-head.mp4 -o out/avatar.mp4 --layout side-by-side
          avatarize run samples/talking-head.mp4 --style caricature --directions directions/demo \\
              --edit smile=1.5 -o out/smile.mp4
          avatarize run clip.mp4 --model models/ffhq512 --encoder models/e4e --style models/caricature \\
              --directions directions/eg3d-ffhq512-preim3d --edit Smiling=1.5 --layout paste-back -o out/smile.mp4
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
    @Option(help: "Also write the run summary (faces, timings, identity figure) as JSON here.") var json: String?

    func run() throws {
        let logger = makeLogger()
        let settings = try render.settings()
        let m = try models.load()
        var enc = ClipEncoder(faceModels: models.facePaths)
        enc.subject = try models.subjectChoice
        enc.start = start; enc.duration = duration
        let identity = makeIdentityFigure(models.facePaths)
        let bar = ProgressDisplay(label: "run")
        let recorder = reportOptions.recorder(models: m, settings: settings)
        let report = try runAvatar(input: URL(fileURLWithPath: input), output: URL(fileURLWithPath: output), models: m,
                                   encoder: enc, settings: settings, keepTrack: keepTrack.map { URL(fileURLWithPath: $0) },
                                   identity: identity, logger: logger, onFrame: recorder.map { r in { try r.observe($0) } },
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
        if let identity { print(identity.summary.line) }
        print(String(format: "total %.1f s, %.2f frames per second, precision %@, %d threads", report.seconds,
                     Double(e.frames) / max(report.seconds, 1e-9), m.precision.rawValue, Parallel.workers))
        if let json {
            try writeSummaryJSON(RunSummaryJSON(input: input, output: output, frames: e.frames, facesFound: e.facesFound,
                                                framesFilled: e.framesFilled, seconds: report.seconds,
                                                identity: identity?.summary), to: json)
        }
        try reportOptions.write(recorder, input: input, output: output, encode: e, render: report.render, seconds: report.seconds,
                                identity: identity)
    }
}
