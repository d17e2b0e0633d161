import Foundation
import XCTest
@testable import Video

/// Colour: each source is decoded by the matrix and range it is tagged with (checked against the RGB it was
/// made from and against the `ffmpeg` command's own conversion), HDR is refused with a clear message, and
/// the output is BT.709 limited and says so.
final class ColorTests: XCTestCase {
    var media: MediaFixtures!
    override func setUpWithError() throws { media = try MediaFixtures() }
    override func tearDown() { media.remove() }

    /// Saturated flat colours, where BT.601 and BT.709 disagree by tens of levels (pure red: G 0 vs ≈ 50).
    static let colors: [(String, [UInt8])] = [("0xC81E1E", [200, 30, 30]), ("0x1EB41E", [30, 180, 30]),
                                              ("0x2828DC", [40, 40, 220]), ("0xE6D250", [230, 210, 80])]

    /// A 4-frame clip of flat colour bands converted to YUV by `matrix`/`range` and tagged so, H.264
    /// lossless (-qp 0) so the YUV values are exactly the ones FFmpeg computed.
    func bandsClip(_ name: String, matrix: String, range: String, primaries: String, transfer: String, tag: Bool = true) throws -> URL {
        let inputs = Self.colors.flatMap { ["-f", "lavfi", "-i", "color=c=\($0.0):size=32x32:rate=5:duration=0.8"] }
        var args = inputs + ["-filter_complex", "hstack=inputs=\(Self.colors.count),scale=out_color_matrix=\(matrix):out_range=\(range),format=yuv444p",
                             "-c:v", "libx264", "-qp", "0", "-preset", "ultrafast"]
        if tag { args += ["-colorspace", matrix, "-color_range", range, "-color_primaries", primaries, "-color_trc", transfer] }
        let u = media.url(name)
        try media.ffmpeg(args + [u.path])
        return u
    }

    func firstFrame(_ url: URL) throws -> VideoFrame {
        let r = try VideoReader(url: url)
        return try XCTUnwrap(try r.nextFrame())
    }

    /// The `ffmpeg` command's RGB for the first frame (bilinear, as avatarize converts at the same size).
    func ffmpegRGB(_ url: URL, _ extra: String = "") throws -> [UInt8] {
        let out = media.url("ref-\(UUID().uuidString).rgb")
        try media.ffmpeg(["-i", url.path, "-frames:v", "1", "-vf", "scale=flags=bilinear\(extra),format=rgb24", "-f", "rawvideo", out.path])
        return [UInt8](try Data(contentsOf: out))
    }

    /// Largest channel difference between `frame` and the source colours at the centre of each band.
    func worstBandError(_ frame: VideoFrame) -> Int {
        var worst = 0
        for (k, c) in Self.colors.enumerated() {
            let x = 32 * k + 16, y = 16, i = (y * frame.width + x) * 3
            for ch in 0..<3 { worst = max(worst, abs(Int(frame.rgb[i + ch]) - Int(c.1[ch]))) }
        }
        return worst
    }

