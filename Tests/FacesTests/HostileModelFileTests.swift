import XCTest
@testable import Faces

/// Damaged or hostile model files, including the inputs the fuzz targets (Fuzz/) crashed or hung on:
/// each is refused with a message naming the file, and what loads runs without reading out of bounds.
final class HostileModelFileTests: XCTestCase {
    /// A one-stage cascade in OpenCV's format with one tree (`nodes` as OpenCV writes them: left, right,
    /// feature, threshold) and the given feature rectangles.
    static func cascade(nodes: String, leaves: String, rects: [String] = ["2 3 8 4 -1.", "2 5 8 2 2."],
                        width: String = "20", height: String = "20") -> [UInt8] {
        let rectXML = rects.map { "<_>\($0)</_>" }.joined()
        return Array("""
            <?xml version="1.0"?>
            <opencv_storage><cascade><stageType>BOOST</stageType><featureType>HAAR</featureType>
            <height>\(height)</height><width>\(width)</width>
            <featureParams><maxCatCount>0</maxCatCount></featureParams>
            <stages><_><stageThreshold>-1.</stageThreshold><weakClassifiers>
            <_><internalNodes>\(nodes)</internalNodes><leafValues>\(leaves)</leafValues></_>
            </weakClassifiers></_></stages>
            <features><_><rects>\(rectXML)</rects></_></features>
            </cascade></opencv_storage>
            """.utf8)
    }

