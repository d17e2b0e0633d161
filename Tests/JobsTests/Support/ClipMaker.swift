import Foundation
import TestSupport
import XCTest

/// Real short clips made with the `ffmpeg` command: H.264 video with an AAC tone.
enum ClipMaker {
    static func make(_ url: URL, seconds: Double, size: String = "64x64", rate: Int = 10) throws {
        guard let ffmpeg = ProcessRunner.which("ffmpeg") else { throw missing("ffmpeg") }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let output = try ProcessRunner.run(ffmpeg, [
            "-v", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=\(size):rate=\(rate):duration=\(seconds)",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=\(seconds)",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", url.path,
        ])
        guard output.status == 0 else { throw ClipError("ffmpeg could not make a clip: \(output.stderr)") }
    }

    /// The first `seconds` of `source`, re-encoded (so the cut is exact), with its audio.
    static func trim(_ source: URL, to url: URL, seconds: Double) throws {
        guard let ffmpeg = ProcessRunner.which("ffmpeg") else { throw missing("ffmpeg") }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let output = try ProcessRunner.run(ffmpeg, [
            "-v", "error", "-y", "-i", source.path, "-t", "\(seconds)",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", url.path,
        ])
        guard output.status == 0 else { throw ClipError("ffmpeg could not trim \(source.path): \(output.stderr)") }
    }

    /// Decoded video frame count and whether an audio stream exists, by ffprobe (independent of our decoder).
    static func probe(_ url: URL) throws -> (frames: Int, hasAudio: Bool) {
        guard let ffprobe = ProcessRunner.which("ffprobe") else { throw missing("ffprobe") }
        let video = try ProcessRunner.run(ffprobe, ["-v", "error", "-select_streams", "v:0", "-count_frames",
                                                    "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", url.path])
        let audio = try ProcessRunner.run(ffprobe, ["-v", "error", "-select_streams", "a", "-show_entries",
                                                    "stream=codec_type", "-of", "csv=p=0", url.path])
        guard video.status == 0 else { return (0, false) }
        let frames = Int(video.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        return (frames, audio.stdout.contains("audio"))
    }

    struct ClipError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// CI installs ffmpeg, so there a missing command is a failure; elsewhere the test is skipped with a reason.
    private static func missing(_ tool: String) -> any Error {
        let message = "the \(tool) command is needed to make and check test clips (Debian package ffmpeg)"
        return ProcessInfo.processInfo.environment["CI"] != nil ? ClipError(message) : XCTSkip(message)
    }
}
