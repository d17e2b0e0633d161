import Foundation
import Video
import XCTest
@testable import Pipeline

final class LatentTrackTests: XCTestCase {
    let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("samples/talking-head.mp4")
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-track-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func makeTrack(frames: Int = 5) throws -> LatentTrack {
        let src = try TrackSource.describe(sample, width: 256, height: 256, frameRate: Rational(25, 1), timeBase: Rational(1, 12800))
        var t = LatentTrack(source: src, model: "demo@1234", numWs: 3, wDim: 4)
        for i in 0..<frames {
            t.append(code: (0..<12).map { Float(i * 12 + $0) }, camera: (0..<25).map { Float($0) + Float(i) / 10 },
                     quad: (0..<8).map { Float($0 * i) }, pts: Int64(i * 512), faceFound: i != 2)
        }
        return t
    }

    func testRoundTrip() throws {
        let t = try makeTrack()
        let u = dir.appendingPathComponent("clip.track")
        try t.save(to: u)
        let back = try LatentTrack.load(from: u)
        XCTAssertEqual(back, t)
        XCTAssertEqual(back.seconds(3), 3 * 512 / 12800.0)
        XCTAssertEqual(back.faceFound, [true, true, false, true, true])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["clip.track"])
    }

    func testRefusesAnotherSourceOrModel() throws {
        let t = try makeTrack()
        XCTAssertNoThrow(try t.check(source: sample, model: "demo@1234", trackPath: "t"))
        XCTAssertThrowsError(try t.check(source: sample, model: "other@1", trackPath: "t")) {
            guard case TrackError.modelMismatch = $0 else { return XCTFail("\($0)") }
        }
        let copy = dir.appendingPathComponent("edited.mp4")
        var bytes = try Data(contentsOf: sample)
        bytes[bytes.count - 10] ^= 0xFF
        try bytes.write(to: copy)
        XCTAssertThrowsError(try t.check(source: copy, model: nil, trackPath: "t")) {
            guard case TrackError.sourceMismatch = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue("\($0)".contains("content differs"))
        }
    }

    func testNotATrack() throws {
        let u = dir.appendingPathComponent("x.track")
        try Data("hello".utf8).write(to: u)
        XCTAssertThrowsError(try LatentTrack.load(from: u)) { guard case TrackError.notATrack = $0 else { return XCTFail("\($0)") } }
        XCTAssertThrowsError(try LatentTrack.load(from: dir.appendingPathComponent("missing.track")))
    }

    func testSmoothingReportsLowerJitter() throws {
        var t = try makeTrack(frames: 40)
        // Make codes jitter: alternate ±1 on top of a ramp.
        t.replaceCodes(t.codes.enumerated().map { i, v in v * 0.01 + ((i / 12) % 2 == 0 ? 1 : -1) })
        let report = TrackSmoothing(codes: [.gaussian(sigma: 2)], cameras: .none, quads: .none).apply(to: &t)
        XCTAssertLessThan(report.codeJitterAfter, report.codeJitterBefore * 0.2)
        var same = try makeTrack(frames: 40)
        let before = same
        _ = TrackSmoothing.off.apply(to: &same)
        XCTAssertEqual(same, before)
    }

    func testPerLayerFilters() throws {
        var t = try makeTrack(frames: 20)
        t.replaceCodes(t.codes.enumerated().map { i, _ in (i / 12) % 2 == 0 ? 1 : -1 })
        let raw = t.codes
        _ = TrackSmoothing(codes: [.gaussian(sigma: 3), .none, .none], cameras: .none, quads: .none).apply(to: &t)
        for f in 0..<20 {
            for c in 4..<12 { XCTAssertEqual(t.codes[f * 12 + c], raw[f * 12 + c]) }
        }
        XCTAssertNotEqual(t.codes[5 * 12], raw[5 * 12])
    }
}
