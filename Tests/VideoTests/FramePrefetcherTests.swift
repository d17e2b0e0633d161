import Foundation
import XCTest
@testable import Video

final class FramePrefetcherTests: XCTestCase {
    var media: MediaFixtures!
    override func setUpWithError() throws { media = try MediaFixtures() }
    override func tearDown() { media.remove() }

    func testYieldsTheSameFramesInOrder() throws {
        let clip = try media.testClip(seconds: 1, size: "64x48")
        var direct: [(Int64, [UInt8])] = []
        let r = try VideoReader(url: clip)
        while let f = try r.nextFrame() { direct.append((f.pts, f.rgb)) }
        let p = FramePrefetcher(reader: try VideoReader(url: clip), depth: 2)
        var i = 0
        while let f = try p.next() {
            XCTAssertEqual(f.pts, direct[i].0)
            XCTAssertEqual(f.rgb, direct[i].1)
            i += 1
        }
        XCTAssertEqual(i, direct.count)
        XCTAssertEqual(i, 25)
    }

    func testStoppingEarlyStopsDecodingAndEndsTheFrames() throws {
        let clip = try media.testClip(seconds: 1, size: "64x48")
        let p = FramePrefetcher(reader: try VideoReader(url: clip), depth: 1)
        XCTAssertEqual(try p.next()?.index, 0)
        p.stop()
        // The decoder ran at most the buffer's depth (plus the frame in flight) ahead of the caller…
        let decoded = p.reader.framesDelivered
        XCTAssertLessThanOrEqual(decoded, 3)
        // …and no further once stopped; what was buffered is still handed out in order, then nil
        // (next() after stop() used to wait forever for a worker that had quit).
        var rest: [Int] = []
        while let f = try p.next() { rest.append(f.index) }
        XCTAssertEqual(rest, Array(1..<decoded))
        XCTAssertEqual(p.reader.framesDelivered, decoded)
        p.stop()
    }

    func testErrorsSurfaceAfterTheGoodFrames() throws {
        let clip = try media.testClip("whole.mp4", seconds: 4, size: "320x240", extra: ["-movflags", "+faststart"])
        let data = try Data(contentsOf: clip)
        let cut = media.url("cut.mp4")
        try data.prefix(data.count / 2).write(to: cut)
        let p = FramePrefetcher(reader: try VideoReader(url: cut))
        var n = 0
        XCTAssertThrowsError(try { while try p.next() != nil { n += 1 } }()) { e in
            guard case MediaError.corrupt = e else { return XCTFail("unexpected \(e)") }
        }
        XCTAssertGreaterThan(n, 0)
    }
}
