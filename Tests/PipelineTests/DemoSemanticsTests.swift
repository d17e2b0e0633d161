import Faces
import Foundation
import Logging
import Models
import Tensors
import XCTest
@testable import Pipeline

/// What a person sees in the demo's output, measured on the rendered pixels: on samples/turning-head.mp4 (a
/// real face turned in 3D and talking, made by samples/make_turning_sample.py) the cartoon head turns with the
/// tracked head and opens its mouth with the speaker; edits move what they name; styles differ; the back of the
/// head is hair. The measures read the fitted demo head's colours (white eyes, dark red mouth inside, hair).
final class DemoSemanticsTests: XCTestCase {
    static let clip = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("samples/turning-head.mp4")
    static let directions = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("directions/demo")
    nonisolated(unsafe) static var shared: (models: AvatarModels, track: LatentTrack)?
    nonisolated(unsafe) static var scratch: URL?
    let logger = Logger(label: "test")

    override class func tearDown() {
        if let s = scratch { try? FileManager.default.removeItem(at: s) }
    }

    /// The turning clip encoded once with the demo family (100 frames).
    func encoded() throws -> (models: AvatarModels, track: LatentTrack) {
        if let s = Self.shared { return s }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-semantics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        Self.scratch = dir
        let m = try AvatarModels.load(.init(), logger: logger)
        let (t, report) = try ClipEncoder().encode(Self.clip, models: m, to: dir.appendingPathComponent("turning.track"), logger: logger)
        XCTAssertEqual(report.facesFound, report.frames, "the face should be found in every frame")
        Self.shared = (m, t)
        return (m, t)
    }

    /// Renders `frames` of the clip and hands each rendered frame back.
    func frames(_ settings: RenderSettings, models: AvatarModels? = nil, frames: Range<Int>? = nil) throws -> [RenderedFrame] {
        let (m, t) = try encoded()
        var s = settings
        s.preset = "ultrafast"
        var r = AvatarRenderer(models: models ?? m, settings: s)
        var out: [RenderedFrame] = []
        r.onFrame = { out.append($0) }
        let video = Self.scratch!.appendingPathComponent("\(UUID().uuidString).mp4")
        _ = try r.render(t, source: Self.clip, output: video, segment: frames, logger: logger)
        try? FileManager.default.removeItem(at: video)
        return out
    }

    // MARK: measures on the avatar picture

    /// Pixels of the eyes' whites: bright and grey.
    static func eyeWhites(_ img: RGBImage) -> (count: Int, x: Double, y: Double) {
        var n = 0, sx = 0.0, sy = 0.0
        for y in 0..<img.height { for x in 0..<img.width {
            let p = 3 * (y * img.width + x)
            let r = Int(img.pixels[p]), g = Int(img.pixels[p + 1]), b = Int(img.pixels[p + 2])
            if min(r, g, b) > 200 && max(r, g, b) - min(r, g, b) < 30 { n += 1; sx += Double(x); sy += Double(y) }
        } }
        return (n, n > 0 ? sx / Double(n) : .nan, n > 0 ? sy / Double(n) : .nan)
    }

    /// The head's silhouette against the black background: centroid x and top row.
    static func silhouette(_ img: RGBImage) -> (x: Double, top: Double, width: Double) {
        var n = 0, sx = 0.0, top = img.height, minX = img.width, maxX = 0
        for y in 0..<img.height { for x in 0..<img.width {
            let p = 3 * (y * img.width + x)
            if max(img.pixels[p], img.pixels[p + 1], img.pixels[p + 2]) > 40 {
                n += 1; sx += Double(x); top = min(top, y); minX = min(minX, x); maxX = max(maxX, x)
            }
        } }
        return (sx / Double(max(n, 1)), Double(top), Double(max(1, maxX - minX)))
    }

    /// Pixels of the mouth's dark red inside, in the lower half of the picture.
    static func mouthInside(_ img: RGBImage) -> Int {
        var n = 0
        for y in (img.height / 2)..<img.height { for x in 0..<img.width {
            let p = 3 * (y * img.width + x)
            let r = Int(img.pixels[p]), g = Int(img.pixels[p + 1]), b = Int(img.pixels[p + 2])
            if r > 30 && r < 140 && g < 45 && b < 60 && r > g + 25 { n += 1 }
        } }
        return n
    }

