import XCTest
@testable import Faces

/// FFHQ quad alignment, the crop it makes, and the exact inverse.
final class AlignmentTests: XCTestCase {
    /// 68 landmarks of an upright synthetic face: eyes at (80, 100) and (120, 100), mouth corners at
    /// (90, 150) and (110, 150); the points the recipe does not use sit on the chin.
    static func uprightLandmarks() -> [Point2] {
        var lm = [Point2](repeating: Point2(x: 100, y: 180), count: 68)
        for i in 36...41 { lm[i] = Point2(x: 80, y: 100) }
        for i in 42...47 { lm[i] = Point2(x: 120, y: 100) }
        lm[48] = Point2(x: 90, y: 150)
        lm[54] = Point2(x: 110, y: 150)
        return lm
    }

    func testQuadFollowsTheRecipe() {
        // eye_to_eye (40, 0), eye_to_mouth (0, 50): x = (40, 0) − (−50, 0) = (90, 0), already longer
        // than max(2·40, 1.8·50) = 90 → (90, 0); y = (0, 90); c = (100, 100) + 0.1·(0, 50).
        let q = AlignmentQuad.ffhq(landmarks: Self.uprightLandmarks())
        XCTAssertEqual(q.center.x, 100, accuracy: 1e-12)
        XCTAssertEqual(q.center.y, 105, accuracy: 1e-12)
        XCTAssertEqual(q.x.x, 90, accuracy: 1e-12)
        XCTAssertEqual(q.x.y, 0, accuracy: 1e-12)
        XCTAssertEqual(q.y.x, 0, accuracy: 1e-12)
        XCTAssertEqual(q.y.y, 90, accuracy: 1e-12)
        XCTAssertEqual(q.corners[0], Point2(x: 10, y: 15))
        XCTAssertEqual(q.corners[2], Point2(x: 190, y: 195))
    }

    func testRotatedFaceGivesRotatedQuad() {
        // Rotating every landmark by 30° about (100, 100) rotates the quad the same way.
        let a = 30.0 * Double.pi / 180
        let lm = Self.uprightLandmarks().map { p -> Point2 in
            let dx = p.x - 100, dy = p.y - 100
            return Point2(x: 100 + cos(a) * dx - sin(a) * dy, y: 100 + sin(a) * dx + cos(a) * dy)
        }
        let q = AlignmentQuad.ffhq(landmarks: lm)
        XCTAssertEqual(atan2(q.x.y, q.x.x), a, accuracy: 1e-12)
        XCTAssertEqual(q.x.length, 90, accuracy: 1e-9)
    }

    /// Centroid of the pixels brighter than 128 in the red channel within a window.
    func centroid(_ img: RGBImage, around c: Point2, radius: Int) -> Point2 {
        var sx = 0.0, sy = 0.0, n = 0.0
        for y in max(0, Int(c.y) - radius)...min(img.height - 1, Int(c.y) + radius) {
            for x in max(0, Int(c.x) - radius)...min(img.width - 1, Int(c.x) + radius) {
                let v = Double(img.pixel(x, y).0)
                if v > 20 { sx += v * Double(x); sy += v * Double(y); n += v }
            }
        }
        return Point2(x: sx / n, y: sy / n)
    }

    func testCropPutsFeaturesWhereTheRecipeSays() {
        // A dark frame with bright 4×4 squares centred on the eye midpoint and the mouth midpoint
        // (continuous positions (100, 100) and (100, 150), covering pixels 98…101 and 148…151).
        var frame = RGBImage(width: 300, height: 300)
        for y in 98...101 { for x in 98...101 { frame.setPixel(x, y, (255, 255, 255)) } }
        for y in 148...151 { for x in 98...101 { frame.setPixel(x, y, (255, 255, 255)) } }
        let t = AlignmentQuad.ffhq(landmarks: Self.uprightLandmarks()).transform
        for size in [180, 360, 64] {
            let crop = AlignedCrop.crop(frame, transform: t, size: size)
            // Normalised: eye midpoint (100 − 10)/180 = 0.5, (100 − 15)/180; mouth (150 − 15)/180.
            // Pixel-index centroid = normalised · size − 0.5.
            let s = Double(size)
            let eyeExpected = Point2(x: 0.5 * s - 0.5, y: 85.0 / 180 * s - 0.5)
            let mouthExpected = Point2(x: 0.5 * s - 0.5, y: 135.0 / 180 * s - 0.5)
            let eye = centroid(crop, around: eyeExpected, radius: max(4, size / 20))
            let mouth = centroid(crop, around: mouthExpected, radius: max(4, size / 20))
            XCTAssertEqual(eye.x, eyeExpected.x, accuracy: 0.1, "size \(size)")
            XCTAssertEqual(eye.y, eyeExpected.y, accuracy: 0.1, "size \(size)")
            XCTAssertEqual(mouth.x, mouthExpected.x, accuracy: 0.1, "size \(size)")
            XCTAssertEqual(mouth.y, mouthExpected.y, accuracy: 0.1, "size \(size)")
        }
    }

    func testShrinkingIsAntialiased() {
        // A one-pixel checkerboard shrunk 4× must come out as flat grey (≈127), not aliased stripes.
        var frame = RGBImage(width: 400, height: 400)
        for y in 0..<400 { for x in 0..<400 where (x + y) % 2 == 0 { frame.setPixel(x, y, (255, 255, 255)) } }
        let t = AlignmentTransform(origin: Point2(x: 0, y: 0), u: Point2(x: 400, y: 0), v: Point2(x: 0, y: 400))
        let crop = AlignedCrop.crop(frame, transform: t, size: 100)
        let values = stride(from: 0, to: crop.pixels.count, by: 3).map { Int(crop.pixels[$0]) }
        XCTAssertLessThanOrEqual(values.max()! - values.min()!, 2)
        XCTAssertEqual(Double(values.reduce(0, +)) / Double(values.count), 127.5, accuracy: 1.0)
    }

    func testInverseIsExact() {
        let q = AlignmentQuad(center: Point2(x: 321.7, y: 210.2), x: Point2(x: 80.3, y: -21.4), y: Point2(x: 21.4, y: 80.3))
        let t = q.transform
        for p in [Point2(x: 0, y: 0), Point2(x: 1, y: 1), Point2(x: 0.25, y: 0.8), Point2(x: -0.3, y: 1.7)] {
            let back = t.toCrop(t.toFrame(p))
            XCTAssertEqual(back.x, p.x, accuracy: 1e-12)
            XCTAssertEqual(back.y, p.y, accuracy: 1e-12)
        }
        XCTAssertEqual(t.toFrame(Point2(x: 0.5, y: 0.5)).x, q.center.x, accuracy: 1e-12)
        XCTAssertEqual(t.toFrame(Point2(x: 0.5, y: 0.5)).y, q.center.y, accuracy: 1e-12)
        XCTAssertEqual(t.toFrame(Point2(x: 0, y: 0)).x, q.corners[0].x, accuracy: 1e-12)
        XCTAssertEqual(t.toFrame(Point2(x: 0, y: 1)).y, q.corners[1].y, accuracy: 1e-12)
    }
}
