import Foundation
import XCTest
@testable import Video

/// Audio that starts later than the video keeps its delay: a beep recorded on a flash frame is heard on
/// that frame in the output, whether the audio is copied or re-encoded.
final class AudioOffsetTests: XCTestCase {
    var media: MediaFixtures!
    override func setUpWithError() throws { media = try MediaFixtures() }
    override func tearDown() { media.remove() }

    static let rate = 25.0
    /// The flash is frame 37 (1.48 s); the beep is 0.98 s into an audio stream that starts 0.5 s late.
    static let flashFrame = 37

    /// Black video with one white frame, and a 40 ms 1 kHz beep in silence, the audio delayed by 0.5 s.
    func lateAudioClip(_ name: String, audioCodec: String) throws -> URL {
        let u = media.url(name)
        try media.ffmpeg([
            "-f", "lavfi", "-i", "color=c=black:s=64x48:r=25:d=3,drawbox=x=0:y=0:w=64:h=48:color=white:t=fill:enable='eq(n,\(Self.flashFrame))'",
            "-itsoffset", "0.5", "-f", "lavfi", "-i", "aevalsrc='if(between(t,0.98,1.02),sin(2*PI*1000*t),0)':s=44100:d=2.5",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", audioCodec, u.path])
        return u
    }

    /// Decodes `input` and encodes it to `output` with its audio, as `avatarize transcode` does.
    func transcode(_ input: URL, to output: URL, start: Double = 0) throws -> VideoWriter {
        let reader = try VideoReader(url: input, options: .init(start: start))
        var o = VideoWriter.Options()
        o.preset = "ultrafast"; o.frameRate = reader.frameRate; o.timeBase = reader.timeBase
        o.audio = .init(url: input, start: start)
        let writer = try VideoWriter(url: output, width: reader.width, height: reader.height, options: o)
        while let f = try reader.nextFrame() { try writer.write(f) }
        try writer.finish()
        return writer
    }

    /// Presentation time of the first bright frame, from ffprobe.
    func flashTime(_ u: URL) throws -> Double {
        let out = try media.run("ffprobe", ["-v", "error", "-f", "lavfi", "movie=\(u.path),signalstats", "-show_entries",
                                            "frame=pts_time:frame_tags=lavfi.signalstats.YAVG", "-of", "csv=p=0"])
        let bright = out.split(separator: "\n").lazy.map { $0.split(separator: ",").compactMap { Double($0) } }
            .first { $0.count == 2 && $0[1] > 128 }
        return try XCTUnwrap(bright, "no flash frame in \(u.path)")[0]
    }

    /// Time of the first loud audio sample on the file's timeline (silence padded in before the audio's start).
    func beepTime(_ u: URL) throws -> Double {
        let pcm = media.url("beep-\(UUID().uuidString).f32")
        try media.ffmpeg(["-i", u.path, "-map", "0:a", "-af", "aresample=async=1:first_pts=0", "-ac", "1", "-ar", "8000",
                          "-f", "f32le", pcm.path])
        let data = try Data(contentsOf: pcm)
        let samples = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let first = try XCTUnwrap(samples.firstIndex { abs($0) > 0.3 }, "no beep in \(u.path)")
        return Double(first) / 8000
    }

    func checkSync(audioCodec: String, container: String, expectReencode: Bool) throws {
        let source = try lateAudioClip("late.\(container)", audioCodec: audioCodec)
        // The source itself is in sync (the test's premise).
        XCTAssertEqual(try beepTime(source), try flashTime(source), accuracy: 0.5 / Self.rate)
        let output = media.url("out.mp4")
        let writer = try transcode(source, to: output)
        XCTAssertTrue(writer.hasAudio)
        XCTAssertEqual(writer.notes.contains { $0.contains("re-encoded") }, expectReencode)
        let flash = try flashTime(output), beep = try beepTime(output)
        XCTAssertEqual(flash, Double(Self.flashFrame) / Self.rate, accuracy: 0.5 / Self.rate)
        // Lip sync within one frame (rebasing the audio to its own start put the beep 0.5 s early).
        XCTAssertEqual(beep, flash, accuracy: 1 / Self.rate, "beep at \(beep) s, flash at \(flash) s")
    }

    func testLateAudioStaysInSyncWhenCopied() throws {
        try checkSync(audioCodec: "aac", container: "mp4", expectReencode: false)
    }

    func testLateAudioStaysInSyncWhenReencoded() throws {
        // PCM cannot go into MP4, so the writer re-encodes it to AAC.
        try checkSync(audioCodec: "pcm_s16le", container: "mov", expectReencode: true)
    }

    func testARangeKeepsTheOffsetToo() throws {
        let source = try lateAudioClip("late.mp4", audioCodec: "aac")
        let output = media.url("range.mp4")
        _ = try transcode(source, to: output, start: 1)
        // From 1 s on, the flash is 0.48 s in, and the beep with it.
        let flash = try flashTime(output), beep = try beepTime(output)
        XCTAssertEqual(flash, 0.48, accuracy: 0.5 / Self.rate)
        XCTAssertEqual(beep, flash, accuracy: 1 / Self.rate, "beep at \(beep) s, flash at \(flash) s")
    }
}
