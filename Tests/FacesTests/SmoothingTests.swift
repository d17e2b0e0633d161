import XCTest
@testable import Faces

/// Temporal smoothing of quads and poses, and filling of faceless frames.
final class SmoothingTests: XCTestCase {
    func testGaussianMatchesScipy() {
        // scipy.ndimage.gaussian_filter1d([0, 0, 1, 0, 0, 3, 2], σ) with its defaults (reflect, truncate 4).
        let x: [Double] = [0, 0, 1, 0, 0, 3, 2]
        let s1: [Double] = [0.05842298904073567, 0.2425067681550597, 0.41250671546542106, 0.41307621240800596,
                            0.8971529343458222, 1.8064830007030288, 2.1698513798819272]
        let s3: [Double] = [0.43520640247909514, 0.5118531618132303, 0.6551145442390742, 0.8431070703316422,
                            1.0416622694701525, 1.208683642102889, 1.3043729095639165]
        for (a, b) in zip(GaussianSmoother.smooth(x, sigma: 1), s1) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        for (a, b) in zip(GaussianSmoother.smooth(x, sigma: 3), s3) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        XCTAssertEqual(GaussianSmoother.smooth(x, sigma: 0), x)
    }

    /// A measured frame with the given quad and yaw (landmarks are not used by smoothing).
    static func frame(_ i: Int, center: Point2, half: Double, yaw: Double) -> FaceFrame {
        let q = AlignmentQuad(center: center, x: Point2(x: half, y: 0), y: Point2(x: 0, y: half))
        return FaceFrame(index: i, time: Double(i) / 25, source: .tracked, box: nil,
                         landmarks: [Point2](repeating: center, count: 68), rawQuad: q,
                         rawPose: HeadPose(yaw: yaw, pitch: 0, roll: 0))
    }

    /// Deterministic noise (a linear congruential generator mapped to roughly N(0, 1) by summing).
    struct Noise {
        var state: UInt64 = 12345
        mutating func next() -> Double {
            var s = 0.0
            for _ in 0..<12 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                s += Double(state >> 11) / Double(1 << 53)
            }
            return s - 6
        }
    }

    /// Mean absolute second difference: frame-to-frame jitter that a smooth motion does not have.
    static func jitter(_ v: [Double]) -> Double {
        guard v.count > 2 else { return 0 }
        var total = 0.0
        for i in 1..<(v.count - 1) {
            let d2: Double = v[i + 1] - 2 * v[i] + v[i - 1]
            total += abs(d2)
        }
        return total / Double(v.count - 2)
    }

    func testSmoothingReducesJitterOfASyntheticTrack() throws {
        var noise = Noise()
        let measured: [FaceFrame?] = (0..<120).map { i in
            let t = Double(i)
            let nx: Double = 1.5 * noise.next(), ny: Double = 1.5 * noise.next()
            let nh: Double = 2 * noise.next(), nyaw: Double = 0.03 * noise.next()
            let cx: Double = 200 + 0.8 * t + nx
            let cy: Double = 150 + 20 * sin(t / 30) + ny
            let yaw: Double = 0.2 * sin(t / 40) + nyaw
            return Self.frame(i, center: Point2(x: cx, y: cy), half: 90 + nh, yaw: yaw)
        }
        let frames = try FaceTrackSmoothing().apply(measured)
        let rawCx = frames.map { $0.rawQuad.center.x }, cx = frames.map { $0.quad.center.x }
        let rawHalf = frames.map { $0.rawQuad.x.x }, half = frames.map { $0.quad.x.x }
        let rawYaw = frames.map { $0.rawPose.yaw }, yaw = frames.map { $0.pose.yaw }
        XCTAssertLessThan(Self.jitter(cx), 0.5 * Self.jitter(rawCx))
        XCTAssertLessThan(Self.jitter(half), 0.2 * Self.jitter(rawHalf))
        XCTAssertLessThan(Self.jitter(yaw), 0.2 * Self.jitter(rawYaw))
        // Smoothing follows the motion rather than flattening it: the centre still travels ~95 px.
        XCTAssertEqual(cx.last! - cx.first!, 0.8 * 119, accuracy: 8)
        // σ = 0 everywhere leaves the raw values.
        let untouched = try FaceTrackSmoothing.none.apply(measured)
        XCTAssertEqual(untouched.map { $0.quad }, untouched.map { $0.rawQuad })
    }

    func testFacelessFramesAreFilledAndFlagged() throws {
        var measured: [FaceFrame?] = (0..<10).map { Self.frame($0, center: Point2(x: Double(10 * $0), y: 50), half: 40, yaw: 0.1 * Double($0)) }
        measured[0] = nil
        measured[1] = nil
        measured[5] = nil
        measured[6] = nil
        measured[9] = nil
        let frames = try FaceTrackSmoothing.none.apply(measured)
        XCTAssertEqual(frames.count, 10)
        XCTAssertEqual(frames.filter { $0.isFilled }.map { $0.index }, [0, 1, 5, 6, 9])
        // Held at the start and end, interpolated inside (between frames 4 and 7).
        XCTAssertEqual(frames[0].quad.center.x, 20)
        XCTAssertEqual(frames[1].quad.center.x, 20)
        XCTAssertEqual(frames[5].quad.center.x, 50, accuracy: 1e-9)
        XCTAssertEqual(frames[6].quad.center.x, 60, accuracy: 1e-9)
        XCTAssertEqual(frames[6].pose.yaw, 0.6, accuracy: 1e-9)
        XCTAssertEqual(frames[9].quad.center.x, 80)
        XCTAssertEqual(frames[5].landmarks.count, 68)
        // A clip without any face is an error that says so, not a crash.
        XCTAssertThrowsError(try FaceTrackSmoothing().apply([nil, nil, nil])) { error in
            XCTAssertEqual(error as? FacesError, .noFaceInClip(frames: 3))
        }
    }
}
