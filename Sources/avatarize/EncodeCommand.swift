import ArgumentParser
import Foundation
import Pipeline
import Video

struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Find the face in every frame and encode the clip into a latent track (W+ codes, cameras, alignment).",
        discussion: """
        Encode once, render many: a track renders in any style and with any edits through `avatarize render` \
        without encoding again. The track records the clip's content hash and the models, and is refused \
        against anything else.

        Example: avatarize encode samples/talking-head.mp4 -o out/talking-head.track
        """
    )

    @Argument(help: "Input video.", completion: .file()) var input: String
    @Option(name: .shortAndLong, help: "Latent track to write (.track).") var output: String
    @OptionGroup var models: ModelOptions
    @Option(help: "Start this many seconds into the input.") var start: Double = 0
    @Option(help: "Encode only this many seconds.") var duration: Double?

    func run() throws {
        let logger = makeLogger()
        let out = URL(fileURLWithPath: output)
        try checkOutputPath(out, input: URL(fileURLWithPath: input))
        let m = try models.load()
        var enc = ClipEncoder(faceModels: models.facePaths)
        enc.start = start; enc.duration = duration
        let bar = ProgressDisplay(label: "encode")
        let (_, report) = try enc.encode(URL(fileURLWithPath: input), models: m, to: out, logger: logger) { stage, done, total in
            bar.update(done: done, total: total, unit: stage == "faces" ? "frames (faces)" : "frames")
            return true
        }
        bar.finish()
        if report.framesLost > 0 { warn("\(input): \(report.framesLost) corrupt frame(s) skipped") }
        print("\(output): \(report.frames) frames, faces found in \(report.facesFound), filled \(report.framesFilled)")
        printStages("encode", report.stageSeconds, frames: report.frames)
    }
}

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

    func run() throws {
        let logger = makeLogger()
        let settings = try render.settings()
        let t = try LatentTrack.load(from: URL(fileURLWithPath: track))
        let m = try models.load()
        try t.check(source: URL(fileURLWithPath: source), model: m.trackIdentity, trackPath: track)
        let bar = ProgressDisplay(label: "render")
        let report = try AvatarRenderer(models: m, settings: settings).render(t, source: URL(fileURLWithPath: source),
                                                                              output: URL(fileURLWithPath: output), logger: logger) { d, n in
            bar.update(done: d, total: n)
            return true
        }
        bar.finish()
        for n in report.notes { warn(n) }
        printRenderSummary(output, report)
    }
}

func printRenderSummary(_ output: String, _ r: RenderReport) {
    print("\(output): \(r.frames) frames \(r.width)x\(r.height)")
    print(String(format: "  jitter (mean frame-to-frame distance): codes %.4f → %.4f, cameras %.4f → %.4f, rendered frames %.4f",
                 r.smoothing.codeJitterBefore, r.smoothing.codeJitterAfter, r.smoothing.cameraJitterBefore,
                 r.smoothing.cameraJitterAfter, r.frameJitter))
    printStages("render", r.stageSeconds, frames: r.frames)
}

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
        let report = try runAvatar(input: URL(fileURLWithPath: input), output: URL(fileURLWithPath: output), models: m,
                                   encoder: enc, settings: settings, keepTrack: keepTrack.map { URL(fileURLWithPath: $0) },
                                   logger: logger) { stage, done, total in
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
    }
}
