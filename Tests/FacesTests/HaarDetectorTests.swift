import XCTest
@testable import Faces

/// The Haar detector against OpenCV's own `detectMultiScale` on the committed images.
final class HaarDetectorTests: XCTestCase {
    func testDetectionsMatchOpenCV() throws {
        let golden = try Fixtures.golden()
        for name in ["frontalface_default", "frontalface_alt2", "profileface"] {
            let path = "\(Fixtures.cascadeDir)/haarcascade_\(name).xml"
            try Fixtures.requireModel(path, package: "opencv-data")
            let detector = try HaarDetector(contentsOf: path)
            for image in golden.images {
                let rgb = try Fixtures.ppm(image.file)
                let params = HaarDetector.Parameters(scaleFactor: golden.scaleFactor, minNeighbors: golden.minNeighbors)
                let ours = detector.detect(rgb.luma(), parameters: params)
                let theirs = (image.detections[name] ?? []).map { FaceRect(x: $0[0], y: $0[1], width: $0[2], height: $0[3]) }
                XCTAssertEqual(ours.count, theirs.count, "\(name) on \(image.file): \(ours) vs OpenCV \(theirs)")
                // The port is exact (same pyramid bytes, same arithmetic), so the boxes are OpenCV's own.
                XCTAssertEqual(Set(ours), Set(theirs), "\(name) on \(image.file)")
                for t in theirs {
                    let best = ours.map { $0.iou(t) }.max() ?? 0
                    print("haar \(name) \(image.file) OpenCV \(t) best IoU \(String(format: "%.3f", best))")
                    XCTAssertGreaterThanOrEqual(best, 0.9, "\(name) on \(image.file): \(ours) vs OpenCV \(t)")
                }
            }
        }
    }

    func testMissingCascadeNamesThePackage() {
        XCTAssertThrowsError(try HaarCascade(contentsOf: "/nonexistent/haarcascade_frontalface_default.xml")) { error in
            XCTAssertTrue("\(error)".contains("apt-get install opencv-data"), "\(error)")
        }
    }

    func testGroupingDropsLonelyHitsAndAveragesClusters() {
        // Three near-identical hits and one stray: with minNeighbors 2 the cluster survives as its mean.
        let hits = [FaceRect(x: 10, y: 10, width: 40, height: 40), FaceRect(x: 12, y: 11, width: 40, height: 40),
                    FaceRect(x: 11, y: 13, width: 44, height: 44), FaceRect(x: 200, y: 200, width: 40, height: 40)]
        let g = RectangleGrouping.group(hits, threshold: 2)
        XCTAssertEqual(g.count, 1)
        XCTAssertEqual(g[0].rect, FaceRect(x: 11, y: 11, width: 41, height: 41))
        XCTAssertEqual(g[0].neighbours, 3)
    }
}
