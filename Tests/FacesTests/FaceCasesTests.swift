import Foundation
import XCTest
@testable import Faces

/// The tracker on the real-footage cases of Fixtures/cases (made by tools/make_face_cases.py from
/// samples/talking-head.mp4), against dlib's own Python build: the subject is where the case put it,
/// never a false positive or the other person, and its landmarks are within NME 0.05 of dlib's.
final class FaceCasesTests: XCTestCase {
    struct Frame: Decodable {
        let index: Int
        let region: [Int]?
        let hog: [[Double]]
        let haar: [[Int]]
        let subject: [Int]?
        let landmarks: [[Double]]?
        let descriptor: [Float]?
        /// profile_turn only: the turn's yaw in degrees and where dlib's landmarks on the unturned frame
        /// are after the turn ([x, y, 1 if still facing the camera]).
        let yaw: Double?
        let turned: [[Double]]?
    }
    struct Cases: Decodable {
        let dlib: String
        let cases: [String: [Frame]]
    }

    static let sizes: [String: (Int, Int)] = [
        "tall_small_face": (288, 512), "two_people": (480, 256), "shot_cut": (256, 256),
        "leave_return": (384, 256), "occlusion": (256, 256), "profile_turn": (256, 256),
    ]

    static func load() throws -> Cases {
        let url = Fixtures.directory.appendingPathComponent("cases/cases.json")
        return try JSONDecoder().decode(Cases.self, from: Data(contentsOf: url))
    }

    static func frames(_ name: String) throws -> [RGBImage] {
        let (w, h) = sizes[name]!
        let path = Fixtures.directory.appendingPathComponent("cases/\(name).mp4").path
        return try TrackerClipTests.decode(path, frames: 1000, width: w, height: h)
    }

    static func tracker(_ configure: (inout FaceTracker.Options) -> Void = { _ in }) throws -> FaceTracker {
        try Fixtures.requireModel(Fixtures.predictorPath, package: "libdlib-data")
        var options = FaceTracker.Options()
        configure(&options)
        return try FaceTracker(paths: FaceModelPaths(directory: nil, environment: [:]), options: options)
    }

    /// Whether the face's landmark box centre lies in the case's subject region.
    static func inRegion(_ f: FaceFrame, _ region: [Int]?) -> Bool {
        guard let r = region, let b = f.box else { return false }
        let cx = Double(b.left + b.right) / 2, cy = Double(b.top + b.bottom) / 2
        return cx >= Double(r[0]) && cx <= Double(r[2]) && cy >= Double(r[1]) && cy <= Double(r[3])
    }

    /// Mean landmark distance over the outer-eye-corner distance (points 36 and 45), as 300-W's NME.
    static func nme(_ a: [Point2], _ b: [[Double]]) -> Double {
        let iod = hypot(b[36][0] - b[45][0], b[36][1] - b[45][1])
        return zip(a, b).map { hypot($0.x - $1[0], $0.y - $1[1]) }.reduce(0, +) / Double(a.count) / iod
    }

    struct Outcome {
        var dlibFrames = 0, found = 0, wrong = 0, extra = 0
        var worstNME = 0.0, meanNME = 0.0
    }

    static func run(_ name: String, _ golden: [Frame], _ tracker: FaceTracker) throws -> ([FaceFrame?], Outcome) {
        let images = try frames(name)
        XCTAssertEqual(images.count, golden.count, name)
        let measured = images.enumerated().map { tracker.process($1, index: $0) }
        var o = Outcome()
        var nmes: [Double] = []
        for (g, m) in zip(golden, measured) {
            if let m, !inRegion(m, g.region) { o.wrong += 1 }
            guard let lm = g.landmarks else {
                if m != nil && g.region == nil { o.extra += 1 }
                continue
            }
            o.dlibFrames += 1
            if let m, inRegion(m, g.region) {
                o.found += 1
                nmes.append(nme(m.landmarks, lm))
            }
        }
        o.worstNME = nmes.max() ?? .nan
        o.meanNME = nmes.reduce(0, +) / Double(max(nmes.count, 1))
        print(String(format: "%@: dlib finds the subject in %d frames, tracker %d; wrong subject %d, face where none %d; NME mean %.4f worst %.4f",
                     name, o.dlibFrames, o.found, o.wrong, o.extra, o.meanNME, o.worstNME))
        return (measured, o)
    }

