import XCTest
@testable import Faces

/// dlib's 68-point predictor, read from Debian's libdlib-data file, against dlib's own output.
final class ShapePredictorTests: XCTestCase {
    nonisolated(unsafe) static var cached: ShapePredictor?

    static func predictor() throws -> ShapePredictor {
        try Fixtures.requireModel(Fixtures.predictorPath, package: "libdlib-data")
        if let p = cached { return p }
        let p = try ShapePredictor(contentsOf: Fixtures.predictorPath)
        cached = p
        return p
    }

    func testModelShape() throws {
        let p = try Self.predictor()
        XCTAssertEqual(p.landmarkCount, 68)
        XCTAssertEqual(p.cascadeDepth, 15)  // the 2014 iBUG model: 15 levels of 500 depth-5 trees
    }

    func testLandmarksMatchDlib() throws {
        let p = try Self.predictor()
        let golden = try Fixtures.golden()
        var totalError = 0.0, totalRounded = 0.0, count = 0
        for image in golden.images {
            let gray = try Fixtures.ppm(image.file).meanIntensity()
            for set in image.landmarks {
                let box = DlibRect(left: set.rect[0], top: set.rect[1], right: set.rect[2], bottom: set.rect[3])
                let ours = p.predict(gray, box: box)
                XCTAssertEqual(ours.count, 68)
                var err = 0.0, errRounded = 0.0
                for (q, t) in zip(ours, set.points) {
                    let d = Point2(x: Double(t[0]), y: Double(t[1]))
                    err += (q - d).length
                    errRounded += (q.rounded - d).length
                }
                err /= 68; errRounded /= 68
                print("landmarks \(image.file) box \(set.rect): mean error \(String(format: "%.3f", err)) px, "
                      + "after dlib's integer rounding \(String(format: "%.3f", errRounded)) px")
                XCTAssertLessThan(err, 0.5)
                // Rounded the way dlib rounds its output, the points should be dlib's exactly.
                XCTAssertLessThan(errRounded, 0.05)
                totalError += err; totalRounded += errRounded; count += 1
            }
        }
        XCTAssertGreaterThan(count, 0)
        print("landmarks overall mean error \(totalError / Double(count)) px (rounded: \(totalRounded / Double(count)))")
    }

    func testMissingModelNamesThePackage() {
        XCTAssertThrowsError(try ShapePredictor(contentsOf: "/nonexistent/shape_predictor_68_face_landmarks.dat")) { error in
            XCTAssertTrue("\(error)".contains("apt-get install libdlib-data"), "\(error)")
        }
    }

    func testDeserializerIntegerAndFloatEncoding() throws {
        // dlib integers: control byte (size | 0x80 if negative), then little-endian magnitude bytes.
        // 300 = 0x012C → [0x02, 0x2C, 0x01]; −5 → [0x81, 0x05]; 0 → [0x00].
        // Floats: mantissa and exponent as two such integers: 0.75 = 3 · 2^−2 → [0x01,0x03, 0x81,0x02].
        var d = DlibDeserializer(bytes: [0x02, 0x2C, 0x01, 0x81, 0x05, 0x00, 0x01, 0x03, 0x81, 0x02])
        XCTAssertEqual(try d.integer(), 300)
        XCTAssertEqual(try d.integer(), -5)
        XCTAssertEqual(try d.integer(), 0)
        XCTAssertEqual(try d.float(), 0.75)
        XCTAssertTrue(d.atEnd)
        XCTAssertThrowsError(try d.integer())
    }
}
