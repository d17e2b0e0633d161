import ArgumentParser
import Foundation
import Pipeline
import Tensors
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
        enc.subject = try models.subjectChoice
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
        print("precision \(m.precision), \(Parallel.workers) threads")
    }
}