    func testTheSubjectIsTrackedInEveryCaseWithinNMEOfDlib() throws {
        let cases = try Self.load()
        // profile_turn has its own test: at strong yaw dlib's own landmarks are not always on the face.
        for name in Self.sizes.keys.sorted() where name != "profile_turn" {
            let (_, o) = try Self.run(name, cases.cases[name]!, try Self.tracker())
            XCTAssertEqual(o.wrong, 0, "\(name): frames whose face is not the subject")
            XCTAssertGreaterThanOrEqual(Double(o.found), 0.95 * Double(o.dlibFrames), "\(name): recall against dlib")
            XCTAssertLessThanOrEqual(o.worstNME, 0.05, "\(name): landmarks against dlib's")
        }
    }

    /// The failure this stage exists for: without verification the tracker follows the gravel's
    /// false positive, larger than the real face, in every frame.
    func testWithoutVerificationTheTallCaseFollowsTheFalsePositive() throws {
        let cases = try Self.load()
        let (measured, o) = try Self.run("tall_small_face", cases.cases["tall_small_face"]!,
                                         try Self.tracker { $0.verifyCandidates = false })
        XCTAssertGreaterThan(o.wrong, measured.count / 2)
        let (verified, _) = try Self.run("tall_small_face", cases.cases["tall_small_face"]!, try Self.tracker())
        XCTAssertTrue(verified[0]!.rejected.contains { $0.y > 256 }, "the gravel box is shown as rejected")
    }

    func testTheUserPicksTheSubject() throws {
        let images = try Self.frames("two_people")
        func subjectX(_ choice: SubjectChoice) throws -> [Double] {
            let t = try Self.tracker { $0.subject = choice }
            return images.enumerated().compactMap { t.process($1, index: $0)?.rawQuad.center.x }
        }
        for (choice, left) in [(SubjectChoice.auto, true), (.largest, true), (.index(1), true), (.index(2), false),
                               (.point(x: 400, y: 130), false), (.point(x: 20, y: 20), true)] {
            let xs = try subjectX(choice)
            XCTAssertGreaterThan(xs.count, images.count * 9 / 10, "\(choice)")
            XCTAssertTrue(xs.allSatisfy { left ? $0 < 240 : $0 > 270 }, "\(choice): \(xs.min()!)…\(xs.max()!)")
        }
        XCTAssertEqual(SubjectChoice(argument: "2"), .index(2))
        XCTAssertEqual(SubjectChoice(argument: "400,130"), .point(x: 400, y: 130))
        XCTAssertNil(SubjectChoice(argument: "0"))
        XCTAssertNil(SubjectChoice(argument: "left"))
    }

    func testAShotCutResetsTheTrackAndTheSmoothing() throws {
        let cases = try Self.load()
        let tracker = try Self.tracker()
        let (measured, _) = try Self.run("shot_cut", cases.cases["shot_cut"]!, tracker)
        XCTAssertEqual(tracker.shotStarts, [30])
        XCTAssertEqual(measured[30]?.source, .detected)
        let smoothed = try FaceTrackSmoothing().apply(measured, shotStarts: tracker.shotStarts)
        let across = try FaceTrackSmoothing().apply(measured)
        // Each side of the cut keeps its own place; smoothing across it would pull both towards the other.
        for i in [29, 30] {
            let raw = measured[i]!.rawQuad.center, s = smoothed[i].quad.center, a = across[i].quad.center
            XCTAssertLessThan(hypot(s.x - raw.x, s.y - raw.y), 3, "frame \(i)")
            XCTAssertGreaterThan(hypot(a.x - raw.x, a.y - raw.y), 10, "frame \(i): the cut should matter")
        }
    }

    func testAFaceThatLeavesAndReturnsIsTheSameSubject() throws {
        let cases = try Self.load()
        let tracker = try Self.tracker()
        try XCTSkipIf(tracker.recognizer == nil, "face recognition model not installed (scripts/install-deps.sh)")
        let (measured, o) = try Self.run("leave_return", cases.cases["leave_return"]!, tracker)
        XCTAssertEqual(o.wrong, 0)
        XCTAssertTrue((26...34).allSatisfy { measured[$0] == nil }, "no face while it is away")
        let back = measured[40...].compactMap { $0 }
        XCTAssertFalse(back.isEmpty)
        XCTAssertTrue(back.allSatisfy { $0.subject == 1 }, "re-acquired as subject 1")
        XCTAssertEqual(back.first?.choice, "identity")
    }

    /// The turn's truth error: mean distance of the tracker's inner landmarks (27–67: nose, eyes, mouth,
    /// points on the head's surface) that still face the camera to where the turn put them, over the
    /// unturned face's outer-eye-corner distance. The jaw line (0–16) is left out: on a turned head it
    /// is the silhouette, not points of the surface.
    static func turnError(_ lm: [Point2], _ truth: [[Double]], eyeDistance: Double) -> Double {
        let visible = (27..<68).filter { truth[$0][2] == 1 }
        return visible.map { hypot(lm[$0].x - truth[$0][0], lm[$0].y - truth[$0][1]) }.reduce(0, +)
            / Double(visible.count) / eyeDistance
    }

