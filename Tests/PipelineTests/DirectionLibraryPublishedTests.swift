import Foundation
import XCTest
@testable import Pipeline
import Tensors

/// `--directions` reads a folder of PREIM3D's published `.pt` files as they are (fixtures made with torch by
/// tools/make_direction_fixtures.py, in Tests/CheckpointsTests/Fixtures).
final class DirectionLibraryPublishedTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CheckpointsTests/Fixtures")

    func testPublishedDirectionsLoadByFileNameAsTheirWPlusRows() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("directions-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("direction-preim3d.pt"),
                                         to: folder.appendingPathComponent("Smiling.pt"))
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("direction-legacy.pt"),
                                         to: folder.appendingPathComponent("Young.pt"))
        let library = try DirectionLibrary(folder: folder)
        XCTAssertEqual(library.names, ["Smiling", "Young"])
        // [1, 7168] is (14, 512) row by row, as PREIM3D's inference reshapes it.
        let smiling = try library.direction("smiling", numWs: 14, wDim: 512)
        let expected = try NumpyArray.read(Self.fixtures.appendingPathComponent("direction-preim3d.npy")).data
        XCTAssertEqual(smiling, expected)
        // A [512] direction applies to every layer.
        let young = try library.direction("Young", numWs: 14, wDim: 512)
        XCTAssertEqual(Array(young[512..<1024]), Array(young[0..<512]))
        // Made for EG3D's 14 × 512 W+, refused for another model's W space with a message naming the file.
        XCTAssertThrowsError(try library.direction("Smiling", numWs: 14, wDim: 16)) { e in
            XCTAssertEqual(e as? DirectionError, .badShape(file: folder.appendingPathComponent("Smiling.pt").path, count: 7168,
                                                           expected: "16 or 14×16"))
        }
    }
}
