import Faces
import Foundation
import Logging
import Models
import Video
import XCTest
@testable import Pipeline

/// The frame sizes users bring, not only the project's own 256² and 1280×720: every clip is the turning-head
/// sample letterboxed into a frame of that size (H.264 4:2:0 where both sides are even, 4:4:4 or FFV1
/// where one is odd, 10-bit for a few), decoded, tracked, encoded and pasted back at full size. swscale
/// can write past tightly packed RGB rows on widths that are not a multiple of 16, and heap corruption was
/// reported on 360×640, 520², 1080×1920 …; this sweep (and scripts/sanitize.sh running it under ASan) is the
/// guard against that class of bug.
final class FrameSizeSweepTests: XCTestCase {
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("samples/turning-head.mp4")
    static let cache = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-sweep-cache-\(ProcessInfo.processInfo.processIdentifier)")
    nonisolated(unsafe) static var sharedModels: AvatarModels?
    let logger = Logger(label: "sweep")
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        setenv("AVATARIZE_CACHE", Self.cache.path, 1)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func models() throws -> AvatarModels {
        if let m = Self.sharedModels { return m }
        let m = try AvatarModels.load(.init(), logger: logger)
        Self.sharedModels = m
        return m
    }

    /// A frame W×H holding the sample scaled to `face`² at (x, y); `frames` frames.
    struct Frame: CustomStringConvertible {
        var width: Int, height: Int, face: Int, x: Int, y: Int
        var format = "yuv420p"
        var description: String { "\(width)x\(height) (\(format), sample \(face)² at \(x),\(y))" }

        /// Centred, as large as the frame allows.
        static func centred(_ w: Int, _ h: Int, format: String? = nil) -> Frame {
            let s = min(w, h)
            let even = w % 2 == 0 && h % 2 == 0
            return Frame(width: w, height: h, face: s, x: (w - s) / 2, y: (h - s) / 2, format: format ?? (even ? "yuv420p" : "yuv444p"))
        }
    }

    struct ClipError: Error, CustomStringConvertible { var message: String; var description: String { message } }

    func makeClip(_ f: Frame, frames: Int) throws -> URL {
        let name = "\(f.width)x\(f.height)-\(f.face)-\(f.x)-\(f.y)-\(f.format)"
        let url = dir.appendingPathComponent(name + (f.format == "ffv1" ? ".mkv" : ".mp4"))
        var args = ["-v", "error", "-y", "-i", Self.sample.path, "-frames:v", "\(frames)", "-an",
                    "-vf", "scale=\(f.face):\(f.face),pad=\(f.width):\(f.height):\(f.x):\(f.y)"]
        switch f.format {
        case "ffv1": args += ["-c:v", "ffv1", "-pix_fmt", "yuv444p"]
        default: args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", f.format]
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ffmpeg"] + args + [url.path]
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw ClipError(message: "ffmpeg could not make \(f)") }
        return url
    }

    /// Decode → faces → encoder → paste-back at full size → H.264: every frame comes out, the face is
    /// found where it is large enough, and the output has the frame's (even) size.
    func runWholePipeline(_ f: Frame, frames: Int = 2, expectFace: Bool = true) throws {
        let clip = try makeClip(f, frames: frames)
        let enc = ClipEncoder()
        let (track, report) = try enc.encode(clip, models: try models(), to: dir.appendingPathComponent("t.track"), logger: logger)
        XCTAssertEqual(report.frames, frames, "\(f)")
        if expectFace { XCTAssertEqual(report.facesFound, frames, "the face should be found in every frame of \(f)") }
        var settings = RenderSettings()
        settings.layout = .pasteBack
        settings.preset = "ultrafast"
        let out = dir.appendingPathComponent("out-\(f.width)x\(f.height).mp4")
        _ = try AvatarRenderer(models: try models(), settings: settings).render(track, source: clip, output: out, logger: logger)
        let info = try MediaInfo.probe(out)
        XCTAssertEqual(info.video?.frameCount, frames, "\(f)")
        XCTAssertEqual(info.video?.width, f.width & ~1, "\(f)")
        XCTAssertEqual(info.video?.height, f.height & ~1, "\(f)")
    }

