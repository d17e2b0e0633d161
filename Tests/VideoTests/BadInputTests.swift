import Foundation
import XCTest
@testable import Video

/// Each kind of bad input gives its own readable error naming the file, and leaves no output behind.
final class BadInputTests: XCTestCase {
    var media: MediaFixtures!

    override func setUpWithError() throws { media = try MediaFixtures() }
    override func tearDown() { media.remove() }

    func transcodeAll(_ input: URL, _ output: URL) throws {
        let reader = try VideoReader(url: input)
        var o = VideoWriter.Options(); o.preset = "ultrafast"; o.frameRate = reader.frameRate; o.timeBase = reader.timeBase
        o.audio = .init(url: input)
        let writer = try VideoWriter(url: output, width: reader.width, height: reader.height, options: o)
        do {
            while let f = try reader.nextFrame() { try writer.write(f) }
            try writer.finish()
        } catch { writer.cancel(); throw error }
    }

    func expectError(_ input: URL, output: URL? = nil, file: StaticString = #filePath, line: UInt = #line,
                     _ check: (MediaError) -> Bool) {
        let out = output ?? media.url("out.mp4")
        let before = Set(media.listing())
        do {
            try transcodeAll(input, out)
            XCTFail("expected an error for \(input.lastPathComponent)", file: file, line: line)
        } catch let e as MediaError {
            XCTAssertTrue(check(e), "unexpected error: \(e)", file: file, line: line)
            XCTAssertTrue(e.description.contains(input.path) || e.description.contains(out.path),
                          "message should name the file: \(e)", file: file, line: line)
        } catch {
            XCTFail("not a MediaError: \(error)", file: file, line: line)
        }
        XCTAssertEqual(Set(media.listing()), before, "output or temporary file left behind", file: file, line: line)
    }

    func testMissingFile() {
        expectError(media.url("nope.mp4")) { if case .fileNotFound = $0 { return true }; return false }
    }

    func testNotMedia() throws {
        let u = media.url("notes.mp4")
        try Data("this is a text file, not a video\n".utf8).write(to: u)
        expectError(u) { if case .notMedia = $0 { return true }; return false }
    }

    func testNoVideoStream() throws {
        let u = media.url("tone.m4a")
        try media.ffmpeg(["-f", "lavfi", "-i", "sine=duration=0.5", "-c:a", "aac", u.path])
        expectError(u) { if case .noVideoStream = $0 { return true }; return false }
    }

    func testTruncatedWithoutIndex() throws {
        // Index (moov) at the end: cutting the file loses it, so nothing can be read.
        let clip = try media.testClip("whole.mp4", seconds: 2)
        let data = try Data(contentsOf: clip)
        let cut = media.url("cut.mp4")
        try data.prefix(data.count / 2).write(to: cut)
        expectError(cut) {
            switch $0 { case .notMedia, .corrupt: return true; default: return false }
        }
    }

    func testTruncatedWithIndexFirst() throws {
        // Index first (faststart): the file opens but its media data stops half way.
        let clip = try media.testClip("whole.mp4", seconds: 4, size: "320x240", extra: ["-movflags", "+faststart"])
        let data = try Data(contentsOf: clip)
        let cut = media.url("cut.mp4")
        try data.prefix(data.count / 2).write(to: cut)
        expectError(cut) { if case .corrupt = $0 { return true }; return false }
    }

    func testCorruptStretchIsSkippedAndCounted() throws {
        let clip = try media.testClip("whole.mp4", seconds: 4, size: "320x240", extra: ["-movflags", "+faststart", "-g", "25"])
        var data = try Data(contentsOf: clip)
        // Garble 8 KB in the middle of the media data.
        let mid = data.count / 2
        for i in mid..<(mid + 8192) { data[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 7) }
        let bad = media.url("garbled.mp4")
        try data.write(to: bad)
        let out = media.url("out.mp4")
        let reader = try VideoReader(url: bad)
        var o = VideoWriter.Options(); o.preset = "ultrafast"; o.frameRate = reader.frameRate; o.timeBase = reader.timeBase
        let writer = try VideoWriter(url: out, width: reader.width, height: reader.height, options: o)
        while let f = try reader.nextFrame() { try writer.write(f) }
        try writer.finish()
        XCTAssertGreaterThan(reader.framesLost, 0, "the corrupt stretch should be counted")
        XCTAssertGreaterThan(reader.framesDelivered, 50, "frames after the stretch should still come through")
        XCTAssertEqual(reader.framesDelivered + reader.framesLost, 100, accuracy: 2)
    }

    func testUnwritableOutput() throws {
        let clip = try media.testClip(seconds: 0.4)
        // A missing folder is created (`-o out/clip.mp4`); a path through a file cannot be.
        expectError(clip, output: clip.appendingPathComponent("out.mp4")) {
            if case .outputNotWritable = $0 { return true }; return false
        }
    }

    func testOutputWouldOverwriteInput() throws {
        let clip = try media.testClip(seconds: 0.4)
        let size = try Data(contentsOf: clip).count
        expectError(clip, output: clip) { if case .outputIsInput = $0 { return true }; return false }
        XCTAssertEqual(try Data(contentsOf: clip).count, size, "the input was touched")
    }

    func testAbandonedWriterLeavesNothing() throws {
        let clip = try media.testClip(seconds: 0.4)
        let before = Set(media.listing())
        do {
            let reader = try VideoReader(url: clip)
            var o = VideoWriter.Options(); o.frameRate = reader.frameRate; o.timeBase = reader.timeBase
            let writer = try VideoWriter(url: media.url("abandoned.mp4"), width: reader.width, height: reader.height, options: o)
            if let f = try reader.nextFrame() { try writer.write(f) }
            // No finish(): dropped mid-way, as a crash or error would.
        }
        XCTAssertEqual(Set(media.listing()), before)
    }
}
