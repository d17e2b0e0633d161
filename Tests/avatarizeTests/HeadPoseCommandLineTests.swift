import Foundation
import XCTest

/// `avatarize faces --json`'s raw head pose against samples/turning-head.json, the sample's known motion (both in
/// HeadPose's convention: yaw > 0 turns the face towards image right, pitch > 0 tilts it down). The landmarks
/// follow the known motion to under a pixel (tools/pose_truth_check.py); what is checked here is the pose read off
/// them: the direction of both angles, pitch's magnitude within 10 %, and yaw's tracking. Yaw's magnitude is
/// under-read on this sample (0.67 of the truth): its head is an ellipsoid whose chin sits 0.37 eye spans behind
/// the nose tip, where the estimator's generic template has 0.14, so the sample cannot settle yaw's scale on a
/// real head; the floor below keeps the reading from getting worse.
final class HeadPoseCommandLineTests: XCTestCase {
    func testRawPoseFollowsTheSamplesKnownMotion() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-pose-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let samples = sampleClip.deletingLastPathComponent()
        let json = dir.appendingPathComponent("faces.json")
        let r = try runAvatarize(["faces", samples.appendingPathComponent("turning-head.mp4").path, "--json", json.path])
        XCTAssertEqual(r.status, 0, r.stderr)

        struct Known: Decodable { struct Frame: Decodable { var frame: Int; var yaw: Double; var pitch: Double }; var frames: [Frame] }
        let known = try JSONDecoder().decode(Known.self, from: Data(contentsOf: samples.appendingPathComponent("turning-head.json")))
        let track = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])?["track"] as? [[String: Any]])
        var truth: [(Double, Double)] = [], raw: [(Double, Double)] = []
        for (t, f) in zip(known.frames, track) {
            guard let pose = f["poseRaw"] as? [String: Double], let yaw = pose["yaw"], let pitch = pose["pitch"] else { continue }
            truth.append((t.yaw, t.pitch)); raw.append((yaw, pitch))
        }
        XCTAssertGreaterThanOrEqual(raw.count, 95, "a face in nearly every frame")

        func fit(_ x: [Double], _ y: [Double]) -> (slope: Double, r: Double) {
            let n = Double(x.count), mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
            let sxy = zip(x, y).map { ($0 - mx) * ($1 - my) }.reduce(0, +)
            let sxx = x.map { ($0 - mx) * ($0 - mx) }.reduce(0, +), syy = y.map { ($0 - my) * ($0 - my) }.reduce(0, +)
            return (sxy / sxx, sxy / (sxx * syy).squareRoot())
        }
        let yaw = fit(truth.map(\.0), raw.map(\.0)), pitch = fit(truth.map(\.1), raw.map(\.1))
        print(String(format: "raw pose against the known motion: yaw slope %.3f r %.3f, pitch slope %.3f r %.3f", yaw.slope, yaw.r, pitch.slope, pitch.r))
        XCTAssertGreaterThan(yaw.r, 0.95, "yaw follows the turn, in the same direction")
        XCTAssertGreaterThan(yaw.slope, 0.6)
        XCTAssertGreaterThan(pitch.r, 0.65, "pitch follows the nod, in the same direction")
        XCTAssertEqual(pitch.slope, 1, accuracy: 0.1, "pitch's magnitude within 10 %")
    }
}
