import Foundation
import XCTest
@testable import Faces

/// The tracker on the real talking-head clips in shared/media (skipped when they, or the ffmpeg
/// command used here to decode them without depending on the Video module, are absent).
final class TrackerClipTests: XCTestCase {
    static func mediaFile(_ name: String) -> String? {
        // Repository root is three levels above this file; shared/ sits beside the repository.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [root.deletingLastPathComponent().appendingPathComponent("shared/media/\(name)").path,
                          "/work/shared/media/\(name)"]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Decodes the first `frames` frames as RGB24 with the ffmpeg command.
    static func decode(_ path: String, frames: Int, width: Int, height: Int) throws -> [RGBImage] {
        let ffmpeg = ["/usr/bin/ffmpeg", "/usr/local/bin/ffmpeg"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let ffmpeg else { throw XCTSkip("ffmpeg command not installed") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ffmpeg)
        p.arguments = ["-v", "error", "-i", path, "-frames:v", "\(frames)", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let bytes = [UInt8](data), n = width * height * 3
        return stride(from: 0, to: bytes.count - n + 1, by: n).map { RGBImage(width: width, height: height, pixels: Array(bytes[$0..<($0 + n)])) }
    }

    func testTrackingAndSmoothingOnTheSquareClip() throws {
        guard let path = Self.mediaFile("talking-square-512.mp4") else { throw XCTSkip("shared/media not present") }
        try Fixtures.requireModel(Fixtures.predictorPath, package: "libdlib-data")
        let tracker = try FaceTracker(paths: FaceModelPaths(directory: nil, environment: [:]))
        var images = try Self.decode(path, frames: 75, width: 512, height: 512)
        XCTAssertEqual(images.count, 75)
        // Frames 40–44 go black (a fade or a covered lens): no face, no crash; the track picks up after.
        for i in 40...44 { images[i] = RGBImage(width: 512, height: 512) }
        let measured = images.enumerated().map { tracker.process($1, index: $0) }
        XCTAssertEqual((40...44).filter { measured[$0] == nil }.count, 5, "black frames must not yield a face")
        XCTAssertNotNil(measured[45])
        let stats = tracker.statistics
        print("tracker on \(images.count) frames: \(stats)")
        XCTAssertEqual(measured.compactMap { $0 }.count, 70)
        XCTAssertGreaterThan(stats.trackedFrames, 50, "most frames should be tracked, not detected")
        let frames = try FaceTrackSmoothing().apply(measured)
        XCTAssertEqual(frames.filter { $0.isFilled }.map { $0.index }, Array(40...44))
        let raw = frames.map { $0.rawQuad.center.x } + frames.map { $0.rawQuad.center.y }
        let smooth = frames.map { $0.quad.center.x } + frames.map { $0.quad.center.y }
        let rawSide = frames.map { $0.rawQuad.x.x }, side = frames.map { $0.quad.x.x }
        print("quad jitter centre \(SmoothingTests.jitter(raw)) → \(SmoothingTests.jitter(smooth)), side \(SmoothingTests.jitter(rawSide)) → \(SmoothingTests.jitter(side))")
        XCTAssertLessThan(SmoothingTests.jitter(smooth), 0.7 * SmoothingTests.jitter(raw))
        XCTAssertLessThan(SmoothingTests.jitter(side), 0.5 * SmoothingTests.jitter(rawSide))
        // A talking head into the camera: roughly frontal.
        let yaws = frames.map { $0.pose.yaw }
        XCTAssertLessThan(yaws.map(abs).max()!, 0.6)
    }
}