    /// A head turning to near-profile (yaw 0 → 80° → 0; a synthetic turn of the sample clip, see
    /// tools/make_face_cases.py), where dlib's HOG loses the face beyond about 55°. The tracker follows
    /// it as long as dlib finds it, reports it lost — never a face somewhere else, never landmarks off
    /// the face — while dlib cannot find it, and has it again as the same subject on the way back.
    /// At strong yaw dlib's own landmarks depend on its box: in two frames they are off the face (0.33
    /// and 0.10 of the eye distance from the turn's geometry), so the reference there is the geometry;
    /// elsewhere it is dlib's landmarks, NME ≤ 0.05 as in the other cases.
    func testAHeadTurningToProfileStaysTheSubject() throws {
        let golden = try Self.load().cases["profile_turn"]!
        let tracker = try Self.tracker()
        let (measured, o) = try Self.run("profile_turn", golden, tracker)
        XCTAssertEqual(o.wrong, 0, "a face that is not the subject")
        let t0 = golden[0].turned!
        let eyes = hypot(t0[36][0] - t0[45][0], t0[36][1] - t0[45][1])
        var dlibRight = 0, worstNME = 0.0, worstTurn = 0.0
        for (g, m) in zip(golden, measured) {
            let truth = g.turned!
            let dlibOnFace = g.landmarks.map {
                Self.turnError($0.map { Point2(x: $0[0], y: $0[1]) }, truth, eyeDistance: eyes) <= 0.05
            } ?? false
            guard let m else {
                XCTAssertFalse(dlibOnFace, "frame \(g.index) (yaw \(g.yaw!)°): lost where dlib finds the face")
                continue
            }
            XCTAssertEqual(m.subject, 1, "frame \(g.index)")
            worstTurn = max(worstTurn, Self.turnError(m.landmarks, truth, eyeDistance: eyes))
            if dlibOnFace, let lm = g.landmarks {
                dlibRight += 1
                worstNME = max(worstNME, Self.nme(m.landmarks, lm))
            }
        }
        let lost = measured.indices.filter { measured[$0] == nil }
        print(String(format: "profile_turn: dlib's landmarks on the face in %d frames, worst NME to them %.4f; worst distance to the turn's geometry %.4f; lost in frames %d…%d",
                     dlibRight, worstNME, worstTurn, lost.first ?? -1, lost.last ?? -1))
        XCTAssertGreaterThanOrEqual(dlibRight, 35)
        XCTAssertLessThanOrEqual(worstNME, 0.05)
        XCTAssertLessThanOrEqual(worstTurn, 0.05)
        XCTAssertTrue(measured[..<16].allSatisfy { $0 != nil } && measured[42...].allSatisfy { $0 != nil },
                      "tracked up to 30° and from 40° back")
        XCTAssertGreaterThan(tracker.statistics.turnedFramings, 0)
        XCTAssertGreaterThan(tracker.statistics.turnedLost, 0)
    }

    func testDescriptorsMatchDlibsOwn() throws {
        let cases = try Self.load()
        let paths = FaceModelPaths(directory: nil, environment: [:])
        guard FileManager.default.fileExists(atPath: paths.recognizer) else {
            throw XCTSkip("face recognition model not installed at \(paths.recognizer) (scripts/install-deps.sh)")
        }
        let recognizer = try FaceRecognizer(contentsOf: paths.recognizer)
        var worst = 0.0, compared = 0
        var all: [[Float]] = []
        for name in ["occlusion", "tall_small_face", "two_people", "shot_cut"] {
            let images = try Self.frames(name)
            for g in cases.cases[name]! {
                guard let want = g.descriptor, let lm = g.landmarks else { continue }
                let got = try recognizer.describe(images[g.index], landmarks: lm.map { Point2(x: $0[0], y: $0[1]) })
                worst = max(worst, FaceRecognizer.distance(got, want))
                compared += 1
                all.append(got)
            }
        }
        print("descriptor parity: \(compared) faces, worst distance to dlib-bin \(worst)")
        XCTAssertGreaterThan(compared, 20)
        XCTAssertLessThanOrEqual(worst, 0.01)
        // One person throughout: every pair is within dlib's same-person threshold.
        let far = all.indices.flatMap { i in all.indices.filter { $0 > i }.map { FaceRecognizer.distance(all[i], all[$0]) } }.max()!
        XCTAssertLessThan(far, FaceRecognizer.samePersonDistance)
    }
}
