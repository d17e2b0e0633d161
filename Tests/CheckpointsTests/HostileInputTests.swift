import Foundation
import Models
import Tensors
import XCTest
@testable import Checkpoints

/// Checkpoints a stranger could hand over: each gets one clear error naming the problem, and no bundle
/// (nor a partial folder) is left behind.
final class HostileInputTests: XCTestCase {
    /// Writes `bytes` as a checkpoint, imports it, and returns the error; asserts the output folder's
    /// parent holds nothing afterwards.
    func importError(_ bytes: [UInt8], name: String = "bad.pt", file: StaticString = #filePath, line: UInt = #line) -> Error? {
        let tmp = CheckpointFixtures.temporaryFolder(self)
        let input = tmp.appendingPathComponent(name)
        try! Data(bytes).write(to: input)
        let outParent = tmp.appendingPathComponent("models")
        try! FileManager.default.createDirectory(at: outParent, withIntermediateDirectories: true)
        var caught: Error?
        do {
            _ = try ModelImporter.run(ImportRequest(file: input, output: outParent.appendingPathComponent("out")))
            XCTFail("imported a hostile checkpoint", file: file, line: line)
        } catch { caught = error }
        let left = (try? FileManager.default.contentsOfDirectory(atPath: outParent.path)) ?? []
        XCTAssertEqual(left, [], "left behind: \(left)", file: file, line: line)
        return caught
    }

    func fixtureBytes(_ name: String) -> [UInt8] { [UInt8](try! Data(contentsOf: CheckpointFixtures.url(name))) }

    func testGlobalOutsideTheAllowListIsRefusedByName() {
        // pickle.dumps of a REDUCE of os.system("ls"), protocol 2.
        let evil: [UInt8] = [0x80, 0x02] + Array("cos\nsystem\n".utf8) + [0x71, 0x00, 0x58, 0x02, 0x00, 0x00, 0x00] + Array("ls".utf8)
            + [0x85, 0x52, 0x2E]
        let e = importError(evil, name: "evil.pkl")
        guard case let .forbiddenGlobal(_, name)? = e as? CheckpointError else { return XCTFail("\(String(describing: e))") }
        XCTAssertEqual(name, "os.system")
        XCTAssertTrue("\(e!)".contains("os.system"))
    }

    func testGlobalInsideAStorageBlobIsRefusedToo() {
        // A module global where the EG3D pickle names its first storage blob's class.
        var b = fixtureBytes("eg3d-nrr128.pkl")
        let needle = Array("FloatStorage".utf8)
        guard let i = b.firstRange(of: needle) else { return XCTFail("no FloatStorage in the pickle") }
        b.replaceSubrange(i, with: Array("FloatStorag_".utf8))
        let e = importError(b, name: "evil.pkl")
        XCTAssertTrue("\(e!)".contains("torch.FloatStorag_"), "\(e!)")
    }

    func testTruncatedPickle() {
        let b = fixtureBytes("eg3d-nrr128.pkl")
        let e = importError(Array(b[0..<(b.count / 2)]), name: "cut.pkl")
        guard case .malformedPickle? = e as? CheckpointError else { return XCTFail("\(String(describing: e))") }
        XCTAssertTrue("\(e!)".contains("truncated"), "\(e!)")
    }

    func testTruncatedLegacyFile() {
        let b = fixtureBytes("e4e-legacy.pt")
        let e = importError(Array(b[0..<(b.count - 100)]))
        XCTAssertTrue("\(e!)".contains("runs past the end"), "\(e!)")
    }

    func testZipMissingAStorage() {
        // Rename record best_model/data/7 (local and central headers) so the storage has no data.
        var b = fixtureBytes("e4e-zip.pt")
        let name = Array("best_model/data/7".utf8)
        var count = 0, from = 0
        while let r = b[from...].firstRange(of: name) {
            from = r.upperBound
            // Not a prefix of data/70…79.
            guard !(0x30...0x39).contains(b[r.upperBound]) else { continue }
            b.replaceSubrange(r, with: Array("best_model/dat_/7".utf8))
            count += 1
        }
        XCTAssertEqual(count, 2)
        let e = importError(b)
        XCTAssertTrue("\(e!)".contains("record 'best_model/data/7' of storage '7' is missing"), "\(e!)")
    }

    /// e4e-zip.pt with encoder.latlayer1.bias (16 values) recorded as shape [size].
    func latlayer1BiasRecorded(as size: UInt8) -> [UInt8]? {
        var b = fixtureBytes("e4e-zip.pt")
        guard let k = b.firstRange(of: Array("encoder.latlayer1.bias".utf8)),
              let s = b[k.upperBound...].firstRange(of: [0x51, 0x4B, 0x00, 0x4B, 0x10, 0x85]) else { return nil }
        b[s.lowerBound + 4] = size
        return b
    }

    func testWrongShapes() throws {
        let b = try XCTUnwrap(latlayer1BiasRecorded(as: 8))
        let e = importError(b)
        XCTAssertTrue("\(e!)".contains("latlayer1.bias: expected shape [16], found [8]"), "\(e!)")
    }

    func testViewPastItsStorage() throws {
        let b = try XCTUnwrap(latlayer1BiasRecorded(as: 32))
        let e = importError(b)
        XCTAssertTrue("\(e!)".contains("16-element storage"), "\(e!)")
    }

    func testNotACheckpoint() {
        let e = importError(Array("hello, world".utf8), name: "notes.txt")
        guard case .unknownFormat? = e as? CheckpointError else { return XCTFail("\(String(describing: e))") }
    }

    func testUnsupportedSuperResolutionIsNamed() throws {
        // The same snapshot, its rendering_kwargs naming the 2X super-resolution of the 128² layouts.
        var b = fixtureBytes("eg3d-nrr128.pkl")
        let from = Array("training.superresolution.SuperresolutionHybrid8XDC".utf8)
        let to = Array("training.superresolution.SuperresolutionHybrid2X\u{20}\u{20}".utf8)
        XCTAssertEqual(from.count, to.count)
        var n = 0
        while let r = b.firstRange(of: from) { b.replaceSubrange(r, with: to); n += 1 }
        XCTAssertGreaterThan(n, 0)
        let e = importError(b, name: "shapenet.pkl")
        XCTAssertTrue("\(e!)".contains("SuperresolutionHybrid2X"), "\(e!)")
        guard case .unsupportedModel? = e as? CheckpointError else { return XCTFail("\(String(describing: e))") }
    }

    func testExistingOutputIsNotOverwritten() throws {
        let tmp = CheckpointFixtures.temporaryFolder(self)
        let out = tmp.appendingPathComponent("taken")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        XCTAssertThrowsError(try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("e4e-zip.pt"), output: out)))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), [])
    }
}
