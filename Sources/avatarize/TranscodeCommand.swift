import ArgumentParser
import Foundation
import Pipeline

struct TranscodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcode",
        abstract: "Decode a video to RGB frames and encode it again as H.264, keeping the audio.",
        discussion: """
        The identity pipeline every avatar render is built on: useful to check that a clip reads and \
        writes cleanly, to cut a time range, or to resize. The output keeps the source frame rate and \
        timestamps and carries the audio (copied when possible, else re-encoded to AAC).

        Example: avatarize transcode samples/talking-head.mp4 out.mp4 --start 1 --duration 2 --size 256x256
        """
    )

    @Argument(help: "Input video.", completion: .file()) var input: String
    @Argument(help: "Output video (.mp4 recommended).") var output: String
    @Option(help: "Start this many seconds into the input.") var start: Double = 0
    @Option(help: "Process only this many seconds.") var duration: Double?
    @Option(help: "Output size WxH (default: the source's, upright).") var size: PictureSize?
    @Option(help: "x264 quality, 0 (lossless) to 51; lower is better.") var crf: Int = 18
    @Option(help: "x264 preset: ultrafast … veryslow.") var preset: String = "medium"
    @Flag(help: "Leave the audio out.") var noAudio = false

    func validate() throws {
        guard (0...51).contains(crf) else { throw ValidationError("--crf must be between 0 and 51") }
    }

    func run() throws {
        let logger = makeLogger()
        var req = TranscodeRequest(input: URL(fileURLWithPath: input), output: URL(fileURLWithPath: output))
        req.start = start
        req.duration = duration
        req.size = size.map { ($0.width, $0.height) }
        req.crf = crf
        req.preset = preset
        req.keepAudio = !noAudio
        let bar = ProgressDisplay(label: "transcode")
        let report = try transcode(req, logger: logger) { done, total in
            bar.update(done: done, total: total)
            return true
        }
        bar.finish()
        for n in report.notes { warn(n) }
        if report.framesLost > 0 {
            warn("\(input): \(report.framesLost) corrupt frame(s) skipped")
        }
        let fps = report.seconds > 0 ? Double(report.frames) / report.seconds : 0
        print(String(format: "%@: %d frames %dx%d at %.3f fps%@, %@, %.1f s (%.1f fps)",
                     output, report.frames, report.width, report.height, report.frameRate,
                     report.hasAudio ? " with audio" : " (no audio)", report.encoder, report.seconds, fps))
    }
}
