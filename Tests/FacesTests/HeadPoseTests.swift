import XCTest
@testable import Faces

/// Head pose from landmarks and the EG3D camera it gives.
final class HeadPoseTests: XCTestCase {
    func testFrontalCameraIsEG3DsFrontal() {
        // EG3D's LookAtPoseSampler(π/2, π/2, (0, 0, 0.2), 2.7): [[1,0,0,0],[0,−1,0,0],[0,0,−1,2.7],[0,0,0,1]].
        let expected: [Double] = [1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1, 2.7, 0, 0, 0, 1]
        let c = EG3DCamera.frontal
        for (a, b) in zip(c.cam2world, expected) { XCTAssertEqual(a, b, accuracy: 1e-9) }
        XCTAssertEqual(c.vector.count, 25)
        XCTAssertEqual(Array(c.vector[16...]), [4.2647, 0, 0.5, 0, 4.2647, 0.5, 0, 0, 1])
        for (a, b) in zip(HeadPose.frontal.camera.cam2world, expected) { XCTAssertEqual(a, b, accuracy: 1e-9) }
    }

    /// dlib's mean face (the predictor's initial shape), placed in a frame.
    static func meanFace(scale: Double = 220, dx: Double = 140, dy: Double = 90) throws -> [Point2] {
        let p = try ShapePredictorTests.predictor()
        return (0..<68).map { Point2(x: dx + scale * Double(p.initialShape[2 * $0]), y: dy + scale * Double(p.initialShape[2 * $0 + 1])) }
    }

    /// The mean face lifted to 3-D (rough depths: eyes 0, nose ridge forward, jaw back), turned by a
    /// head rotation and imaged by the frontal EG3D camera, in pixels of a 512 frame.
    static func turnedFace(yaw: Double, pitch: Double, roll: Double = 0) throws -> [Point2] {
        let mean = try meanFace(scale: 1, dx: 0, dy: 0)
        let quad = AlignmentQuad.ffhq(landmarks: mean)
        let r = HeadPose.rotation(for: HeadPose(yaw: yaw, pitch: pitch, roll: roll))
        let f = EG3DCamera.focal, d = EG3DCamera.radius
        return mean.enumerated().map { i, p -> Point2 in
            let c = quad.transform.toCrop(p)
            var z = 0.0
            switch i {
            case 0...16: z = -0.09 * (1 - pow(Double(i - 8) / 8, 2)) - 0.03 + 0.07 * (1 - abs(Double(i - 8)) / 8)
            case 17...26: z = 0.01
            case 27...30: z = 0.02 * Double(i - 26)
            case 31...35: z = 0.04
            case 48...67: z = 0.006
            default: z = 0
            }
            let X = [(c.x - 0.5) * (d - z) / f, -(c.y - 0.5) * (d - z) / f, z]
            let xc = r[0] * X[0] + r[1] * X[1] + r[2] * X[2]
            let yc = r[3] * X[0] + r[4] * X[1] + r[5] * X[2]
            let zc = r[6] * X[0] + r[7] * X[1] + r[8] * X[2] + d
            return Point2(x: 512 * (f * xc / zc + 0.5), y: 512 * (f * yc / zc + 0.5))
        }
    }

    func testMeanFaceIsFrontal() throws {
        let lm = try Self.meanFace()
        let pose = HeadPose.estimate(landmarks: lm, alignment: AlignmentQuad.ffhq(landmarks: lm).transform)
        XCTAssertEqual(pose.yaw, 0, accuracy: 1e-3)
        XCTAssertEqual(pose.pitch, 0, accuracy: 1e-3)
        XCTAssertEqual(pose.roll, 0, accuracy: 1e-3)
        for (a, b) in zip(pose.camera.cam2world, EG3DCamera.frontal.cam2world) { XCTAssertEqual(a, b, accuracy: 5e-3) }
    }