    func maxDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
        XCTAssertEqual(a.count, b.count)
        return zip(a, b).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }

    func checkTaggedSource(matrix: String, range: String, primaries: String, transfer: String, line: UInt = #line) throws {
        let clip = try bandsClip("\(matrix)-\(range).mp4", matrix: matrix, range: range, primaries: primaries, transfer: transfer)
        let frame = try firstFrame(clip)
        // 8-bit YUV quantisation moves a flat colour by a level or two, never more.
        XCTAssertLessThanOrEqual(worstBandError(frame), 3, "\(matrix) \(range): colours changed", line: line)
        XCTAssertLessThanOrEqual(maxDifference(frame.rgb, try ffmpegRGB(clip)), 2, "\(matrix) \(range): differs from ffmpeg", line: line)
    }

    func testBT709LimitedSource() throws {
        try checkTaggedSource(matrix: "bt709", range: "tv", primaries: "bt709", transfer: "bt709")
    }

    func testBT601LimitedSource() throws {
        try checkTaggedSource(matrix: "smpte170m", range: "tv", primaries: "smpte170m", transfer: "smpte170m")
    }

    func testBT2020LimitedSource() throws {
        // SDR BT.2020 (the 10-bit transfer curve, not PQ or HLG).
        try checkTaggedSource(matrix: "bt2020nc", range: "tv", primaries: "bt2020", transfer: "bt2020-10")
    }

    func testBT709FullRangeSource() throws {
        try checkTaggedSource(matrix: "bt709", range: "pc", primaries: "bt709", transfer: "bt709")
    }

    func testTheTagDecidesTheMatrix() throws {
        // The same BT.709 values read as BT.601 (FFmpeg's default for an untagged file) are visibly wrong:
        // the test above would fail if the reader ignored the tag.
        let untagged = try bandsClip("untagged.mp4", matrix: "bt709", range: "tv", primaries: "bt709", transfer: "bt709", tag: false)
        let frame = try firstFrame(untagged)
        XCTAssertGreaterThan(worstBandError(frame), 15)
        // …and untagged files are read exactly as `ffmpeg` reads them.
        XCTAssertLessThanOrEqual(maxDifference(frame.rgb, try ffmpegRGB(untagged)), 2)
    }

    func testHDRSourcesAreRefusedWithAClearMessage() throws {
        for transfer in ["arib-std-b67", "smpte2084"] {
            let clip = try bandsClip("hdr-\(transfer).mp4", matrix: "bt2020nc", range: "tv", primaries: "bt2020", transfer: transfer)
            XCTAssertThrowsError(try VideoReader(url: clip)) { error in
                guard case MediaError.highDynamicRange = error else { return XCTFail("\(transfer): \(error)") }
                let message = "\(error)"
                XCTAssertTrue(message.contains(clip.path) && message.contains("HDR") && message.contains("tonemap"), message)
            }
        }
    }

    func testOutputIsBT709LimitedAndTagged() throws {
        let w = 128, h = 32
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w { for ch in 0..<3 { rgb[(y * w + x) * 3 + ch] = Self.colors[x / 32].1[ch] } }
        }
        var o = VideoWriter.Options()
        o.crf = 0; o.preset = "ultrafast"; o.frameRate = Rational(5, 1)
        let out = media.url("tagged.mp4")
        let writer = try VideoWriter(url: out, width: w, height: h, options: o)
        for i in 0..<3 { try writer.write(VideoFrame(width: w, height: h, rgb: rgb, pts: Int64(i), timeBase: Rational(1, 5), index: i)) }
        try writer.finish()

        let tags = try media.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
                                             "stream=color_space,color_transfer,color_primaries,color_range", "-of", "default=nw=1", out.path])
        for expected in ["color_space=bt709", "color_transfer=bt709", "color_primaries=bt709", "color_range=tv"] {
            XCTAssertTrue(tags.contains(expected), "ffprobe says \(tags)")
        }
        // The stored values are BT.709's (Rec. ITU-R BT.709-6 item 3.2–3.3: Y = .2126 R + .7152 G + .0722 B,
        // scaled to 16…235 and 16…240); BT.601's weights would put pure colours tens of levels away.
        let yuvURL = media.url("tagged.yuv")
        try media.ffmpeg(["-i", out.path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "yuv420p", yuvURL.path])
        let yuv = [UInt8](try Data(contentsOf: yuvURL))
        for (k, c) in Self.colors.enumerated() {
            let r = Double(c.1[0]) / 255, g = Double(c.1[1]) / 255, b = Double(c.1[2]) / 255
            let ey = 0.2126 * r + 0.7152 * g + 0.0722 * b
            let y = 16 + 219 * ey, u = 128 + 224 * (b - ey) / 1.8556, v = 128 + 224 * (r - ey) / 1.5748
            let x = 32 * k + 16, row = 16
            XCTAssertEqual(Double(yuv[row * w + x]), y, accuracy: 1.5, "Y of band \(k)")
            XCTAssertEqual(Double(yuv[w * h + (row / 2) * (w / 2) + x / 2]), u, accuracy: 1.5, "U of band \(k)")
            XCTAssertEqual(Double(yuv[w * h + (w / 2) * (h / 2) + (row / 2) * (w / 2) + x / 2]), v, accuracy: 1.5, "V of band \(k)")
        }
        // And avatarize reads its own output back to the colours it wrote.
        XCTAssertLessThanOrEqual(worstBandError(try firstFrame(out)), 3)
    }
}