    static let image = GrayImage(width: 40, height: 40, pixels: (0..<1600).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 40 * 13) })

    func assertRefused(_ xml: [UInt8], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try HaarCascade(xml: xml, path: "bad.xml"), file: file, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("bad.xml") && message.contains(fragment), message, file: file, line: line)
        }
    }

    func testValidTreeCascadeRuns() throws {
        // Two splits: node 0 goes on to node 1 or leaf 1; node 1 ends in leaf 1 or 2.
        let cascade = try HaarCascade(xml: Self.cascade(nodes: "1 -1 0 0.01 -1 -2 0 -0.01", leaves: "0.5 -0.5 0.25"), path: "ok.xml")
        XCTAssertFalse(cascade.isStumpBased)
        _ = HaarDetector(cascade: cascade).candidates(Self.image)
    }

    func testNodePointingAtItselfIsRefused() {
        // Node 1's left child is node 1: the detector's tree walk never ended.
        assertRefused(Self.cascade(nodes: "1 -1 0 0.01 1 -2 0 -0.01", leaves: "0.5 -0.5 0.25"), "node 1 points outside its tree")
    }

    func testNodePointingBackOrPastItsTreeIsRefused() {
        // Node 2 leads back to node 1, which is not a loop yet but is not how trees are written either.
        assertRefused(Self.cascade(nodes: "1 2 0 0.01 -1 -2 0 0.01 1 -3 0 0", leaves: "0.5 -0.5 0.25 0.1"),
                      "node 2 points outside its tree")
        assertRefused(Self.cascade(nodes: "5 -1 0 0.01 -1 -2 0 -0.01", leaves: "0.5 -0.5 0.25"), "node 0 points outside its tree")
        // Leaf −7 of a tree with three leaves.
        assertRefused(Self.cascade(nodes: "1 -1 0 0.01 -1 -7 0 -0.01", leaves: "0.5 -0.5 0.25"), "node 1 points outside its tree")
    }

    func testRectangleOutsideTheWindowIsRefused() {
        // Corners became raw offsets into the integral image: (15, 3, 8, 4) reaches x = 23 in a 20-wide window.
        assertRefused(Self.cascade(nodes: "0 -1 0 0.01", leaves: "0.5 -0.5", rects: ["15 3 8 4 -1.", "2 5 8 2 2."]),
                      "outside the 20×20 window")
        assertRefused(Self.cascade(nodes: "0 -1 0 0.01", leaves: "0.5 -0.5", rects: ["-2 3 8 4 -1.", "2 5 8 2 2."]),
                      "outside the 20×20 window")
    }

    func testNumbersThatAreNotIndicesAreRefused() {
        // Int(nan) and Int(1e300) trap: indices and coordinates must be whole numbers in range.
        assertRefused(Self.cascade(nodes: "0 -1 nan 0.01", leaves: "0.5 -0.5"), "points outside its tree")
        assertRefused(Self.cascade(nodes: "1e300 -1 0 0.01", leaves: "0.5 -0.5"), "points outside its tree")
        assertRefused(Self.cascade(nodes: "0 -1 0 0.01", leaves: "0.5 -0.5", rects: ["2.5 3 8 4 -1.", "2 5 8 2 2."]),
                      "malformed rectangle")
        assertRefused(Self.cascade(nodes: "0 -1 0 0.01", leaves: "0.5 -0.5", width: "100000000000"), "larger than")
    }

    // MARK: dlib shape predictor

    /// dlib's integer encoding: a control byte (byte count, bit 7 = sign), then the magnitude.
    static func dlibInt(_ v: Int64) -> [UInt8] {
        var mag = v.magnitude, out: [UInt8] = []
        repeat { out.append(UInt8(mag & 0xFF)); mag >>= 8 } while mag != 0
        return [UInt8(out.count) | (v < 0 ? 0x80 : 0)] + out
    }

    static func dlibFloat(_ v: Double) -> [UInt8] {
        if v.isNaN { return dlibInt(0) + dlibInt(32002) }
        if v.isInfinite { return dlibInt(0) + dlibInt(v > 0 ? 32000 : 32001) }
        let e = v == 0 ? 0 : Int64(v.exponent) - 52
        return dlibInt(Int64(v == 0 ? 0 : v * pow(2, Double(-e)))) + dlibInt(e)
    }

    static func dlibColumn(_ v: [Double]) -> [UInt8] {
        dlibInt(-Int64(v.count)) + dlibInt(-1) + v.flatMap(dlibFloat)
    }

    /// Two landmarks, one level of one depth-1 tree over two feature points.
    static func predictor(leaf: Double = 0.01, delta: Double = 0.05) -> [UInt8] {
        var out = dlibInt(1) + dlibColumn([0.3, 0.4, 0.7, 0.4]) + dlibInt(1) + dlibInt(1)
        out += dlibInt(1) + dlibInt(0) + dlibInt(1) + dlibFloat(3)
        out += dlibInt(2) + dlibColumn([leaf, 0, 0, leaf]) + dlibColumn([-leaf, 0, 0, 0])
        out += dlibInt(1) + dlibInt(2) + dlibInt(0) + dlibInt(1)
        out += dlibInt(1) + dlibInt(2) + dlibFloat(delta) + dlibFloat(0) + dlibFloat(0) + dlibFloat(-delta)
        return out
    }

    func testSmallPredictorLoadsAndPredicts() throws {
        let p = try ShapePredictor(data: Self.predictor(), path: "ok.dat")
        XCTAssertEqual(p.predict(Self.image, box: DlibRect(left: 5, top: 5, right: 30, bottom: 30)).count, 2)
    }

    func testNonFiniteModelValuesAreRefused() {
        for bytes in [Self.predictor(leaf: .infinity), Self.predictor(leaf: .nan), Self.predictor(delta: -.infinity)] {
            XCTAssertThrowsError(try ShapePredictor(data: bytes, path: "bad.dat")) { error in
                XCTAssertTrue("\(error)".contains("bad.dat") && "\(error)".contains("not a finite number"), "\(error)")
            }
        }
    }

    func testHugeButFiniteValuesPredictWithoutTrapping() throws {
        // Finite but far outside any image: the sample points fall outside and read as 0 (Int(1e40) trapped).
        let p = try ShapePredictor(data: Self.predictor(leaf: 1e30, delta: 1e30), path: "huge.dat")
        _ = p.predict(Self.image, box: DlibRect(left: 5, top: 5, right: 30, bottom: 30))
    }

    func testPredictorCrashersFoundByFuzzingAreRefused() throws {
        let crashers = [
            // A −3 × 1 column (one size negated, one not): read as 3 × −1, then a loop over −3 rows trapped.
            "AQEBCIEBB5qZmZmZFK5H4XoUgTuHexSuR+F6FIE7gQiBAQEAgTUBAIE1AQCBNQEAgTUBAIE1AQCBNQEAgTUBAIE1AQEBAwEAAQEBAwEBAQMzMxOBNjMzMzMzE4E1Bwc=",
        ]
        for (i, text) in crashers.enumerated() {
            let bytes = [UInt8](try XCTUnwrap(Data(base64Encoded: text)))
            XCTAssertThrowsError(try ShapePredictor(data: bytes, path: "crash\(i).dat")) { error in
                XCTAssertTrue("\(error)".contains("crash\(i).dat"), "\(error)")
            }
        }
        // The version number −2^63: negating it trapped.
        let minVersion: [UInt8] = [0x88, 0, 0, 0, 0, 0, 0, 0, 0x80]
        XCTAssertThrowsError(try ShapePredictor(data: minVersion, path: "min.dat")) { error in
            XCTAssertTrue("\(error)".contains("integer out of range"), "\(error)")
        }
    }

    func testDeeplyNestedXMLIsRefusedNotFreedRecursively() {
        // 500 000 nested elements parsed, then overflowed the stack when the tree was freed.
        let deep = Array(String(repeating: "<_>", count: 500_000).utf8)
        assertRefused(Array("<opencv_storage>".utf8) + deep, "nested deeper than 64 levels")
    }

    func testColumnLargerThanTheFileIsRefusedBeforeItIsReserved() {
        // Version 1, then an initial shape of 2^24 − 1 rows × 1 (written negated): 8 bytes.
        let bytes: [UInt8] = [0x01, 0x01, 0x83, 0xFF, 0xFF, 0xFF, 0x81, 0x01]
        XCTAssertThrowsError(try ShapePredictor(data: bytes, path: "big.dat")) { error in
            XCTAssertTrue("\(error)".contains("big.dat") && "\(error)".contains("16777215 values where 0 bytes are left"), "\(error)")
        }
    }
}
