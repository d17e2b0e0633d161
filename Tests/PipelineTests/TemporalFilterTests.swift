import Foundation
import Models
import XCTest
@testable import Pipeline

final class TemporalFilterTests: XCTestCase {
    /// A slow sine plus deterministic frame-to-frame noise, `dim` columns.
    func jittery(frames n: Int, dim: Int, noise: Float = 0.2) -> [Float] {
        var g = SplitMix64(seed: 7)
        return (0..<(n * dim)).map { i in
            let t = Float(i / dim), c = Float(i % dim)
            return sin(t * 0.05 + c) + noise * (Float(g.next() % 2001) / 1000 - 1)
        }
    }

    func testEveryFilterLowersJitter() {
        let n = 200, dim = 6
        let raw = jittery(frames: n, dim: dim)
        let before = meanFrameToFrameDistance(raw, frames: n, dim: dim)
        for f in [TemporalFilter.gaussian(sigma: 2), .exponential(alpha: 0.3), .oneEuro(minCutoff: 1, beta: 0.01, derivativeCutoff: 1)] {
            let after = meanFrameToFrameDistance(f.apply(raw, frames: n, dim: dim, rate: 25), frames: n, dim: dim)
            XCTAssertLessThan(after, before * 0.6, "\(f) did not smooth: \(before) → \(after)")
        }
    }

    func testConstantsStayPutAndNoneIsIdentity() {
        let n = 30, dim = 3
        let flat = [Float](repeating: 2.5, count: n * dim)
        for f in [TemporalFilter.gaussian(sigma: 3), .exponential(alpha: 0.5), .oneEuro(minCutoff: 1, beta: 0.1, derivativeCutoff: 1)] {
            for (a, b) in zip(f.apply(flat, frames: n, dim: dim, rate: 30), flat) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        }
        let raw = jittery(frames: n, dim: dim)
        XCTAssertEqual(TemporalFilter.none.apply(raw, frames: n, dim: dim, rate: 30), raw)
        XCTAssertEqual(TemporalFilter(spec: "gaussian:0"), TemporalFilter.none)
    }

    func testGaussianByHand() {
        // σ = 1 on an impulse: weights e^0, e^-1/2, e^-2, e^-9/2 normalised over the 7-tap window.
        var x = [Float](repeating: 0, count: 21)
        x[10] = 1
        let y = TemporalFilter.gaussian(sigma: 1).apply(x, frames: 21, dim: 1, rate: 25)
        let k = (0...3).map { exp(-Double($0 * $0) / 2) }
        let total = k[0] + 2 * (k[1] + k[2] + k[3])
        XCTAssertEqual(Double(y[10]), k[0] / total, accuracy: 1e-6)
        XCTAssertEqual(Double(y[9]), k[1] / total, accuracy: 1e-6)
        XCTAssertEqual(Double(y[7]), k[3] / total, accuracy: 1e-6)
        XCTAssertEqual(y[6], 0)
        // At the clip's start the window is cut and renormalised: frame 0 of a constant stays constant.
        let ones = TemporalFilter.gaussian(sigma: 1).apply([Float](repeating: 1, count: 21), frames: 21, dim: 1, rate: 25)
        XCTAssertEqual(ones[0], 1, accuracy: 1e-6)
    }

    func testColumnsOutsideTheRangeAreUntouched() {
        let raw = jittery(frames: 20, dim: 4)
        let y = TemporalFilter.gaussian(sigma: 2).apply(raw, frames: 20, dim: 4, rate: 25, columns: 1..<2)
        for t in 0..<20 { for c in [0, 2, 3] { XCTAssertEqual(y[t * 4 + c], raw[t * 4 + c]) } }
        XCTAssertNotEqual(y[4 + 1], raw[4 + 1])
    }

    func testSpecs() {
        XCTAssertEqual(TemporalFilter(spec: "gaussian:2.5"), .gaussian(sigma: 2.5))
        XCTAssertEqual(TemporalFilter(spec: "ema:0.4"), .exponential(alpha: 0.4))
        XCTAssertEqual(TemporalFilter(spec: "one-euro:1,0.05"), .oneEuro(minCutoff: 1, beta: 0.05, derivativeCutoff: 1))
        XCTAssertNil(TemporalFilter(spec: "ema:2"))
        XCTAssertNil(TemporalFilter(spec: "median:3"))
    }

    func testSmoothedCamerasStayRotations() {
        // Cameras yawing back and forth with noise; after smoothing every rotation is orthonormal.
        var cams: [Float] = []
        for t in 0..<40 {
            let yaw = 0.3 * sin(Double(t) * 0.3) + (t % 2 == 0 ? 0.05 : -0.05)
            let c = Float(cos(yaw)), s = Float(sin(yaw))
            cams += [c, 0, s, 2.7 * s, 0, 1, 0, 0, -s, 0, c, 2.7 * c, 0, 0, 0, 1, 4.2647, 0, 0.5, 0, 4.2647, 0.5, 0, 0, 1]
        }
        let out = smoothCameras(cams, frames: 40, filter: .gaussian(sigma: 2), rate: 25)
        for t in 0..<40 {
            let b = t * 25
            for i in 0..<3 { for j in 0..<3 {
                var dot: Float = 0
                for k in 0..<3 { dot += out[b + k * 4 + i] * out[b + k * 4 + j] }
                XCTAssertEqual(dot, i == j ? 1 : 0, accuracy: 1e-5)
            } }
            XCTAssertEqual(Array(out[(b + 16)..<(b + 25)]), Array(cams[(b + 16)..<(b + 25)]), "intrinsics changed")
        }
        XCTAssertLessThan(meanFrameToFrameDistance(out, frames: 40, dim: 25), meanFrameToFrameDistance(cams, frames: 40, dim: 25))
    }
}
