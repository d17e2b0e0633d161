import Foundation
import XCTest

/// Makes real media files for tests with the `ffmpeg` command, each test in its own temporary folder.
struct MediaFixtures {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-video-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }

    func url(_ name: String) -> URL { dir.appendingPathComponent(name) }

    /// Runs ffmpeg with the given arguments; fails the test when it fails.
    @discardableResult
    func ffmpeg(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try run("ffmpeg", ["-v", "error", "-y"] + args, file: file, line: line)
    }

    @discardableResult
    func run(_ tool: String, _ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        if p.terminationStatus != 0 {
            XCTFail("\(tool) \(args.joined(separator: " ")) failed: \(text)", file: file, line: line)
            throw CocoaError(.fileWriteUnknown)
        }
        return text
    }

    /// testsrc2 picture with a sine tone, `seconds` long, as MP4 (H.264 + AAC).
    func testClip(_ name: String = "clip.mp4", seconds: Double = 2, size: String = "160x120", rate: Int = 25,
                  extra: [String] = []) throws -> URL {
        let u = url(name)
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=\(size):rate=\(rate):duration=\(seconds)",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=\(seconds)",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"] + extra + [u.path])
        return u
    }

    /// Frame count and per-frame timestamps (seconds) as ffprobe reports them.
    func probeFrames(_ u: URL) throws -> [Double] {
        let out = try run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time",
                                      "-of", "csv=p=0", u.path])
        return out.split(separator: "\n").compactMap { line in
            line.split(separator: ",").first.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        }
    }

    /// Duration of the first stream of a kind ("v" or "a") in seconds.
    func streamDuration(_ u: URL, _ kind: String) throws -> Double? {
        let out = try run("ffprobe", ["-v", "error", "-select_streams", "\(kind):0", "-show_entries", "stream=duration",
                                      "-of", "csv=p=0", u.path])
        return Double(out.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Names in the folder, to check that nothing half-written was left behind.
    func listing() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
    }
}
