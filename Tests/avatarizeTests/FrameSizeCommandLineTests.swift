import Foundation
import XCTest
import Video

/// `avatarize faces` and `avatarize run` on the frame sizes of phone footage and other sizes that are not a
/// multiple of 16 pixels, under glibc's malloc checking (libc_malloc_debug: a guard byte after every block,
/// checked when it is freed), so that a write past a buffer aborts the command instead of passing
/// silently. Heap corruption was reported on these sizes (release builds aborting in the Haar detector);
/// swscale's vector code can write 8-byte words past tightly packed RGB rows, which the staging now absorbs.
final class FrameSizeCommandLineTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-sizes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    static let turningSample = sampleClip.deletingLastPathComponent().appendingPathComponent("turning-head.mp4")

    /// The turning-head sample letterboxed into w×h (4:2:0 when both sides are even, else 4:4:4).
    func clip(_ w: Int, _ h: Int, frames: Int = 2) throws -> URL {
        let s = min(w, h)
        let url = dir.appendingPathComponent("\(w)x\(h).mp4")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ffmpeg", "-v", "error", "-y", "-i", Self.turningSample.path, "-frames:v", "\(frames)", "-an",
                       "-vf", "scale=\(s):\(s),pad=\(w):\(h):\((w - s) / 2):\((h - s) / 2)", "-c:v", "libx264",
                       "-preset", "ultrafast", "-pix_fmt", w % 2 == 0 && h % 2 == 0 ? "yuv420p" : "yuv444p", url.path]
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "ffmpeg could not make \(w)x\(h)")
        return url
    }

    /// glibc's checking malloc for the child (Debian 12's glibc 2.36 keeps it in libc_malloc_debug.so.0).
    var checkedEnvironment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["LD_PRELOAD"] = "libc_malloc_debug.so.0"
        env["GLIBC_TUNABLES"] = "glibc.malloc.check=3"
        env["AVATARIZE_CACHE"] = dir.appendingPathComponent("cache").path
        return env
    }

    func testTheCheckingMallocCatchesAWriteOnePastABlock() throws {
        // The guard itself: a child that writes one byte past a malloc'd block is stopped by it.
        let source = dir.appendingPathComponent("overrun.c"), binary = dir.appendingPathComponent("overrun")
        try Data("#include <stdlib.h>\nint main(void){char*p=malloc(691200);p[691200]=1;free(p);return 0;}\n".utf8).write(to: source)
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cc.arguments = ["cc", "-O0", source.path, "-o", binary.path]
        try cc.run()
        cc.waitUntilExit()
        XCTAssertEqual(cc.terminationStatus, 0)
        let p = Process()
        p.executableURL = binary
        p.environment = checkedEnvironment
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal, "libc_malloc_debug did not catch the overrun")
    }

    func testFacesOnPhoneAndUnalignedSizes() throws {
        for (w, h) in [(360, 640), (1080, 1920), (524, 524), (333, 501)] {
            let input = try clip(w, h)
            let json = dir.appendingPathComponent("\(w)x\(h).json")
            let r = try runAvatarize(["faces", input.path, "--json", json.path], environment: checkedEnvironment)
            XCTAssertEqual(r.status, 0, "\(w)x\(h): \(r.stderr)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: json.path), "\(w)x\(h)")
        }
    }

    func testRunOnAPhonePortraitClip() throws {
        let input = try clip(360, 640, frames: 3)
        let out = dir.appendingPathComponent("avatar.mp4")
        let r = try runAvatarize(["run", input.path, "-o", out.path, "--layout", "paste-back", "--preset", "ultrafast"],
                                 environment: checkedEnvironment)
        XCTAssertEqual(r.status, 0, r.stderr)
        let info = try MediaInfo.probe(out)
        XCTAssertEqual(info.video?.frameCount, 3)
        XCTAssertEqual(info.video?.width, 360)
        XCTAssertEqual(info.video?.height, 640)
    }
}
