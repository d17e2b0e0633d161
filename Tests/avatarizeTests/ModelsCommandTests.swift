import Foundation
import XCTest

/// `avatarize models import`, `avatarize models`, `avatarize encoder` and negative option values, run as
/// a user runs them (the checkpoint fixtures of Tests/CheckpointsTests).
final class ModelsCommandTests: XCTestCase {
    var dir: URL!
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CheckpointsTests/Fixtures")

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-models-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func testImportListAndRunBothKinds() throws {
        let g = dir.appendingPathComponent("models/ffhq-64")
        var r = try runAvatarize(["models", "import", Self.fixtures.appendingPathComponent("eg3d-nrr64.pkl").path, "-o", g.path, "--role", "source"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("neural rendering 64"), r.stdout)
        let e = dir.appendingPathComponent("models/e4e")
        r = try runAvatarize(["models", "import", Self.fixtures.appendingPathComponent("e4e-legacy.pt").path, "--output", e.path])
        XCTAssertEqual(r.status, 0, r.stderr)

        r = try runAvatarize(["models", "--path", dir.appendingPathComponent("models").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("render 64² (resized to 128²) → image 512²"), r.stdout)
        XCTAssertTrue(r.stdout.contains("role: source-generator"), r.stdout)
        XCTAssertTrue(r.stdout.contains("layout: Encoder4Editing"), r.stdout)
        XCTAssertEqual(r.stdout.components(separatedBy: "weights sha256: ").count - 1, 2, r.stdout)
        XCTAssertTrue(r.stdout.contains("built-in demo models"), r.stdout)

        // The generator with a negative pitch (once refused as a missing value).
        let png = dir.appendingPathComponent("face.png")
        r = try runAvatarize(["generate", "--model", g.path, "--seed", "1", "--pitch", "-0.1", "--yaw", "-.2", "-o", png.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: png.path))

        // One encoder forward from the fixture's image; the reference outputs in the same file are compared.
        let out = dir.appendingPathComponent("enc.safetensors")
        r = try runAvatarize(["encoder", "--model", e.path, "--inputs", Self.fixtures.appendingPathComponent("e4e.io.safetensors").path,
                              "--output", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        for name in ["codes", "styles", "c_after_unit6", "c_after_unit20", "c_after_unit23"] {
            let line = r.stdout.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            let value = line.flatMap { Float($0.split(separator: "=").last!.trimmingCharacters(in: .whitespaces)) }
            XCTAssertNotNil(value, "\(name) in \(r.stdout)")
            XCTAssertLessThanOrEqual(value ?? 1, 1e-4, name)
        }
    }

    func testRefusedImportExitsNonZeroAndLeavesNothing() throws {
        let evil = dir.appendingPathComponent("evil.pkl")
        let bytes: [UInt8] = [0x80, 0x02] + Array("cos\nsystem\n".utf8) + [0x58, 0x02, 0x00, 0x00, 0x00] + Array("ls".utf8) + [0x85, 0x52, 0x2E]
        try Data(bytes).write(to: evil)
        let out = dir.appendingPathComponent("models/evil")
        let r = try runAvatarize(["models", "import", evil.path, "-o", out.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("'os.system'"), r.stderr)
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("models").path)) ?? [], [])
    }
}
