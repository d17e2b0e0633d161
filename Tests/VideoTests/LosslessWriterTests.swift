import XCTest
@testable import Video

/// Lossless intermediate files give back exactly the RGB frames and timestamps written into them.
final class LosslessWriterTests: XCTestCase {
    var media: MediaFixtures!
    override func setUpWithError() throws { media = try MediaFixtures() }
    override func tearDown() { media.remove() }

    func testLosslessRoundTripIsExact() throws {
        let w = 34, h = 20, tb = Rational(1, 90_000)
        var frames: [VideoFrame] = []
        var seed: UInt32 = 7
        for i in 0..<5 {
            let rgb = (0..<(w * h * 3)).map { _ -> UInt8 in seed = seed &* 1_664_525 &+ 1_013_904_223; return UInt8(seed >> 24) }
            frames.append(VideoFrame(width: w, height: h, rgb: rgb, pts: Int64(i) * 3600, timeBase: tb, index: i))
        }
        var o = VideoWriter.Options()
        o.lossless = true; o.frameRate = Rational(25, 1); o.timeBase = tb
        let url = media.url("part.mkv")
        let writer = try VideoWriter(url: url, width: w, height: h, options: o)
        XCTAssertEqual(writer.encoderName, "ffv1")
        for f in frames { try writer.write(f) }
        try writer.finish()
        let reader = try VideoReader(url: url)
        var back: [VideoFrame] = []
        while let f = try reader.nextFrame() { back.append(f) }
        XCTAssertEqual(back.count, frames.count)
        for (a, b) in zip(frames, back) {
            XCTAssertEqual(a.rgb, b.rgb, "frame \(a.index) changed")
            XCTAssertEqual(Double(b.pts) * b.timeBase.value, Double(a.pts) * tb.value, accuracy: 1e-3)
        }
    }
}
