import Faces
import Foundation
import Logging
import Models
import Pipeline
import Video
import XCTest
@testable import Reports

/// A report gathered from a real render of the sample clip with the demo models: its numbers are the
/// render's numbers, and the page holds them.
final class ClipReportTests: XCTestCase {
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("samples/talking-head.mp4")
    let logger = Logger(label: "test")
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        setenv("AVATARIZE_CACHE", FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-demo-cache-\(ProcessInfo.processInfo.processIdentifier)").path, 1)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func testReportOfARealRunMatchesTheRender() throws {
        let models = try AvatarModels.load(.init(), logger: logger)
        var settings = RenderSettings()
        settings.preset = "ultrafast"
        settings.camera = .orbit(seconds: nil)
        settings.geometry = EditValue(parsing: "0:0,0.4s:1")
        var encoder = ClipEncoder()
        encoder.duration = 0.8
        let recorder = ClipReportRecorder(numWs: models.style.architecture.numWs, settings: settings, pictureSize: 64)
        var frames: [RenderedFrame] = []
        let output = dir.appendingPathComponent("clip.mp4")
        let run = try runAvatar(input: Self.sample, output: output, models: models, encoder: encoder, settings: settings, logger: logger,
                                onFrame: { f in frames.append(f); try recorder.observe(f) }, observerNeedsSource: recorder.needsSource)
        let report = try recorder.report(input: Self.sample, output: output, encode: run.encode, render: run.render, seconds: run.seconds)

        XCTAssertEqual(report.frames, 20)
        XCTAssertEqual(report.frames, run.render.frames)
        XCTAssertEqual(report.times, frames.map(\.seconds))
        XCTAssertEqual(report.faces.foundCount, run.encode.facesFound)
        // The camera actually used: one orbit over the clip, yaw = 0.45 sin(2πt / clip length) rad, so frontal at the
        // start and swinging to both limits; the smoothed head pose does not swing like that.
        XCTAssertEqual(report.pose.cameraYaw, frames.map { FrameGeometry.yawPitch(camera: $0.camera).yaw })
        XCTAssertEqual(report.pose.cameraYaw.first!, 0, accuracy: 0.01)
        XCTAssertEqual(report.pose.cameraYaw.max()!, CameraMode.yawLimit, accuracy: 0.02)
        XCTAssertEqual(report.pose.cameraYaw.min()!, -CameraMode.yawLimit, accuracy: 0.02)
        XCTAssertEqual(report.pose.smoothedYaw, frames.map { FrameGeometry.yawPitch(camera: $0.smoothed.camera).yaw })
        // Jitter per layer group, over the whole code, adds up to what the smoother reports for the whole code
        // only when there is one group; with several, each group's jitter is at most the whole's.
        for g in report.jitter {
            XCTAssertLessThanOrEqual(g.before, run.render.smoothing.codeJitterBefore + 1e-6)
            XCTAssertLessThanOrEqual(g.after, g.before + 1e-6, "smoothing should not add jitter to \(g.name)")
        }
        let squares = report.jitter.map { $0.before * $0.before }.reduce(0, +)
        XCTAssertGreaterThan(squares, 0)
        // Eight moments spread over the clip from its first frame, each with its three pictures.
        XCTAssertEqual(report.moments.count, 8)
        XCTAssertEqual(report.moments.first?.index, 0)
        XCTAssertEqual(report.moments.last?.index, 18, "candidates at a stride of 2 over 20 frames end at 18")
        for m in report.moments {
            XCTAssertTrue(m.avatar.hasPrefix("data:image/png;base64,"))
            XCTAssertNotNil(m.source); XCTAssertNotNil(m.crop)
        }
        // The geometry curve is the renderer's keyframe interpolation.
        let alpha = try XCTUnwrap(report.edits.first)
        XCTAssertEqual(alpha.values.first!, 0, accuracy: 1e-9)
        XCTAssertEqual(alpha.values[5], 0.5, accuracy: 0.02)
        XCTAssertEqual(alpha.values.last!, 1, accuracy: 1e-9)
        XCTAssertEqual(Set(report.stages.map(\.pass)), ["encode", "render"])

        // The page: self-contained, and its pose chart plots the report's camera yaw in degrees.
        let page = dir.appendingPathComponent("clip.report.html")
        try ReportPage.write(report, to: page)
        let html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertFalse(html.contains("src=\"http") || html.contains("href=\"http") || html.contains("<script"))
        let xs = report.times
        let chart = LineChart(title: "Yaw", xLabel: "seconds", yLabel: "degrees", xs: xs, series: [
            .init(name: "yaw tracked", color: "", values: report.pose.rawYaw.map { $0 * 180 / .pi }),
            .init(name: "yaw smoothed", color: "", values: report.pose.smoothedYaw.map { $0 * 180 / .pi }),
            .init(name: "camera yaw", color: "", values: report.pose.cameraYaw.map { $0 * 180 / .pi }),
        ])
        let drawn = try ChartTests.points(html, series: "camera yaw")
        XCTAssertEqual(drawn.count, report.frames)
        for (k, (_, py)) in drawn.enumerated() {
            XCTAssertEqual(chart.yAxis.value(atPixel: py), report.pose.cameraYaw[k] * 180 / .pi, accuracy: 0.05)
        }
        XCTAssertEqual(html.components(separatedBy: "<img ").count - 1, 24, "8 moments × source, crop, avatar")
        XCTAssertFalse(FileManager.default.fileExists(atPath: temporarySibling(of: page).path))
    }

    func testReportLivesBesideItsVideo() {
        XCTAssertEqual(ReportLocation.forOutput("/out/clip.mp4").path, "/out/clip.report.html")
        XCTAssertEqual(ReportLocation.forOutput("/out/a.b.mkv").path, "/out/a.b.report.html")
    }
}
