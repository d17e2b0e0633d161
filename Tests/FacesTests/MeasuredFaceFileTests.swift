import Foundation
import XCTest
@testable import Faces

/// The face pass's measurements on disk, and the smoothed track read from them a frame at a time.
final class MeasuredFaceFileTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("MeasuredFaceFileTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: directory)
    }

    /// Deterministic random numbers (Knuth's MMIX LCG, high bits folded into the low ones), so a
    /// failure can be run again.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state ^ (state >> 33)
        }
    }

    /// A measured face with every field random: with or without time and box, either source.
    static func face(_ i: Int, _ g: inout Seeded) -> FaceFrame {
        func v(_ scale: Double) -> Double { Double.random(in: -scale...scale, using: &g) }
        func p(_ scale: Double) -> Point2 { Point2(x: v(scale), y: v(scale)) }
        let box = Bool.random(using: &g) ? DlibRect(left: Int.random(in: -50...500, using: &g), top: Int.random(in: -50...500, using: &g),
                                                    right: Int.random(in: 0...900, using: &g), bottom: Int.random(in: 0...900, using: &g)) : nil
        return FaceFrame(index: i, time: Bool.random(using: &g) ? Double(i) / 29.97 : nil,
                         source: Bool.random(using: &g) ? .detected : .tracked, box: box,
                         landmarks: (0..<68).map { _ in p(800) },
                         rawQuad: AlignmentQuad(center: p(600), x: p(150), y: p(150)),
                         rawPose: HeadPose(yaw: v(1), pitch: v(1), roll: v(1), residual: abs(v(0.1))))
    }

    @discardableResult
    func write(_ measured: [FaceFrame?], times: [Double?], to name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        let writer = try MeasuredFaceFile.Writer(url: url)
        for (f, t) in zip(measured, times) { try writer.append(f, time: t) }
        try writer.finish()
        return url
    }

    /// What `apply` computed before it read frames one at a time: the whole clip filled at once, then
    /// each series smoothed whole by `GaussianSmoother.smooth`.
    static func wholeClip(_ measured: [FaceFrame?], times: [Double?]?, _ s: FaceTrackSmoothing) -> [FaceFrame] {
        let known = measured.indices.filter { measured[$0] != nil }
        var frames = measured.indices.map { i -> FaceFrame in
            if let f = measured[i] { return f }
            let ia = known.last { $0 < i } ?? known.first!, ib = known.first { $0 > i } ?? known.last!
            let a = measured[ia]!, b = measured[ib]!
            let t = ia == ib ? 0 : Double(i - ia) / Double(ib - ia)
            func mix(_ pa: Point2, _ pb: Point2) -> Point2 { Point2(x: pa.x + (pb.x - pa.x) * t, y: pa.y + (pb.y - pa.y) * t) }
            func mix(_ x: Double, _ y: Double) -> Double { x + (y - x) * t }
            let time = times.flatMap { i < $0.count ? $0[i] : nil }
            return FaceFrame(index: i, time: time, source: .filled, box: nil, landmarks: zip(a.landmarks, b.landmarks).map(mix),
                             rawQuad: AlignmentQuad(center: mix(a.rawQuad.center, b.rawQuad.center), x: mix(a.rawQuad.x, b.rawQuad.x),
                                                    y: mix(a.rawQuad.y, b.rawQuad.y)),
                             rawPose: HeadPose(yaw: mix(a.rawPose.yaw, b.rawPose.yaw), pitch: mix(a.rawPose.pitch, b.rawPose.pitch),
                                               roll: mix(a.rawPose.roll, b.rawPose.roll), residual: max(a.rawPose.residual, b.rawPose.residual)))
        }
        let quadPaths: [(WritableKeyPath<FaceFrame, Double>, WritableKeyPath<FaceFrame, Double>, Double)] = [
            (\.rawQuad.center.x, \.quad.center.x, s.centerSigma), (\.rawQuad.center.y, \.quad.center.y, s.centerSigma),
            (\.rawQuad.x.x, \.quad.x.x, s.xySigma), (\.rawQuad.x.y, \.quad.x.y, s.xySigma),
            (\.rawQuad.y.x, \.quad.y.x, s.xySigma), (\.rawQuad.y.y, \.quad.y.y, s.xySigma),
            (\.rawPose.yaw, \.pose.yaw, s.poseSigma), (\.rawPose.pitch, \.pose.pitch, s.poseSigma),
            (\.rawPose.roll, \.pose.roll, s.poseSigma), (\.rawPose.residual, \.pose.residual, 0),
        ]
        for (raw, out, sigma) in quadPaths {
            let smoothed = GaussianSmoother.smooth(frames.map { $0[keyPath: raw] }, sigma: sigma)
            for i in frames.indices { frames[i][keyPath: out] = smoothed[i] }
        }
        return frames
    }

    /// Which frames lack a face, by name; at least one frame keeps its face.
    static func gaps(_ pattern: String, _ n: Int, _ g: inout Seeded) -> [Bool] {
        var missing: [Bool]
        switch pattern {
        case "scattered": missing = (0..<n).map { _ in Double.random(in: 0..<1, using: &g) < 0.3 }
        case "sparse": missing = (0..<n).map { _ in Double.random(in: 0..<1, using: &g) < 0.85 }
        case "start": missing = (0..<n).map { $0 < n / 2 }
        case "end": missing = (0..<n).map { $0 >= n - n / 2 }
        case "middle": missing = (0..<n).map { $0 > n / 6 && $0 < n - n / 6 - 1 }
        case "single": missing = [Bool](repeating: true, count: n)
        default: missing = [Bool](repeating: false, count: n)
        }
        if !missing.contains(false) { missing[Int.random(in: 0..<n, using: &g)] = false }
        return missing
    }

    func testRoundTripKeepsEveryFieldExactly() throws {
        var g = Seeded(state: 1)
        var measured: [FaceFrame?] = (0..<150).map { Self.face($0, &g) }
        var times: [Double?] = (0..<150).map { Double($0) / 25 }
        measured[0] = nil
        measured[3] = nil
        times[3] = nil
        times[4] = nil
        measured[5]!.quad = AlignmentQuad(center: Point2(x: -0.0, y: .infinity), x: Point2(x: .leastNonzeroMagnitude, y: -1e300), y: Point2(x: 0, y: 0))
        measured[5]!.pose = HeadPose(yaw: .pi, pitch: -.pi, roll: 0, residual: 7)
        measured[6]!.index = -12
        measured[7]!.source = .filled
        measured[8]!.box = DlibRect(left: Int.min, top: -1, right: Int.max, bottom: 0)
        measured[149] = nil
        let url = try write(measured, times: times, to: "clip.faces")

        let file = try MeasuredFaceFile(url: url)
        XCTAssertEqual(file.count, 150)
        XCTAssertEqual(file.facesFound, 147)
        for i in 0..<150 {
            XCTAssertEqual(try file.measured(i), measured[i], "frame \(i)")
            XCTAssertEqual(try file.time(i), times[i], "frame \(i)")
        }
        XCTAssertEqual(try file.measured(5)?.quad.center.x.sign, .minus)
        XCTAssertThrowsError(try file.measured(150))
        XCTAssertThrowsError(try file.time(-1))
    }

    func testTrackEqualsWholeClipSmoothingInAnyOrder() throws {
        var g = Seeded(state: 2)
        let smoothings = [FaceTrackSmoothing(), .none, FaceTrackSmoothing(centerSigma: 0.2, xySigma: 1, poseSigma: 0),
                          FaceTrackSmoothing(centerSigma: 5, xySigma: 2.5, poseSigma: 4)]
        for n in [1, 2, 3, 7, 20, 90] {
            for pattern in ["full", "scattered", "sparse", "start", "end", "middle", "single"] {
                let missing = Self.gaps(pattern, n, &g)
                let measured: [FaceFrame?] = (0..<n).map { missing[$0] ? nil : Self.face($0, &g) }
                let times: [Double?] = (0..<n).map { Bool.random(using: &g) ? Double($0) * 0.04 : nil }
                let file = try MeasuredFaceFile(url: write(measured, times: times, to: "\(pattern)-\(n).faces"))
                XCTAssertEqual(file.facesFound, missing.filter { !$0 }.count)
                for s in smoothings {
                    let label = "\(pattern), n = \(n), \(s)"
                    let expected = Self.wholeClip(measured, times: times, s)
                    XCTAssertEqual(try s.apply(measured, times: times), expected, label)
                    XCTAssertEqual(try s.apply(measured), Self.wholeClip(measured, times: nil, s), label)

                    let sequential = try s.track(file)
                    XCTAssertEqual(sequential.count, n)
                    XCTAssertEqual(try (0..<n).map { try sequential.frame($0) }, expected, label)
                    let backwards = try s.track(file)
                    XCTAssertEqual(try (0..<n).reversed().map { try backwards.frame($0) }, Array(expected.reversed()), label)
                    let random = try s.track(file)
                    for i in (0..<n).shuffled(using: &g) + (0..<n).shuffled(using: &g) {
                        XCTAssertEqual(try random.frame(i), expected[i], "\(label), frame \(i)")
                    }
                }
            }
        }
    }

    /// Counts the reads a track makes, to check that frames in order cost O(1) reads each.
    final class CountingSource: MeasuredFaceSource {
        let list: MeasuredFaceList
        var reads = 0
        init(_ list: MeasuredFaceList) { self.list = list }
        var count: Int { list.count }
        var facesFound: Int { list.facesFound }
        func measured(_ i: Int) -> FaceFrame? { reads += 1; return list.measured(i) }
        func time(_ i: Int) -> Double? { list.time(i) }
    }

    func testFramesInOrderReadEachMeasurementAFewTimes() throws {
        var g = Seeded(state: 3)
        let n = 3000
        // Faces at both ends only: one gap of nearly the whole clip.
        let measured: [FaceFrame?] = (0..<n).map { $0 < 5 || $0 >= n - 5 ? Self.face($0, &g) : nil }
        let source = CountingSource(MeasuredFaceList(frames: measured, times: nil))
        let track = try SmoothedFaceTrack(source: source, smoothing: FaceTrackSmoothing())
        var last: FaceFrame?
        for i in 0..<n { last = try track.frame(i) }
        XCTAssertEqual(last?.rawQuad, measured[n - 1]?.rawQuad)
        XCTAssertLessThanOrEqual(source.reads, 3 * n)
    }

    func testClipWithoutFacesThrowsNoFaceInClip() throws {
        let url = try write([nil, nil, nil], times: [0, 0.04, nil], to: "empty.faces")
        let file = try MeasuredFaceFile(url: url)
        XCTAssertEqual(file.facesFound, 0)
        XCTAssertThrowsError(try FaceTrackSmoothing().track(file)) { XCTAssertEqual($0 as? FacesError, .noFaceInClip(frames: 3)) }
        let none = try MeasuredFaceFile(url: write([], times: [], to: "none.faces"))
        XCTAssertEqual(none.count, 0)
        XCTAssertThrowsError(try FaceTrackSmoothing().track(none)) { XCTAssertEqual($0 as? FacesError, .noFaceInClip(frames: 0)) }
    }

    func testFrameOutsideTheTrackThrows() throws {
        var g = Seeded(state: 4)
        let track = try FaceTrackSmoothing().track(MeasuredFaceFile(url: write([Self.face(0, &g), nil], times: [0, 1], to: "two.faces")))
        XCTAssertThrowsError(try track.frame(2))
        XCTAssertThrowsError(try track.frame(-1))
        XCTAssertEqual(try track.frame(1).source, .filled)
    }

    func testDamagedFilesThrowUnreadableNamingTheFile() throws {
        var g = Seeded(state: 5)
        let good = try Data(contentsOf: write((0..<4).map { Self.face($0, &g) }, times: [0, 1, 2, 3], to: "good.faces"))
        func expectUnreadable(_ bytes: Data?, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let url = directory.appendingPathComponent("\(what).faces")
            if let bytes { try bytes.write(to: url) }
            XCTAssertThrowsError(try MeasuredFaceFile(url: url), what, file: file, line: line) { error in
                guard case let .measurementsUnreadable(path, reason)? = error as? FacesError else {
                    return XCTFail("\(what): \(error)", file: file, line: line)
                }
                XCTAssertEqual(path, url.path, file: file, line: line)
                XCTAssertFalse(reason.isEmpty, file: file, line: line)
                XCTAssertTrue(String(describing: error).contains(url.path), file: file, line: line)
            }
        }
        try expectUnreadable(nil, "missing")
        try expectUnreadable(Data(), "empty")
        try expectUnreadable(Data((0..<5000).map { _ in UInt8.random(in: 0...255, using: &g) }), "garbage")
        try expectUnreadable(good.prefix(40), "short-header")
        try expectUnreadable(good.dropLast(1), "truncated")
        try expectUnreadable(good + Data([0]), "trailing-byte")
        var counted = good
        counted[24] = 5  // the header's frame count
        try expectUnreadable(counted, "count")
        var faces = good
        faces[32] = 9  // more faces than frames
        try expectUnreadable(faces, "faces")
        var version = good
        version[8] = 2
        try expectUnreadable(version, "version")
        var magic = good
        magic[0] = UInt8(ascii: "B")
        try expectUnreadable(magic, "magic")
        var record = good
        record[64 + 1] = 7  // the first frame's source
        try record.write(to: directory.appendingPathComponent("source.faces"))
        let file = try MeasuredFaceFile(url: directory.appendingPathComponent("source.faces"))
        XCTAssertThrowsError(try file.measured(0)) { XCTAssertEqual($0 as? FacesError, .measurementsUnreadable(
            path: file.url.path, reason: "frame 0 has an unknown face source 7")) }
        XCTAssertNotNil(try file.measured(1))
    }

    func testOnlyAFinishedWriterLeavesAFile() throws {
        var g = Seeded(state: 6)
        let url = directory.appendingPathComponent("clip.faces")
        func listing() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() }

        let cancelled = try MeasuredFaceFile.Writer(url: url)
        for i in 0..<100 { try cancelled.append(Self.face(i, &g), time: Double(i)) }
        XCTAssertEqual(try listing().count, 1)  // the hidden partial file
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
        cancelled.cancel()
        XCTAssertEqual(try listing(), [])
        XCTAssertThrowsError(try cancelled.append(nil, time: nil))
        XCTAssertThrowsError(try cancelled.finish())

        do {
            let abandoned = try MeasuredFaceFile.Writer(url: url)
            for i in 0..<100 { try abandoned.append(Self.face(i, &g), time: nil) }
        }
        XCTAssertEqual(try listing(), [])

        try write([Self.face(0, &g)], times: [nil], to: "clip.faces")
        XCTAssertEqual(try listing(), ["clip.faces"])
        // A second run replaces the first file whole.
        let second = try MeasuredFaceFile.Writer(url: url)
        try second.append(nil, time: 1)
        try second.append(Self.face(1, &g), time: 2)
        XCTAssertEqual(try MeasuredFaceFile(url: url).count, 1)
        try second.finish()
        XCTAssertThrowsError(try second.append(nil, time: nil))
        XCTAssertEqual(try listing(), ["clip.faces"])
        XCTAssertEqual(try MeasuredFaceFile(url: url).count, 2)
        XCTAssertEqual(try MeasuredFaceFile(url: url).facesFound, 1)
    }

    func testFaceWithOtherLandmarkCountIsRefused() throws {
        var g = Seeded(state: 7)
        let url = directory.appendingPathComponent("clip.faces")
        let writer = try MeasuredFaceFile.Writer(url: url)
        var face = Self.face(0, &g)
        face.landmarks.removeLast()
        XCTAssertThrowsError(try writer.append(face, time: 0)) { error in
            guard case .measurementsUnwritable(url.path, _)? = error as? FacesError else { return XCTFail("\(error)") }
        }
        try writer.append(Self.face(1, &g), time: 0)
        try writer.finish()
        XCTAssertEqual(try MeasuredFaceFile(url: url).count, 1)
    }

    func testWriterInAMissingFolderThrowsUnwritable() {
        let url = directory.appendingPathComponent("no/such/folder/clip.faces")
        XCTAssertThrowsError(try MeasuredFaceFile.Writer(url: url)) { error in
            guard case .measurementsUnwritable(url.path, _)? = error as? FacesError else { return XCTFail("\(error)") }
        }
    }
}
