import Foundation
import Models
import Tensors
import XCTest
@testable import Pipeline

final class EditTests: XCTestCase {
    func testConstantAndKeyframes() throws {
        let c = try XCTUnwrap(EditValue(parsing: "1.5"))
        XCTAssertEqual(c.value(frame: 99, seconds: 3.96, frameRate: 25), 1.5)
        let k = try XCTUnwrap(EditValue(parsing: "0:0,2s:1.5,4s:0"))
        XCTAssertEqual(k.value(frame: 0, seconds: 0, frameRate: 25), 0)
        XCTAssertEqual(k.value(frame: 25, seconds: 1, frameRate: 25), 0.75, accuracy: 1e-12)
        XCTAssertEqual(k.value(frame: 50, seconds: 2, frameRate: 25), 1.5, accuracy: 1e-12)
        XCTAssertEqual(k.value(frame: 75, seconds: 3, frameRate: 25), 0.75, accuracy: 1e-12)
        XCTAssertEqual(k.value(frame: 200, seconds: 8, frameRate: 25), 0, "holds after the last key")
        // Frame-number keys at 10 fps: frame 5 is half way between frames 0 and 10.
        let f = try XCTUnwrap(EditValue(parsing: "0:-1,10:1"))
        XCTAssertEqual(f.value(frame: 5, seconds: 0.5, frameRate: 10), 0, accuracy: 1e-12)
        for bad in ["", "abc", "1:2:3", "x:1", "-1:0"] { XCTAssertNil(EditValue(parsing: bad), bad) }
        let e = try XCTUnwrap(NamedEdit(argument: "Smiling=0:0,1s:2"))
        XCTAssertEqual(e.name, "Smiling")
        XCTAssertNil(NamedEdit(argument: "Smiling"))
    }

    func testDirectionFilesOfBothShapes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-dirs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let shared = (0..<8).map { Float($0) }
        try NumpyArray.write(Tensor(shape: [8], data: shared), to: dir.appendingPathComponent("Broad.npy"))
        let perLayer = (0..<24).map { Float($0) * 0.5 }
        try NumpyArray.write(Tensor(shape: [1, 24], data: perLayer), to: dir.appendingPathComponent("Fine.npy"))
        try Data("junk".utf8).write(to: dir.appendingPathComponent("Broken.npy"))
        let lib = try DirectionLibrary(folder: dir)
        XCTAssertEqual(lib.names, ["Broad", "Broken", "Fine"])
        XCTAssertEqual(try lib.direction("Broad", numWs: 3, wDim: 8), shared + shared + shared)
        XCTAssertEqual(try lib.direction("fine", numWs: 3, wDim: 8), perLayer)
        XCTAssertThrowsError(try lib.direction("Broad", numWs: 3, wDim: 5)) { XCTAssertTrue("\($0)".contains("5 or 3×5")) }
        XCTAssertThrowsError(try lib.direction("Broken", numWs: 3, wDim: 8)) { XCTAssertTrue("\($0)".contains("Broken.npy")) }
        XCTAssertThrowsError(try lib.direction("Nope", numWs: 3, wDim: 8)) { XCTAssertTrue("\($0)".contains("known: Broad")) }
    }

    func testShippedInterFaceGANDirectionsRead() throws {
        // The PREIM3D directions for EG3D ffhq512 that ship in directions/.
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("directions/eg3d-ffhq512-preim3d")
        let lib = try DirectionLibrary(folder: folder)
        XCTAssertEqual(lib.names.count, 39)
        let d = try lib.direction("Smiling", numWs: 14, wDim: 512)
        XCTAssertEqual(d.count, 7168)
        XCTAssertEqual(d.reduce(0) { $0 + Double($1) * Double($1) }, 1, accuracy: 1e-4, "unit norm as the README says")
    }
}

final class GANSpaceTests: XCTestCase {
    func testEigenDecompositionByHand() throws {
        // [[2, 1], [1, 2]] has eigenvalues 3 (along (1, 1)/√2) and 1 (along (1, −1)/√2).
        let (values, vectors) = try SymmetricEigen.decompose([2, 1, 1, 2], size: 2)
        XCTAssertEqual(values[0], 3, accuracy: 1e-5); XCTAssertEqual(values[1], 1, accuracy: 1e-5)
        XCTAssertEqual(abs(vectors[0][0]), Float(0.5).squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(vectors[0][0] * vectors[0][1], 0.5, accuracy: 1e-5)
        XCTAssertEqual(vectors[1][0] * vectors[1][1], -0.5, accuracy: 1e-5)
    }

    func testCovarianceFindsTheLongAxis() throws {
        // Points spread 10× more along (3, 4)/5 than across it: the first component is that axis.
        var rng = SplitMix64(seed: 3)
        var x: [Float] = []
        for _ in 0..<500 {
            let a = Float(Int(rng.next() % 2001) - 1000) / 100, b = Float(Int(rng.next() % 2001) - 1000) / 1000
            x += [0.6 * a - 0.8 * b + 1, 0.8 * a + 0.6 * b - 2]
        }
        let (cov, mean) = SymmetricEigen.covariance(x, rows: 500, dim: 2)
        XCTAssertEqual(mean[0], 1, accuracy: 0.5); XCTAssertEqual(mean[1], -2, accuracy: 0.5)
        let (values, vectors) = try SymmetricEigen.decompose(cov, size: 2)
        XCTAssertGreaterThan(values[0], 50 * values[1])
        XCTAssertEqual(abs(vectors[0][0]), 0.6, accuracy: 0.01)
        XCTAssertEqual(abs(vectors[0][1]), 0.8, accuracy: 0.01)
    }
}
