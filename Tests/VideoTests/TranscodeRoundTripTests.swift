import Foundation
import XCTest
@testable import Video

/// Decode → RGB → encode round trips on real files made by ffmpeg.
final class TranscodeRoundTripTests: XCTestCase {
    var media: MediaFixtures!

    override func setUpWithError() throws { media = try MediaFixtures() }
    override func tearDown() { media.remove() }

    /// Reads every frame of `input` and writes it to `output`, audio carried, like the identity pipeline.
    func roundTrip(_ input: URL, _ output: URL, start: Double = 0, duration: Double? = nil) throws -> (VideoReader, VideoWriter) {
        let reader = try VideoReader(url: input, options: .init(start: start, duration: duration))
        var o = VideoWriter.Options()
        o.frameRate = reader.frameRate
        o.timeBase = reader.timeBase
        o.preset = "ultrafast"
        o.audio = .init(url: input, start: start, duration: duration)
        let writer = try VideoWriter(url: output, width: reader.width, height: reader.height, options: o)
        while let f = try reader.nextFrame() { try writer.write(f) }
        try writer.finish()
        return (reader, writer)
    }

    func testRoundTripKeepsFramesTimestampsAndAudio() throws {
        let input = try media.testClip(seconds: 2)
        let output = media.url("out.mp4")
        let (reader, writer) = try roundTrip(input, output)
        XCTAssertEqual(reader.framesDelivered, 50)
        XCTAssertEqual(reader.framesLost, 0)
        XCTAssertEqual(writer.encoderName, "libx264")
        let a = try media.probeFrames(input), b = try media.probeFrames(output)
        XCTAssertEqual(a.count, b.count)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1.0 / 25, "timestamps drift") }
        let vin = try XCTUnwrap(media.streamDuration(input, "v")), vout = try XCTUnwrap(media.streamDuration(output, "v"))
        XCTAssertEqual(vin, vout, accuracy: 1.0 / 25)
        let ain = try XCTUnwrap(media.streamDuration(input, "a")), aout = try XCTUnwrap(media.streamDuration(output, "a"))
        XCTAssertEqual(ain, aout, accuracy: 0.05, "audio duration changed")
        let info = try MediaInfo.probe(output)
        XCTAssertEqual(info.video?.width, 160)
        XCTAssertEqual(info.video?.codec, "h264")
        XCTAssertEqual(info.audio?.codec, "aac")
        XCTAssertEqual(try XCTUnwrap(info.video?.frameRate), 25, accuracy: 0.01)
        XCTAssertEqual(media.listing(), ["clip.mp4", "out.mp4"], "a temporary file was left behind")
    }

    func testPixelsSurviveTheRoundTrip() throws {
        // A near-lossless encode must give back nearly the same RGB: checks colour conversion both ways.
        let input = try media.testClip(seconds: 0.4)
        let output = media.url("out.mp4")
        let reader = try VideoReader(url: input)
        var o = VideoWriter.Options(); o.crf = 0; o.preset = "ultrafast"; o.frameRate = reader.frameRate; o.timeBase = reader.timeBase
        let writer = try VideoWriter(url: output, width: reader.width, height: reader.height, options: o)
        var originals: [[UInt8]] = []
        while let f = try reader.nextFrame() { originals.append(f.rgb); try writer.write(f) }
        try writer.finish()
        let back = try VideoReader(url: output)
        var i = 0
        while let f = try back.nextFrame() {
            let diff = zip(f.rgb, originals[i]).map { abs(Int($0) - Int($1)) }
            let mean = Double(diff.reduce(0, +)) / Double(diff.count)
            XCTAssertLessThan(mean, 3.0, "frame \(i) differs by \(mean) on average")
            i += 1
        }
        XCTAssertEqual(i, originals.count)
    }

    func testTimeRangeKeepsAudioInSync() throws {
        let input = try media.testClip(seconds: 3)
        let output = media.url("cut.mp4")
        let (reader, _) = try roundTrip(input, output, start: 1.0, duration: 1.0)
        XCTAssertEqual(reader.framesDelivered, 25, accuracy: 1)
        let frames = try media.probeFrames(output)
        XCTAssertEqual(try XCTUnwrap(frames.first), 0, accuracy: 1.0 / 25, "output should start at 0")
        let a = try XCTUnwrap(media.streamDuration(output, "a"))
        let v = try XCTUnwrap(media.streamDuration(output, "v"))
        XCTAssertEqual(a, 1.0, accuracy: 0.06)
        XCTAssertEqual(v, 1.0, accuracy: 1.0 / 25 + 0.001)
    }

    func testRotatedClipComesOutUpright() throws {
        // A 96x64 landscape picture tagged "display rotated 90°" (what a phone writes for portrait).
        let tagged = media.url("rot.mp4")
        let plain = media.url("plain.mp4")
        try media.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10:duration=0.5",
                          "-c:v", "libx264", "-preset", "ultrafast", plain.path])
        try media.ffmpeg(["-i", plain.path, "-c", "copy", "-metadata:s:v:0", "rotate=90", tagged.path])
        let upright = media.url("upright.mp4")   // ffmpeg's own autorotation, as the reference picture
        try media.ffmpeg(["-i", tagged.path, "-c:v", "libx264", "-crf", "0", "-preset", "ultrafast", upright.path])
        XCTAssertEqual(try MediaInfo.probe(tagged).video?.rotation, 90)
        let r = try VideoReader(url: tagged), ref = try VideoReader(url: upright)
        XCTAssertEqual(r.width, 64); XCTAssertEqual(r.height, 96)
        XCTAssertEqual(ref.width, 64); XCTAssertEqual(ref.height, 96)
        let f = try XCTUnwrap(r.nextFrame()), g = try XCTUnwrap(ref.nextFrame())
        let diff = zip(f.rgb, g.rgb).map { abs(Int($0) - Int($1)) }
        XCTAssertLessThan(Double(diff.reduce(0, +)) / Double(diff.count), 4.0, "picture not turned the way ffmpeg turns it")
    }

    func testOddSizeIsCroppedToEven() throws {
        let input = media.url("odd.mp4")   // yuv444p allows odd sides
        try media.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25:duration=0.4", "-vf", "format=yuv444p,crop=63:47:0:0",
                          "-c:v", "libx264", "-pix_fmt", "yuv444p", "-preset", "ultrafast", input.path])
        let output = media.url("odd-out.mp4")
        let (reader, writer) = try roundTrip(input, output)
        XCTAssertEqual(reader.width, 63); XCTAssertEqual(reader.height, 47)
        XCTAssertEqual(writer.width, 62); XCTAssertEqual(writer.height, 46)
        XCTAssertFalse(writer.notes.isEmpty)
        XCTAssertEqual(try media.probeFrames(output).count, reader.framesDelivered)
    }

    func testVariableFrameRateKeepsTimestamps() throws {
        // First 10 frames 1/30 s apart, the rest 2/30 s apart.
        let input = media.url("vfr.mp4")
        try media.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x64:rate=30:duration=1",
                          "-vf", "setpts='if(lt(N,10),N,2*N-10)/30/TB'", "-fps_mode", "vfr",
                          "-c:v", "libx264", "-preset", "ultrafast", "-video_track_timescale", "30000", input.path])
        let output = media.url("vfr-out.mp4")
        _ = try roundTrip(input, output)
        let a = try media.probeFrames(input), b = try media.probeFrames(output)
        XCTAssertEqual(a.count, 30)
        XCTAssertEqual(a.count, b.count)
        for (x, y) in zip(a, b) { XCTAssertEqual(x - a[0], y - b[0], accuracy: 0.002) }
    }

    func testPNGWriting() throws {
        let u = media.url("p.png")
        var rgb = [UInt8](repeating: 0, count: 5 * 3 * 3)
        rgb[0] = 255
        try ImageFile.writePNG(rgb: rgb, width: 5, height: 3, to: u)
        let info = try MediaInfo.probe(u)
        XCTAssertEqual(info.video?.codec, "png")
        XCTAssertEqual(info.video?.width, 5)
        let r = try VideoReader(url: u)
        let f = try XCTUnwrap(r.nextFrame())
        XCTAssertEqual(f.rgb, rgb)
    }
}

func XCTAssertEqual(_ a: Int, _ b: Int, accuracy: Int, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertLessThanOrEqual(abs(a - b), accuracy, "\(a) is not within \(accuracy) of \(b)", file: file, line: line)
}
