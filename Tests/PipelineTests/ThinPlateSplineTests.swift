import Foundation
import XCTest
@testable import Pipeline

final class ThinPlateSplineTests: XCTestCase {
    func testIdentityControlPointsGiveTheIdentityWarp() throws {
        let pts: [SIMD2<Double>] = [[-0.5, -0.5], [0.5, -0.4], [0.1, 0.6], [-0.7, 0.3], [0.2, 0.1]]
        let tps = try ThinPlateSpline(from: pts, to: pts)
        for p in [SIMD2(0.33, -0.2), SIMD2(-0.9, 0.9), SIMD2(0, 0)] {
            let q = tps(p)
            XCTAssertEqual(q.x, p.x, accuracy: 1e-9); XCTAssertEqual(q.y, p.y, accuracy: 1e-9)
        }
        let w = 16, h = 12, c = 3
        let plane = (0..<(w * h * c)).map { Float(($0 * 37) % 101) / 10 }
        var out = [Float](repeating: -1, count: plane.count)
        let warp = PlaneWarp(spline: tps, width: w, height: h)
        plane.withUnsafeBufferPointer { src in out.withUnsafeMutableBufferPointer { dst in
            warp.apply(src.baseAddress!, channels: c, into: dst.baseAddress!)
        } }
        XCTAssertEqual(out, plane)
    }

    func testSplineInterpolatesItsControlPoints() throws {
        let from: [SIMD2<Double>] = [[0, 0], [1, 0], [0, 1], [1, 1], [0.5, 0.5]]
        let to: [SIMD2<Double>] = [[0, 0], [1.2, 0], [0, 0.9], [1, 1], [0.6, 0.4]]
        let tps = try ThinPlateSpline(from: from, to: to)
        for (f, t) in zip(from, to) {
            let q = tps(f)
            XCTAssertEqual(q.x, t.x, accuracy: 1e-9); XCTAssertEqual(q.y, t.y, accuracy: 1e-9)
        }
        // A pure affine map is reproduced everywhere (no bending needed).
        let affine = try ThinPlateSpline(from: from, to: from.map { SIMD2(2 * $0.x + 0.1, $0.y - $0.x) })
        let q = affine(SIMD2(0.3, 0.7))
        XCTAssertEqual(q.x, 0.7, accuracy: 1e-9); XCTAssertEqual(q.y, 0.4, accuracy: 1e-9)
        XCTAssertThrowsError(try ThinPlateSpline(from: [[0, 0], [1, 1], [2, 2]], to: [[0, 0], [1, 1], [2, 2]]))
    }

    func testExaggerateEnlargesAboutTheCentre() throws {
        let tps = try ThinPlateSpline.exaggerate(factor: 1.5, center: SIMD2(0, 0), radius: 0.3)
        // The output ring at 0.45 samples the source ring at 0.3: features grow by 1.5.
        let q = tps(SIMD2(0.45, 0))
        XCTAssertEqual(q.x, 0.3, accuracy: 1e-9)
        XCTAssertEqual(tps(SIMD2(0, 0)).x, 0, accuracy: 1e-9)
        XCTAssertEqual(tps(SIMD2(1, 1)).x, 1, accuracy: 1e-9, "corners stay")
        let none = try ThinPlateSpline.exaggerate(factor: 1)
        let p = none(SIMD2(0.2, -0.1))
        XCTAssertEqual(p.x, 0.2, accuracy: 1e-9); XCTAssertEqual(p.y, -0.1, accuracy: 1e-9)
    }
}
