import Foundation
import XCTest
import Video

/// Runs the `avatarize` executable like a user: real files, exit codes, messages, nothing half-written.
final class CommandLineTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func testProbeSampleAsJSON() throws {
        let r = try runAvatarize(["probe", sampleClip.path, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let streams = try XCTUnwrap(obj?["streams"] as? [[String: Any]])
        XCTAssertEqual(streams.first { $0["kind"] as? String == "video" }?["frameCount"] as? Int, 100)
        XCTAssertNotNil(streams.first { $0["kind"] as? String == "audio" })
    }

    func testTranscodeSampleKeepsFramesRateAndAudio() throws {
        let out = dir.appendingPathComponent("out.mp4")
        let r = try runAvatarize(["transcode", sampleClip.path, out.path, "--preset", "ultrafast"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "", "nothing on stderr when not on a terminal")
        let info = try MediaInfo.probe(out)
        XCTAssertEqual(info.video?.frameCount, 100)
        XCTAssertEqual(try XCTUnwrap(info.video?.frameRate), 25, accuracy: 0.001)
        XCTAssertEqual(info.audio?.codec, "aac")
        XCTAssertEqual(try XCTUnwrap(info.audio?.duration), 4.0, accuracy: 0.05)
    }

    func testTranscodeRangeAndSize() throws {
        let out = dir.appendingPathComponent("cut.mp4")
        let r = try runAvatarize(["transcode", sampleClip.path, out.path, "--start", "1", "--duration", "2",
                                  "--size", "128x128", "--preset", "ultrafast"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let info = try MediaInfo.probe(out)
        XCTAssertEqual(info.video?.width, 128)
        XCTAssertEqual(info.video?.frameCount, 50)
        XCTAssertEqual(try XCTUnwrap(info.audio?.duration), 2.0, accuracy: 0.06)
    }

    func testBadInputsGiveOneMessageAndNoOutput() throws {
        let text = dir.appendingPathComponent("notes.mp4")
        try Data("not a video".utf8).write(to: text)
        let cases: [([String], String)] = [
            (["transcode", dir.appendingPathComponent("missing.mp4").path, dir.appendingPathComponent("o1.mp4").path], "no such file"),
            (["transcode", text.path, dir.appendingPathComponent("o2.mp4").path], "not a media file"),
            (["transcode", sampleClip.path, text.appendingPathComponent("o3.mp4").path], "is not a folder"),
            (["transcode", sampleClip.path, dir.appendingPathComponent("o4.mp4").path, "--start", "99"], "past the end"),
            (["transcode", sampleClip.path, dir.appendingPathComponent("o5.mp4").path, "--crf", "99"], "--crf"),
            (["probe", text.path], "not a media file"),
        ]
        for (args, expected) in cases {
            let r = try runAvatarize(args)
            XCTAssertNotEqual(r.status, 0, "\(args) should fail")
            XCTAssertTrue(r.stderr.contains(expected), "\(args): message was \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["notes.mp4"], "output left behind")
    }

    func testOutputFolderIsCreated() throws {
        // The README's examples write to out/…; a fresh checkout has no such folder.
        let out = dir.appendingPathComponent("out/nested/clip.mp4")
        let r = try runAvatarize(["transcode", sampleClip.path, out.path, "--duration", "0.2", "--preset", "ultrafast"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try MediaInfo.probe(out).video?.frameCount, 5)
    }

    func testOutputOverInputIsRefused() throws {
        let copy = dir.appendingPathComponent("in.mp4")
        try FileManager.default.copyItem(at: sampleClip, to: copy)
        let r = try runAvatarize(["transcode", copy.path, copy.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("overwrite the input"), r.stderr)
        XCTAssertEqual(try Data(contentsOf: copy), try Data(contentsOf: sampleClip))
    }

    func testRunOnTheSampleWithDemoModels() throws {
        var env = ProcessInfo.processInfo.environment
        env["AVATARIZE_CACHE"] = dir.appendingPathComponent("cache").path
        let out = dir.appendingPathComponent("avatar.mp4")
        let r = try runAvatarize(["run", sampleClip.path, "-o", out.path, "--duration", "0.6", "--layout", "side-by-side",
                                  "--preset", "ultrafast", "--keep-track", dir.appendingPathComponent("t.track").path], environment: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("demo models"), "the demo notice should be shown once: \(r.stderr)")
        XCTAssertTrue(r.stdout.contains("render (15 frames)"), r.stdout)
        let info = try MediaInfo.probe(out)
        XCTAssertEqual(info.video?.frameCount, 15)
        XCTAssertNotNil(info.audio)
        // The kept track renders again without encoding, in another style; a wrong source is refused.
        let again = dir.appendingPathComponent("again.mp4")
        let rr = try runAvatarize(["render", dir.appendingPathComponent("t.track").path, "--source", sampleClip.path,
                                   "--style", "poster", "--camera", "frontal", "-o", again.path, "--preset", "ultrafast"], environment: env)
        XCTAssertEqual(rr.status, 0, rr.stderr)
        let other = dir.appendingPathComponent("other.mp4")
        _ = try runAvatarize(["transcode", sampleClip.path, other.path, "--crf", "30", "--preset", "ultrafast"])
        let bad = try runAvatarize(["render", dir.appendingPathComponent("t.track").path, "--source", other.path,
                                    "-o", dir.appendingPathComponent("never.mp4").path], environment: env)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("was not encoded from"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("never.mp4").path))
        let missing = try runAvatarize(["run", dir.appendingPathComponent("nope.mp4").path, "-o", dir.appendingPathComponent("x.mp4").path], environment: env)
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("no such file"), missing.stderr)
    }

    func testHelpTeaches() throws {
        let r = try runAvatarize(["transcode", "--help"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("Example:"), r.stdout)
        XCTAssertTrue(r.stdout.contains("--duration"))
    }
}

/// The repository's sample clip.
let sampleClip = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("samples/talking-head.mp4")

/// The `avatarize` executable built beside this test bundle (same build folder, whatever the scratch path).
var avatarizeExecutable: URL {
    var dir = Bundle(for: CommandLineTests.self).bundleURL
    while dir.path != "/" {
        let candidate = dir.appendingPathComponent("avatarize")
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDir), !isDir.boolValue {
            return candidate
        }
        dir = dir.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: "avatarize")
}

struct RunResult { var status: Int32; var stdout: String; var stderr: String }

func runAvatarize(_ args: [String], environment: [String: String]? = nil) throws -> RunResult {
    let p = Process()
    p.executableURL = avatarizeExecutable
    p.arguments = args
    if let environment { p.environment = environment }
    // Files rather than pipes: a chatty child can never block on a full pipe.
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-run-\(UUID().uuidString)")
    let outURL = base.appendingPathExtension("out"), errURL = base.appendingPathExtension("err")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
    p.standardOutput = try FileHandle(forWritingTo: outURL)
    p.standardError = try FileHandle(forWritingTo: errURL)
    p.standardInput = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    return RunResult(status: p.terminationStatus, stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                     stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
}
