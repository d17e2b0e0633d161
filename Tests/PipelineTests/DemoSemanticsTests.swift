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
/// head is hair. Pose is read off the pixels by matching renders of the same head from known cameras; the mouth
/// by the darkness of its region on a frontal picture of each frame's code.
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
        // A frame range renders as a lossless segment (FFV1), which needs a Matroska file.
        let video = Self.scratch!.appendingPathComponent("\(UUID().uuidString).\(frames == nil ? "mp4" : "mkv")")
        _ = try r.render(t, source: Self.clip, output: video, segment: frames, logger: logger)
        try? FileManager.default.removeItem(at: video)
        return out
    }

    // MARK: measures on the avatar picture




    static func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for (x, y) in zip(a, b) { sab += (x - ma) * (y - mb); saa += (x - ma) * (x - ma); sbb += (y - mb) * (y - mb) }
        return sab / max((saa * sbb).squareRoot(), 1e-12)
    }


    /// Inner-lip opening over mouth width from the 68 landmarks (x0, y0, x1, y1, …).
    static func mouthAspect(_ l: [Float]) -> Double {
        func d(_ a: Int, _ b: Int) -> Double { Double(hypotf(l[2 * a] - l[2 * b], l[2 * a + 1] - l[2 * b + 1])) }
        return (d(61, 67) + d(62, 66) + d(63, 65)) / 3 / max(d(60, 64), 1e-6)
    }

    // MARK: tests

    /// Darkness of the mouth's region (the lower middle of a frontal picture), 0…255.
    static func mouthDarkness(_ img: RGBImage) -> Double {
        var sum = 0.0, n = 0.0
        for y in (img.height * 41 / 64)..<(img.height * 58 / 64) { for x in (img.width * 22 / 64)..<(img.width * 42 / 64) {
            let p = 3 * (y * img.width + x)
            sum += 255 - (Double(img.pixels[p]) + Double(img.pixels[p + 1]) + Double(img.pixels[p + 2])) / 3; n += 1
        } }
        return sum / n
    }

    /// Grey levels on a coarse grid (every 4th pixel each way): enough to tell poses apart, and cheap in
    /// a debug build, where the test compares every frame with every reference.
    static func thumbnail(_ img: RGBImage) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity((img.width / 4) * (img.height / 4))
        img.pixels.withUnsafeBufferPointer { p in
            for y in stride(from: 0, to: img.height, by: 4) {
                for x in stride(from: 0, to: img.width, by: 4) {
                    let i = 3 * (y * img.width + x)
                    out.append(Double(p[i]) + Double(p[i + 1]) + Double(p[i + 2]))
                }
            }
        }
        return out
    }

    static func distance(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
            for i in 0..<min(pa.count, pb.count) { let d = pa[i] - pb[i]; s += d * d }
        } }
        return s
    }

    func testAvatarFollowsHeadTurnsAndTheMouth() throws {
        let (m, _) = try encoded()
        let rendered = try frames(RenderSettings())
        XCTAssertEqual(rendered.count, 100)
        // The avatar's pose, read off its pixels: the nearest of renders of the same head from known cameras.
        let defaults = m.styleBundle.manifest.camera
        let style = try m.generators().style
        let head = Tensor(shape: [m.styleArchitecture.numWs, m.styleArchitecture.wDim], data: rendered[0].smoothed.code)
        var references: [(yaw: Double, pitch: Double, image: [Double])] = []
        for yaw in stride(from: -0.45, through: 0.4501, by: 0.075) {
            for pitch in stride(from: -0.35, through: 0.3501, by: 0.0875) {
                let out = style.synthesize(ws: head, camera: defaults.camera(yaw: yaw, pitch: pitch).vector)
                references.append((yaw, pitch, Self.thumbnail(rgbImage(out.image))))
            }
        }
        var srcYaw: [Double] = [], srcPitch: [Double] = [], srcMouth: [Double] = []
        var yaw: [Double] = [], pitch: [Double] = [], mouth: [Double] = []
        for f in rendered {
            let (y, p) = AvatarRenderer.yawPitch(f.raw.camera)
            let avatar = Self.thumbnail(f.avatar)
            let best = references.map { ($0, Self.distance($0.image, avatar)) }.min { $0.1 < $1.1 }!.0
            srcYaw.append(y); srcPitch.append(p); yaw.append(best.yaw); pitch.append(best.pitch)
            if f.index % 2 == 0 {
                // The mouth, on a frontal picture of the frame's code (pose kept out of the measure).
                let frontal = style.synthesize(ws: Tensor(shape: head.shape, data: f.smoothed.code), camera: defaults.frontal.vector)
                srcMouth.append(Self.mouthAspect(f.raw.landmarks))
                mouth.append(Self.mouthDarkness(rgbImage(frontal.image)))
            }
        }
        let cy = Self.correlation(srcYaw, yaw), cp = Self.correlation(srcPitch, pitch), cm = Self.correlation(srcMouth, mouth)
        print(String(format: "avatar vs source: yaw r = %.3f, pitch r = %.3f, mouth r = %.3f", cy, cp, cm))
        XCTAssertGreaterThanOrEqual(cy, 0.9, "the avatar should turn with the source's head")
        XCTAssertGreaterThanOrEqual(cp, 0.9, "the avatar should nod with the source's head")
        // This clip's mouth is a dark bar painted over a photograph; the demo-v6 encoder is fitted on real mouths only
        // (RealSpeakerSemanticsTests is the measure) and reads the bar at 0.709 here. Kept as a floor with margin.
        XCTAssertGreaterThanOrEqual(cm, 0.6, "the avatar's mouth should open with the speaker's")
    }

    func testDirectionsMoveWhatTheyName() throws {
        var s = RenderSettings()
        s.camera = .frontal
        s.directions = try DirectionLibrary(folder: Self.directions)
        func darkness(_ value: Double) throws -> Double {
            s.edits = [NamedEdit(name: "mouth_open", value: EditValue(constant: value))]
            let f = try frames(s, frames: 0..<2)
            return f.map { Self.mouthDarkness($0.avatar) }.reduce(0, +) / Double(f.count)
        }
        let open = try darkness(1.5), shut = try darkness(-1.5)
        print(String(format: "mouth region darkness: mouth_open = 1.5 → %.1f, −1.5 → %.1f", open, shut))
        XCTAssertGreaterThan(open, shut + 4, "mouth_open = 1.5 should darken the mouth (its inside shows)")
    }

    func testEditOfTheWrongSizeIsRefusedBeforeEncoding() throws {
        let (m, _) = try encoded()
        let lib = try DirectionLibrary(folder: Self.directions.deletingLastPathComponent().appendingPathComponent("eg3d-ffhq512-preim3d"))
        XCTAssertThrowsError(try lib.check([NamedEdit(name: "Smiling", value: EditValue(constant: 1))],
                                           numWs: m.styleArchitecture.numWs, wDim: m.styleArchitecture.wDim)) { e in
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

    /// The hair's colour: a few pixels below the top of the head, in the middle (the crown is hair from any side).
    static func crownColour(_ img: RGBImage) -> (Double, Double, Double) {
        let x = img.width / 2
        var top = 0
        while top < img.height - 1 {
            let i = 3 * (top * img.width + x)
            if max(img.pixels[i], img.pixels[i + 1], img.pixels[i + 2]) > 40 { break }
            top += 1
        }
        let i = 3 * (min(top + img.height / 32, img.height - 1) * img.width + x)
        return (Double(img.pixels[i]), Double(img.pixels[i + 1]), Double(img.pixels[i + 2]))
    }

    /// Share of the head's pixels (not the black background) whose colour is near `hair`.
    static func hairShare(_ img: RGBImage, hair: (Double, Double, Double)) -> Double {
        var head = 0, near = 0
        img.pixels.withUnsafeBufferPointer { p in
            for i in stride(from: 0, to: p.count, by: 3) {
                let r = Double(p[i]), g = Double(p[i + 1]), b = Double(p[i + 2])
                guard max(r, g, b) > 40 else { continue }
                head += 1
                if abs(r - hair.0) + abs(g - hair.1) + abs(b - hair.2) < 75 { near += 1 }
            }
        }
        return Double(near) / Double(max(head, 1))
    }

    func testTheBackOfTheHeadIsHair() throws {
        var s = RenderSettings()
        s.camera = .fixed(yaw: Double.pi, pitch: 0)
        let back = try frames(s, frames: 0..<1)[0].avatar
        s.camera = .frontal
        let front = try frames(s, frames: 0..<1)[0].avatar
        let hair = Self.crownColour(front)
        let shareBack = Self.hairShare(back, hair: hair), shareFront = Self.hairShare(front, hair: hair)
        print(String(format: "hair share of the head: front %.2f, back %.2f", shareFront, shareBack))
        XCTAssertGreaterThan(shareBack, shareFront + 0.1, "from behind the head is mostly hair")
    }
}
