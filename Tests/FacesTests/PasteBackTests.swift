import XCTest
@testable import Faces

/// Paste-back through the inverse alignment.
final class PasteBackTests: XCTestCase {
    func testCropThenPasteBackRestoresTheFace() {
        // A textured frame; crop the face at 256 and paste the crop straight back: inside the mask the
        // frame must be reproduced (up to two bilinear resamplings), outside it untouched.
        var frame = RGBImage(width: 320, height: 300)
        for y in 0..<300 { for x in 0..<320 {
            frame.setPixel(x, y, (UInt8((x * 3 + y) % 256), UInt8((128 + 40 * sin(Double(x) / 9) * cos(Double(y) / 7)).rounded()), UInt8((x ^ y) & 0xFF)))
        } }
        let lm = AlignmentTests.uprightLandmarks().enumerated().map { i, p -> Point2 in
            // Spread the jaw (0–16) along an arc and the brows (17–26) above the eyes, like a real face.
            if i <= 16 { let a = Double.pi * Double(i) / 16; return Point2(x: 100 - 60 * cos(a), y: 110 + 60 * sin(a)) }
            if i <= 26 { return Point2(x: 70 + 6 * Double(i - 17), y: 85) }
            return p
        }
        let quad = AlignmentQuad.ffhq(landmarks: lm)
        let crop = AlignedCrop.crop(frame, transform: quad.transform, size: 256)
        let out = PasteBack().composite(frame: frame, rendered: crop, quad: quad, landmarks: lm)
        let hull = PasteBack.maskHull(landmarks: lm, quad: quad)
        var insideErr = 0.0, insideCount = 0.0, outsideChanged = 0
        for y in 0..<300 { for x in 0..<320 {
            let p = Point2(x: Double(x) + 0.5, y: Double(y) + 0.5)
            let d = PasteBack.signedDistance(p, hull)
            let a = frame.pixel(x, y), b = out.pixel(x, y)
            if d > 10 { insideErr += abs(Double(a.0) - Double(b.0)); insideCount += 1 }
            if d < -PasteBack().dilation * quad.size - 1 && (a != b) { outsideChanged += 1 }
        } }
        XCTAssertGreaterThan(insideCount, 3000)
        XCTAssertLessThan(insideErr / insideCount, 6.0)
        XCTAssertEqual(outsideChanged, 0)
    }

    func testMaskIsSoft() {
        // Paste white onto black: alpha must rise gradually across the edge, not jump.
        let lm = AlignmentTests.uprightLandmarks().enumerated().map { i, p -> Point2 in
            if i <= 16 { let a = Double.pi * Double(i) / 16; return Point2(x: 100 - 60 * cos(a), y: 110 + 60 * sin(a)) }
            if i <= 26 { return Point2(x: 70 + 6 * Double(i - 17), y: 85) }
            return p
        }
        let quad = AlignmentQuad.ffhq(landmarks: lm)
        let white = RGBImage(width: 64, height: 64, pixels: [UInt8](repeating: 255, count: 64 * 64 * 3))
        let out = PasteBack().composite(frame: RGBImage(width: 220, height: 240), rendered: white, quad: quad, landmarks: lm)
        // Walk down from the chin region outwards along the vertical through x = 100.
        let column = (150..<210).map { Int(out.pixel(100, $0).0) }
        XCTAssertEqual(column.first, 255)
        XCTAssertEqual(column.last, 0)
        let intermediate = column.filter { $0 > 10 && $0 < 245 }.count
        XCTAssertGreaterThanOrEqual(intermediate, 5, "\(column)")
        for k in 1..<column.count { XCTAssertLessThanOrEqual(column[k], column[k - 1]) }
    }

    func testPlanarFloatsRoundTrip() {
        let img = RGBImage(width: 3, height: 2, pixels: [0, 128, 255, 1, 2, 3, 10, 20, 30, 40, 50, 60, 70, 80, 90, 254, 253, 252])
        let planar = img.planarFloats()
        XCTAssertEqual(planar[0], -1)            // R of pixel 0
        XCTAssertEqual(planar[6 + 0], 128.0 / 127.5 - 1, accuracy: 1e-6)  // G plane starts at n = 6
        XCTAssertEqual(planar[12], 1)            // B of pixel 0 = 255
        XCTAssertEqual(RGBImage(planar: planar, width: 3, height: 2), img)
    }
}
