import Faces
import Foundation
import Logging
import Models
import Pipeline
import Video
import TestSupport
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
        let recorder = ClipReportRecorder(numWs: models.styleArchitecture.numWs, settings: settings,
                                          precision: models.precision.rawValue, pictureSize: 64)
        var frames: [RenderedFrame] = []
        let output = dir.appendingPathComponent("clip.mp4")
        // The identity figure as `run --report` attaches it (nil when dlib's models are not installed).
        let identity = try? IdentityFigure(paths: FaceModelPaths())
        let run = try runAvatar(input: Self.sample, output: output, models: models, encoder: encoder, settings: settings,
                                identity: identity, logger: logger,
                                onFrame: { f in frames.append(f); try recorder.observe(f) }, observerNeedsSource: recorder.needsSource)
        let report = try recorder.report(input: Self.sample, output: output, encode: run.encode, render: run.render, seconds: run.seconds,
                                         identity: identity.map(ClipReport.Identity.init))

        XCTAssertEqual(report.frames, 20)
        XCTAssertEqual(report.frames, run.render.frames)
        XCTAssertEqual(report.settings.first { $0.name == "precision" }?.value, models.precision.rawValue, "the report says what arithmetic made the video")
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

        // The identity figure of this run, in numbers: the demo's cartoon head is not a face to dlib's detector.
        if let identity {
            XCTAssertEqual(report.identity?.summary, identity.summary)
            XCTAssertEqual(report.identity?.outcomes.count, report.frames)
            XCTAssertTrue(html.contains("data-identity=\"compared\">\(identity.summary.compared) of 20 frames<"), "the identity section's count")
            XCTAssertTrue(html.contains("data-identity=\"no plausible face on the avatar\">\(identity.summary.avatarWithoutFace) frames<"))
        }

        // Opened from disk in a real browser: it renders every section, and the console stays silent.
        let opened = try ChromiumConsole.load(page)
        XCTAssertEqual(opened.console, [], "the report must open without console messages")
        XCTAssertEqual(opened.dom.components(separatedBy: "<h2>").count - 1, html.components(separatedBy: "<h2>").count - 1)
        XCTAssertEqual(opened.dom.components(separatedBy: "<img ").count - 1, 24)
        XCTAssertTrue(opened.dom.contains("data-series=\"camera yaw\""))
    }

    /// The identity section shows the figure's numbers and draws the descriptor distance of every compared frame
    /// where the axis says. The outcomes are given (IdentityFigureTests measures real faces); the section must
    /// show what they add up to: compared frames, a frame without a plausible face on the avatar, one without a
    /// source face, and distances either side of dlib's 0.6.
    func testIdentityFigureIsDrawnWithItsNumbers() throws {
        let outcomes: [IdentityFigure.FrameOutcome] = [
            .compared(similarity: 0.95, distance: 0.31), .compared(similarity: 0.91, distance: 0.42), .noAvatarFace,
            .compared(similarity: 0.70, distance: 0.66), .noSourceFace, .compared(similarity: 0.96, distance: 0.25),
        ]
        let identity = ClipReport.Identity(outcomes: outcomes)
        let s = identity.summary
        XCTAssertEqual([s.frames, s.compared, s.avatarWithoutFace, s.sourceWithoutFace], [6, 4, 1, 1])
        XCTAssertEqual(try XCTUnwrap(s.meanSimilarity), (0.95 + 0.91 + 0.70 + 0.96) / 4, accuracy: 1e-12)
        XCTAssertEqual(s.similarityP10, 0.70, "the lowest of four compared frames")
        XCTAssertEqual(s.shareSamePerson, 0.75, "three of the four distances are under 0.6")
        let times = (0..<6).map { Double($0) / 25 }
        let report = ClipReport(title: "identity.mp4", input: nil, output: "/out/identity.mp4", created: Date(), frames: 6, width: 256,
                                height: 256, settings: [], times: times, pose: .init(), jitter: [], faces: .init(), stages: [],
                                totalSeconds: 1, moments: [], edits: [], identity: identity, notes: [])
        let html = ReportPage.html(report)
        XCTAssertTrue(html.contains("data-identity=\"compared\">4 of 6 frames<"))
        XCTAssertTrue(html.contains(">mean 0.880, 10th percentile 0.700<"))
        XCTAssertTrue(html.contains(">" + htmlEscaped("mean 0.410; under 0.6 (dlib's same-person threshold) in 75% of compared frames") + "<"))
        XCTAssertTrue(html.contains("data-identity=\"no plausible face on the avatar\">1 frames<"))
        XCTAssertTrue(html.contains("data-identity=\"no face in the source\">1 frames (filled from neighbours)<"))
        var chart = LineChart(title: "", xLabel: "", yLabel: "", xs: times, series: [.init(name: "distance", color: "", values: identity.distances)])
        chart.guides = [(0.6, "")]
        let drawn = try ChartTests.points(html, series: "distance")
        let compared = [(0, 0.31), (1, 0.42), (3, 0.66), (5, 0.25)]
        XCTAssertEqual(drawn.count, compared.count, "frames that were not compared are left out")
        for ((px, py), (k, d)) in zip(drawn, compared) {
            XCTAssertEqual(chart.xAxis.value(atPixel: px), times[k], accuracy: 0.001)
            XCTAssertEqual(chart.yAxis.value(atPixel: py), d, accuracy: 0.002)
        }
        XCTAssertTrue(html.contains("data-guide=\"same person below 0.6\""))
    }

    func testReportLivesBesideItsVideo() {
        XCTAssertEqual(ReportLocation.forOutput("/out/clip.mp4").path, "/out/clip.report.html")
        XCTAssertEqual(ReportLocation.forOutput("/out/a.b.mkv").path, "/out/a.b.report.html")
    }
}
