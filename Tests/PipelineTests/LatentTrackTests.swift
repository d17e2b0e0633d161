import Foundation
import Tensors
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

    func source() throws -> TrackSource {
        try TrackSource.describe(sample, width: 256, height: 256, frameRate: Rational(25, 1), timeBase: Rational(1, 12800))
    }

    /// Frame i of the test tracks: 3 × 4 codes from `code` (a ramp by default), cameras, quads and
    /// landmarks that differ per frame, pts 512 apart, no face in frame 2.
    func frame(_ i: Int, code: ((Int, Int) -> Float)? = nil) -> TrackFrame {
        TrackFrame(code: (0..<12).map { code?(i, $0) ?? Float(i * 12 + $0) }, camera: (0..<25).map { Float($0) + Float(i) / 10 },
                   quad: (0..<8).map { Float($0 * i) }, landmarks: (0..<136).map { Float($0) - Float(i) },
                   pts: Int64(i * 512), faceFound: i != 2)
    }

    func makeTrack(frames: Int = 5, name: String = "clip.track", code: ((Int, Int) -> Float)? = nil) throws -> LatentTrack {
        let w = try LatentTrackWriter(url: dir.appendingPathComponent(name), source: try source(), model: "demo@1234", numWs: 3, wDim: 4)
        for i in 0..<frames { try w.append(frame(i, code: code)) }
        return try w.finish()
    }

    func testRoundTrip() throws {
        let t = try makeTrack()
        XCTAssertEqual(t.count, 5)
        XCTAssertEqual(t.facesFound, 4)
        let back = try LatentTrack.load(from: dir.appendingPathComponent("clip.track"))
        XCTAssertEqual(back.source, try source())
        XCTAssertEqual(back.model, "demo@1234")
        for i in 0..<5 { XCTAssertEqual(try back.frame(i), frame(i)) }
        XCTAssertEqual(try back.seconds(3), 3 * 512 / 12800.0)
        XCTAssertEqual(try back.codes(1..<3), (12..<36).map(Float.init))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["clip.track"], "no spool or temporary file is left")
    }

    func testTrackIsPlainSafetensorsWithExactTimestamps() throws {
        _ = try makeTrack()
        let file = try SafeTensorsFile(url: dir.appendingPathComponent("clip.track"))
        XCTAssertEqual(file.shape(of: "codes"), [5, 3, 4])
        XCTAssertEqual(file.shape(of: "landmarks"), [5, 68, 2])
        XCTAssertEqual(file.entries["pts"]?.dtype, .i64)
        XCTAssertEqual(try file.tensor("pts").data, [0, 512, 1024, 1536, 2048])
        XCTAssertEqual(try file.tensor("face_found").data, [1, 1, 0, 1, 1])
        XCTAssertEqual(try file.tensor("times").data[4], Float(4 * 512 / 12800.0))
    }

    func testCancelledOrAbandonedWriterLeavesNothing() throws {
        let u = dir.appendingPathComponent("gone.track")
        let w = try LatentTrackWriter(url: u, source: try source(), model: "m", numWs: 3, wDim: 4)
        try w.append(frame(0))
        w.cancel()
        do {
            let abandoned = try LatentTrackWriter(url: dir.appendingPathComponent("abandoned.track"), source: try source(), model: "m", numWs: 3, wDim: 4)
            try abandoned.append(frame(0))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
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

    func testNotATrackOrTruncated() throws {
        let u = dir.appendingPathComponent("x.track")
        try Data("hello".utf8).write(to: u)
        XCTAssertThrowsError(try LatentTrack.load(from: u)) { guard case TrackError.notATrack = $0 else { return XCTFail("\($0)") } }
        XCTAssertThrowsError(try LatentTrack.load(from: dir.appendingPathComponent("missing.track")))
        // A track from the first format (timestamps in the header) asks to be encoded again.
        let old = dir.appendingPathComponent("old.track")
        try SafeTensorsWriter.write(["codes": Tensor(shape: [1, 3, 4], data: [Float](repeating: 0, count: 12))], to: old,
                                    metadata: ["avatarize": #"{"format":"avatarize-latent-track/1","pts":[0]}"#])
        XCTAssertThrowsError(try LatentTrack.load(from: old)) { XCTAssertTrue("\($0)".contains("encode the clip again"), "\($0)") }
        _ = try makeTrack(name: "cut.track")
        let cut = dir.appendingPathComponent("cut.track")
        let whole = try Data(contentsOf: cut)
        try whole.prefix(whole.count - 100).write(to: cut)
        XCTAssertThrowsError(try LatentTrack.load(from: cut)) { XCTAssertTrue("\($0)".contains("cut.track"), "\($0)") }
    }

    func testEmptyTrackWithAnImpossibleCodeSizeIsRefused() throws {
        // No frames, so the tensors' shapes [0, numWs, wDim] hold nothing whatever numWs and wDim say; 2^40 × 2^40
        // overflowed codeSize.
        let good = try makeTrack(frames: 0, name: "empty.track")
        let reader = try SafeTensorsFile(url: good.url)
        var header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(reader.metadata["avatarize"]).utf8)) as? [String: Any])
        let big = 1 << 40
        header["numWs"] = big
        header["wDim"] = big
        var tensors: [String: Tensor] = [:]
        for (name, perFrame, _) in LatentTrack.layout(numWs: big, wDim: big) {
            tensors[name] = Tensor(shape: [0] + perFrame, data: [])
        }
        let bad = dir.appendingPathComponent("bad.track")
        let json = String(decoding: try JSONSerialization.data(withJSONObject: header), as: UTF8.self)
        try SafeTensorsWriter.write(tensors, to: bad, metadata: ["avatarize": json])
        XCTAssertThrowsError(try LatentTrack.load(from: bad)) {
            guard case TrackError.notATrack = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue("\($0)".contains("bad.track"), "\($0)")
        }
    }

    func testSmoothingReportsLowerJitter() throws {
        // Codes jitter: alternate ±1 on top of a small ramp.
        let t = try makeTrack(frames: 40, code: { i, c in Float(i * 12 + c) * 0.01 + (i % 2 == 0 ? 1 : -1) })
        let reader = SmoothedTrackReader(t, smoothing: TrackSmoothing(codes: [.gaussian(sigma: 2)], cameras: .none, quads: .none))
        while try reader.next() != nil {}
        XCTAssertLessThan(reader.report.codeJitterAfter, reader.report.codeJitterBefore * 0.2)
        let off = SmoothedTrackReader(t, smoothing: .off)
        for i in 0..<40 { XCTAssertEqual(try off.next(), try t.frame(i)) }
        XCTAssertNil(try off.next())
    }

    /// The streaming reader gives what the filters' definitions give on the whole track at once, layer by
    /// layer, while holding only the window.
    func testReaderMatchesWholeTrackFiltersWithBoundedWindow() throws {
        let t = try makeTrack(frames: 60, code: { i, c in sin(Float(i) * 0.7 + Float(c)) + Float(i % 3) })
        let filters: [TemporalFilter] = [.gaussian(sigma: 3), .exponential(alpha: 0.4), .oneEuro(minCutoff: 1, beta: 0.1, derivativeCutoff: 1)]
        let smoothing = TrackSmoothing(codes: filters, cameras: .gaussian(sigma: 2), quads: .exponential(alpha: 0.5))
        let codes = try t.codes(0..<60)
        var expected = codes
        for (layer, f) in filters.enumerated() {
            expected = f.apply(expected, frames: 60, dim: 12, rate: 25, columns: (layer * 4)..<((layer + 1) * 4))
        }
        let quads = try (0..<60).flatMap { try t.frame($0).quad }
        let expectedQuads = TemporalFilter.exponential(alpha: 0.5).apply(quads, frames: 60, dim: 8, rate: 25)
        let cams = try (0..<60).flatMap { try t.frame($0).camera }
        let expectedCams = smoothCameras(cams, frames: 60, filter: .gaussian(sigma: 2), rate: 25)
        let reader = SmoothedTrackReader(t, smoothing: smoothing)
        for i in 0..<60 {
            let f = try XCTUnwrap(reader.next())
            XCTAssertEqual(f.code, Array(expected[(i * 12)..<((i + 1) * 12)]), "frame \(i)")
            XCTAssertEqual(f.quad, Array(expectedQuads[(i * 8)..<((i + 1) * 8)]))
            XCTAssertEqual(f.camera, Array(expectedCams[(i * 25)..<((i + 1) * 25)]))
            XCTAssertLessThanOrEqual(reader.bufferedFrames, 2 * 9 + 1, "σ = 3 reads 9 frames each side, no more")
        }
        XCTAssertEqual(reader.report.codeJitterBefore, meanFrameToFrameDistance(codes, frames: 60, dim: 12))
        XCTAssertEqual(reader.report.codeJitterAfter, meanFrameToFrameDistance(expected, frames: 60, dim: 12))
    }

    func testSkippingAheadGivesTheSameFrames() throws {
        let t = try makeTrack(frames: 30, code: { i, c in Float((i * 7 + c * 3) % 11) })
        for smoothing in [TrackSmoothing(codes: [.gaussian(sigma: 2)]), TrackSmoothing(codes: [.oneEuro(minCutoff: 1, beta: 0.2, derivativeCutoff: 1)])] {
            let all = SmoothedTrackReader(t, smoothing: smoothing)
            var frames: [TrackFrame] = []
            while let f = try all.next() { frames.append(f) }
            let skipping = SmoothedTrackReader(t, smoothing: smoothing)
            try skipping.skip(to: 17)
            for i in 17..<30 { XCTAssertEqual(try skipping.next(), frames[i], "\(smoothing.codes) frame \(i)") }
        }
    }

    func testPerLayerFilters() throws {
        let t = try makeTrack(frames: 20, code: { i, _ in i % 2 == 0 ? 1 : -1 })
        let reader = SmoothedTrackReader(t, smoothing: TrackSmoothing(codes: [.gaussian(sigma: 3), .none, .none], cameras: .none, quads: .none))
        for i in 0..<20 {
            let f = try XCTUnwrap(reader.next()), raw = try t.frame(i)
            XCTAssertEqual(f.code[4...], raw.code[4...])
            if i == 5 { XCTAssertNotEqual(f.code[0], raw.code[0]) }
        }
    }

    func testJoiningSegmentTracks() throws {
        let a = try makeTrack(frames: 3, name: "a.track")
        let w = try LatentTrackWriter(url: dir.appendingPathComponent("b.track"), source: try source(), model: "demo@1234", numWs: 3, wDim: 4)
        for i in 3..<5 { try w.append(frame(i)) }
        let b = try w.finish()
        let joined = try LatentTrackWriter(url: dir.appendingPathComponent("joined.track"), source: try source(), model: "demo@1234", numWs: 3, wDim: 4)
        try joined.append(contentsOf: a)
        try joined.append(contentsOf: b)
        let t = try joined.finish()
        XCTAssertEqual(t.count, 5)
        for i in 0..<5 { XCTAssertEqual(try t.frame(i), frame(i)) }
    }
}