    func testTurnedFacesHaveTheRightSign() throws {
        // The synthetic head's depths differ from the six-point template's, so the fit is not exact and
        // a turn about one axis leaks a little into the other; the signs must still be right.
        for (yaw, pitch) in [(0.35, 0.0), (-0.35, 0.0), (0.0, 0.25), (0.0, -0.25)] {
            let lm = try Self.turnedFace(yaw: yaw, pitch: pitch)
            let pose = HeadPose.estimate(landmarks: lm, alignment: AlignmentQuad.ffhq(landmarks: lm).transform)
            print("pose for yaw \(yaw) pitch \(pitch): \(pose)")
            if yaw != 0 {
                XCTAssertEqual(pose.yaw.sign, yaw.sign, "\(pose)")
                XCTAssertEqual(pose.yaw, yaw, accuracy: 0.15, "\(pose)")
                XCTAssertLessThan(abs(pose.pitch), 0.15, "\(pose)")
            }
            if pitch != 0 {
                XCTAssertEqual(pose.pitch.sign, pitch.sign, "\(pose)")
                XCTAssertEqual(pose.pitch, pitch, accuracy: 0.15, "\(pose)")
                XCTAssertLessThan(abs(pose.yaw), 0.15, "\(pose)")
            }
            // The camera moves the opposite way round the head: a face turned to image right (yaw > 0)
            // is seen by a camera on the world −x side (h < π/2), one tilted down (pitch > 0) from above.
            let (cx, cy, _) = pose.camera.position
            if yaw != 0 { XCTAssertEqual(cx.sign, (-yaw).sign) }
            if pitch != 0 { XCTAssertEqual(cy.sign, pitch.sign) }
            let (px, py, pz) = pose.camera.position
            XCTAssertEqual((px * px + py * py + pz * pz).squareRoot(), EG3DCamera.radius, accuracy: 1e-9)
        }
    }

    func testRollFollowsTheImage() throws {
        let lm = try Self.turnedFace(yaw: 0, pitch: 0, roll: 0.2)
        let pose = HeadPose.estimate(landmarks: lm, alignment: AlignmentQuad.ffhq(landmarks: lm).transform)
        // The FFHQ crop is rotated with the eyes, so in the crop the roll is (almost) gone.
        XCTAssertLessThan(abs(pose.roll), 0.05, "\(pose)")
        let still = HeadPose.estimate(landmarks: lm, alignment: AlignmentQuad.ffhq(landmarks: try Self.turnedFace(yaw: 0, pitch: 0)).transform)
        XCTAssertEqual(still.roll, 0.2, accuracy: 0.05, "\(still)")
    }

    func testAlignmentAndPnPMatchNumpyAndOpenCV() throws {
        // The golden script runs the FFHQ recipe in numpy and OpenCV's iterative solvePnP on the same
        // template, intrinsics and start; both must agree with ours.
        let golden = try Fixtures.golden()
        var worst = 0.0
        for image in golden.images {
            for set in image.landmarks {
                let lm = set.points.map { Point2(x: Double($0[0]), y: Double($0[1])) }
                let t = AlignmentQuad.ffhq(landmarks: lm).transform
                let observed = HeadPose.templateIndices.map { t.toCrop(lm[$0]) }
                for (o, g) in zip(observed, set.pnp.observed) {
                    XCTAssertEqual(o.x, g[0], accuracy: 1e-9)
                    XCTAssertEqual(o.y, g[1], accuracy: 1e-9)
                }
                let (r, tr, _) = HeadPose.solvePnP(observed: observed)
                for (a, b) in zip(r, set.pnp.rotation) { worst = max(worst, abs(a - b)) }
                for (a, b) in zip(tr, set.pnp.translation) { XCTAssertEqual(a, b, accuracy: 1e-4) }
            }
        }
        print("PnP: largest rotation-matrix difference to OpenCV \(worst)")
        // OpenCV stops its Levenberg–Marquardt on its own criteria; 1e-3 is ≈ 0.06°.
        XCTAssertLessThan(worst, 1e-3)
    }
}
