import Foundation
import XCTest
@testable import Checkpoints
@testable import Tensors

/// Direction files as PREIM3D publishes them (torch.save of one tensor), made by tools/make_direction_fixtures.py
/// with torch; each .pt has a .npy of the same values beside it.
final class TorchTensorFileTests: XCTestCase {
    func testReadsBareTensorsInBothTorchFormatsAndOneTensorMappings() throws {
        for (name, shape) in [("direction-preim3d", [1, 7168]), ("direction-legacy", [512]), ("direction-dict", [2, 512])] {
            let t = try TorchTensorFile.read(CheckpointFixtures.url(name + ".pt"))
            let expected = try NumpyArray.read(CheckpointFixtures.url(name + ".npy"))
            XCTAssertEqual(t.shape, shape, name)
            XCTAssertEqual(t.data, expected.data, name)
        }
        let unit = try TorchTensorFile.read(CheckpointFixtures.url("direction-preim3d.pt")).data
        XCTAssertEqual(unit.reduce(0) { $0 + Double($1) * Double($1) }, 1, accuracy: 1e-5, "PREIM3D's directions have unit norm")
    }

    func testMappingOfSeveralTensorsAndNonTensorsAreRefusedByName() throws {
        let two = CheckpointFixtures.url("direction-two.pt")
        XCTAssertThrowsError(try TorchTensorFile.read(two)) { e in
            XCTAssertTrue("\(e)".hasPrefix(two.path + ": holds a dict, not a tensor"), "\(e)")
        }
        // A checkpoint is not a direction.
        let checkpoint = CheckpointFixtures.url("e4e-zip.pt")
        XCTAssertThrowsError(try TorchTensorFile.read(checkpoint)) { e in
            XCTAssertTrue("\(e)".contains("not a tensor"), "\(e)")
        }
    }

    /// A direction file that would run code when unpickled is refused like a checkpoint: nothing runs.
    func testDirectionThatCallsAGlobalOutsideTheAllowListIsRefused() throws {
        var p = PickleBytes()
        p.global("os", "system"); p.str("echo owned"); p.op(PickleBytes.tuple2 - 1); p.op(PickleBytes.reduce); p.op(PickleBytes.stop)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("direction-\(UUID().uuidString).pt")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(p.b).write(to: url)
        XCTAssertThrowsError(try TorchTensorFile.read(url)) { e in
            XCTAssertEqual(e as? CheckpointError, .forbiddenGlobal(file: url.path, name: "os.system"))
        }
    }
}
