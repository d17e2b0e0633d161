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

    func testHostilePicklesEndInOneMessageAndAFailureExitWithinSeconds() throws {
        let osg = Array("ctraining.triplane\nOSGDecoder\n".utf8), easy = Array("cdnnlib.util\nEasyDict\n".utf8)
        // 37 bytes: an OSGDecoder whose BUILD state is itself (overflowed the stack).
        let selfState: [UInt8] = [0x80, 0x02] + osg + [0x29, 0x81, 0x32, 0x62, 0x2E]
        // An EasyDict with a None key built with itself 40 times (asked for 2^40 entries).
        let doubling: [UInt8] = [0x80, 0x02] + easy + [0x29, 0x81, 0x4E, 0x4E, 0x73] + Array(repeating: [0x32, 0x62], count: 40).flatMap { $0 } + [0x2E]
        // One 64 KiB string memoized, then _codecs.encode on it 24 000 times (1.7 GB before).
        var encode: [UInt8] = [0x80, 0x02, 0x5D, 0x28] + Array("c_codecs\nencode\n".utf8) + [0x71, 0x00]
        encode += [0x58, 0x00, 0x00, 0x01, 0x00] + [UInt8](repeating: 0x61, count: 1 << 16) + [0x71, 0x01]
        encode += [0x58, 0x06, 0x00, 0x00, 0x00] + Array("latin1".utf8) + [0x71, 0x02]
        for _ in 0..<24_000 { encode += [0x68, 0x00, 0x68, 0x01, 0x68, 0x02, 0x86, 0x52] }
        encode += [0x65, 0x2E]
        for (name, bytes, fragment) in [("self.pkl", selfState, "its own state"), ("doubling.pkl", doubling, "its own state"),
                                        ("encode.pkl", encode, "budget")] {
            let file = dir.appendingPathComponent(name)
            try Data(bytes).write(to: file)
            let start = Date()
            let r = try runAvatarize(["models", "import", file.path, "-o", dir.appendingPathComponent("models/\(name)").path])
            XCTAssertLessThan(Date().timeIntervalSince(start), 30, name)
            XCTAssertEqual(r.status, 1, "\(name): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("\(name): malformed pickle") && r.stderr.contains(fragment), "\(name): \(r.stderr)")
            XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("models").path)) ?? [], [], name)
        }
    }
}