    /// Decode → track → aligned crop → paste-back at full size → H.264, without the networks (whose input is
    /// always a 256² crop): the size-dependent steps only, with one tracker for every clip.
    func decodeTrackAndPasteBack(_ f: Frame, frames: Int = 2, tracker: FaceTracker, expectFace: Bool) throws {
        let clip = try makeClip(f, frames: frames)
        let reader = try VideoReader(url: clip)
        let out = dir.appendingPathComponent("paste-\(f.width)x\(f.height).mp4")
        var options = VideoWriter.Options()
        options.preset = "ultrafast"
        let writer = try VideoWriter(url: out, width: f.width, height: f.height, options: options)
        tracker.reset()
        var count = 0, found = 0
        while let frame = try reader.nextFrame() {
            XCTAssertEqual(frame.rgb.count, f.width * f.height * 3, "\(f)")
            let image = RGBImage(width: frame.width, height: frame.height, pixels: frame.rgb)
            var composed = image
            if let face = tracker.process(image, index: count), !face.isFilled {
                found += 1
                // The crop stands in for the avatar: pasting it back must stay inside the frame.
                let crop = AlignedCrop.crop(image, transform: face.quad.transform, size: 256)
                composed = PasteBack().composite(frame: image, rendered: crop, quad: face.quad, landmarks: face.landmarks)
            }
            var written = frame
            written.rgb = composed.pixels
            try writer.write(written)
            count += 1
        }
        try writer.finish()
        XCTAssertEqual(count, frames, "\(f)")
        if expectFace { XCTAssertEqual(found, frames, "the face should be found in every frame of \(f)") }
        let info = try MediaInfo.probe(out)
        XCTAssertEqual(info.video?.frameCount, frames, "\(f)")
        XCTAssertEqual(info.video?.width, f.width & ~1, "\(f)")
    }

    /// The whole pipeline, networks included, on the sizes of the original report and the awkward formats.
    func testWholePipelineOnPhonePortraitOddTenBitAnd4K() throws {
        try runWholePipeline(.centred(360, 640))
        try runWholePipeline(.centred(1080, 1920))
        try runWholePipeline(.centred(333, 501))
        try runWholePipeline(.centred(500, 360, format: "yuv420p10le"))
        try runWholePipeline(.centred(3840, 2160), frames: 1)
    }

    func testSquaresPortraitBordersOddSizesAndTinyFaces() throws {
        let tracker = try FaceTracker(paths: FaceModelPaths())
        var frames: [Frame] = [96, 128, 200, 520, 524, 600, 700, 844, 1024].map { Frame.centred($0, $0) }
        frames += [.centred(720, 1280), .centred(641, 479), .centred(639, 481, format: "ffv1"), .centred(1279, 719, format: "ffv1"),
                   .centred(97, 131), .centred(383, 255, format: "yuv444p10le")]
        // A face touching each border and each corner.
        let (w, h, side) = (640, 480, 300)
        for (x, y) in [(0, 90), (w - side, 90), (170, 0), (170, h - side), (0, 0), (w - side, h - side)] {
            frames.append(Frame(width: w, height: h, face: side, x: x, y: y))
        }
        // A small face (about 90 px) in a full HD frame, off centre.
        frames.append(Frame(width: 1920, height: 1080, face: 200, x: 1500, y: 100))
        for f in frames {
            try decodeTrackAndPasteBack(f, tracker: tracker, expectFace: f.face >= 128)
        }
    }

    /// Every residue of the width and of the height modulo 64 (the widest vector paths: 16 pixels × 4
    /// bytes) decodes to exactly width × height × 3 bytes; every eighth is tracked too (the debug build's
    /// detector is slow, and the sizes above already track). Small frames, so this stays quick.
    func testEveryWidthAndHeightResidueModulo64Decodes() throws {
        let tracker = try FaceTracker(paths: FaceModelPaths())
        for r in 0..<64 {
            let w = 128 + r, h = 96 + (r * 37) % 64
            let f = Frame.centred(w, h)
            let clip = try makeClip(f, frames: 2)
            let reader = try VideoReader(url: clip)
            var frames = 0
            tracker.reset()
            while let frame = try reader.nextFrame() {
                XCTAssertEqual(frame.rgb.count, w * h * 3, "\(f)")
                let image = RGBImage(width: frame.width, height: frame.height, pixels: frame.rgb)
                if r % 8 == 0 { _ = tracker.process(image, index: frames) }
                frames += 1
            }
            XCTAssertEqual(frames, 2, "\(f)")
        }
    }
}