    static func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for (x, y) in zip(a, b) { sab += (x - ma) * (y - mb); saa += (x - ma) * (x - ma); sbb += (y - mb) * (y - mb) }
        return sab / max((saa * sbb).squareRoot(), 1e-12)
    }

    /// Yaw and elevation of a tracked EG3D camera (its position on the sphere about the origin).
    static func angles(_ c: [Float]) -> (yaw: Double, elevation: Double) {
        let x = Double(c[3]), y = Double(c[7]), z = Double(c[11])
        return (atan2(x, z), atan2(y, (x * x + z * z).squareRoot()))
    }

    /// Inner-lip opening over mouth width from the 68 landmarks (x0, y0, x1, y1, …).
    static func mouthAspect(_ l: [Float]) -> Double {
        func d(_ a: Int, _ b: Int) -> Double { Double(hypotf(l[2 * a] - l[2 * b], l[2 * a + 1] - l[2 * b + 1])) }
        return (d(61, 67) + d(62, 66) + d(63, 65)) / 3 / max(d(60, 64), 1e-6)
    }

    // MARK: tests

    func testAvatarFollowsHeadTurnsAndTheMouth() throws {
        let rendered = try frames(RenderSettings())
        XCTAssertEqual(rendered.count, 100)
        var srcYaw: [Double] = [], srcElev: [Double] = [], srcMouth: [Double] = []
        var yaw: [Double] = [], elev: [Double] = [], mouth: [Double] = []
        for f in rendered {
            let a = Self.angles(f.raw.camera)
            let eyes = Self.eyeWhites(f.avatar), sil = Self.silhouette(f.avatar)
            XCTAssertGreaterThan(eyes.count, 20, "frame \(f.index): the avatar's eyes should be visible")
            srcYaw.append(a.yaw); srcElev.append(a.elevation); srcMouth.append(Self.mouthAspect(f.raw.landmarks))
            yaw.append((eyes.x - sil.x) / sil.width)
            elev.append((eyes.y - sil.top) / sil.width)
            mouth.append(Double(Self.mouthInside(f.avatar)))
        }
        let cy = Self.correlation(srcYaw, yaw), cp = Self.correlation(srcElev, elev), cm = Self.correlation(srcMouth, mouth)
        print(String(format: "avatar vs source: yaw r = %.3f, pitch r = %.3f, mouth r = %.3f", cy, cp, cm))
        XCTAssertGreaterThanOrEqual(cy, 0.9, "the avatar's eyes should move across its head as the source turns")
        XCTAssertGreaterThanOrEqual(cp, 0.9, "the avatar's eyes should move down its head as the camera rises")
        XCTAssertGreaterThanOrEqual(cm, 0.7, "the avatar's mouth should open with the speaker's")
    }

    func testDirectionsMoveWhatTheyName() throws {
        var s = RenderSettings()
        s.camera = .frontal
        s.directions = try DirectionLibrary(folder: Self.directions)
        func measure(_ name: String, _ value: Double) throws -> (mouth: Double, eyes: Double) {
            s.edits = [NamedEdit(name: name, value: EditValue(constant: value))]
            let f = try frames(s, frames: 0..<3)
            return (f.map { Double(Self.mouthInside($0.avatar)) }.reduce(0, +) / 3,
                    f.map { Double(Self.eyeWhites($0.avatar).count) }.reduce(0, +) / 3)
        }
        let open = try measure("mouth_open", 1.5), shut = try measure("mouth_open", -1.5)
        XCTAssertGreaterThan(open.mouth, shut.mouth + 100, "mouth_open = 1.5 should show more of the mouth's inside")
        let closed = try measure("blink", 1.5), wide = try measure("blink", -1)
        XCTAssertLessThan(closed.eyes, wide.eyes * 0.5, "blink = 1.5 should hide most of the eyes' whites")
    }

    func testEditOfTheWrongSizeIsRefusedBeforeEncoding() throws {
        let (m, _) = try encoded()
        let lib = try DirectionLibrary(folder: Self.directions.deletingLastPathComponent().appendingPathComponent("eg3d-ffhq512-preim3d"))
        XCTAssertThrowsError(try lib.check([NamedEdit(name: "Smiling", value: EditValue(constant: 1))],
                                           numWs: m.style.architecture.numWs, wDim: m.style.architecture.wDim)) { e in
            XCTAssertTrue("\(e)".contains("32 or 10×32"), "\(e)")
            XCTAssertTrue("\(e)".contains("7168"), "\(e)")
        }
    }

    func testEachStyleDiffersVisiblyFromTheSource() throws {
        var s = RenderSettings()
        s.camera = .frontal
        let source = try frames(s, frames: 0..<2)
        for style in DemoModelFamily.styles {
            let m = try AvatarModels.load(.init(style: style), logger: logger)
            let styled = try frames(s, models: m, frames: 0..<2)
            var diff = 0.0
            for (a, b) in zip(source, styled) {
                diff += zip(a.avatar.pixels, b.avatar.pixels).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(a.avatar.pixels.count)
            }
            diff /= Double(source.count)
            print(String(format: "style %@: mean |difference| from the source %.1f / 255", style, diff))
            XCTAssertGreaterThan(diff, 12, "\(style) should look clearly different from the source avatar")
        }
    }

    func testTheBackOfTheHeadIsHair() throws {
        var s = RenderSettings()
        s.camera = .fixed(yaw: Double.pi, pitch: 0)
        let back = try frames(s, frames: 0..<1)[0].avatar
        s.camera = .frontal
        let front = try frames(s, frames: 0..<1)[0].avatar
        XCTAssertGreaterThan(Self.eyeWhites(front).count, 50)
        XCTAssertEqual(Self.eyeWhites(back).count, 0, "no eyes seen from behind")
        XCTAssertEqual(Self.mouthInside(back), 0, "no mouth seen from behind")
        XCTAssertGreaterThan(Self.silhouette(back).width, 0.5 * Double(back.width), "the head is there from behind")
    }
}
