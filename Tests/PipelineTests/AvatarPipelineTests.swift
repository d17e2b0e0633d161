import Faces
import Foundation
import Logging
import Models
import Tensors
import Video
import XCTest
@testable import Pipeline

/// End-to-end runs of the avatar pipeline on the sample clip with the built-in demo models (made once
/// per test run in a temporary cache).
final class AvatarPipelineTests: XCTestCase {
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("samples/talking-head.mp4")
    static let cache = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-demo-cache-\(ProcessInfo.processInfo.processIdentifier)")
    nonisolated(unsafe) static var sharedModels: AvatarModels?
    nonisolated(unsafe) static var sharedTrack: LatentTrack?
    let logger = Logger(label: "test")
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        setenv("AVATARIZE_CACHE", Self.cache.path, 1)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func models(style: String? = nil) throws -> AvatarModels {
        if style == nil, let m = Self.sharedModels { return m }
        let m = try AvatarModels.load(.init(style: style), logger: logger)
        if style == nil { Self.sharedModels = m }
        return m
    }

    /// The sample's first 0.4 s (10 frames) encoded once.
    func track() throws -> LatentTrack {
        if let t = Self.sharedTrack { return t }
        var enc = ClipEncoder()
        enc.duration = 0.4
        try FileManager.default.createDirectory(at: Self.cache, withIntermediateDirectories: true)
        let (t, report) = try enc.encode(Self.sample, models: try models(), to: Self.cache.appendingPathComponent("sample-0.4s.track"), logger: logger)
        XCTAssertEqual(report.frames, 10)
        XCTAssertEqual(report.facesFound, 10, "the sample's face should be found in every frame")
        Self.sharedTrack = t
        return t
    }

    func render(_ settings: RenderSettings, models m: AvatarModels? = nil, name: String) throws -> Data {
        var s = settings
        s.preset = "ultrafast"
        let out = dir.appendingPathComponent(name)
        _ = try AvatarRenderer(models: try m ?? models(), settings: s).render(try track(), source: Self.sample, output: out, logger: logger)
        return try Data(contentsOf: out)
    }

    func testRunKeepsFrameCountRateAndAudio() throws {
        let out = dir.appendingPathComponent("avatar.mp4")
        var enc = ClipEncoder()
        enc.duration = 1.0
        var settings = RenderSettings()
        settings.preset = "ultrafast"
        settings.layout = .sideBySide
        let report = try runAvatar(input: Self.sample, output: out, models: try models(), encoder: enc, settings: settings,
                                   keepTrack: dir.appendingPathComponent("clip.track"), logger: logger)
        XCTAssertEqual(report.encode.frames, 25)
        let info = try MediaInfo.probe(out)
        XCTAssertEqual(info.video?.frameCount, 25)
        XCTAssertEqual(try XCTUnwrap(info.video?.frameRate), 25, accuracy: 0.001)
        XCTAssertEqual(info.video?.width, 2 * (try models()).styleArchitecture.imageResolution)
        XCTAssertEqual(try XCTUnwrap(info.audio?.duration), 1.0, accuracy: 0.06)
        let kept = try LatentTrack.load(from: dir.appendingPathComponent("clip.track"))
        XCTAssertEqual(kept.count, 25)
        XCTAssertLessThanOrEqual(report.render.smoothing.codeJitterAfter, report.render.smoothing.codeJitterBefore)
    }

    func testSegmentsEncodedAndRenderedApartJoinIntoTheWholeClipRender() throws {
        // What workers sharing one clip do: one face pass, the encoder per segment, the track joined and
        // smoothed whole, each segment rendered apart, then the segments joined with the audio.
        var enc = ClipEncoder()
        enc.duration = 0.4
        let m = try models()
        let faces = try enc.facePass(Self.sample, measurements: dir.appendingPathComponent("faces.measurements"))
        let segments = [0..<4, 4..<7, 7..<10]
        let whole = try track()
        let writer = try LatentTrackWriter(url: dir.appendingPathComponent("joined.track"), source: whole.source, model: whole.model,
                                           numWs: whole.numWs, wDim: whole.wDim)
        let network = try m.makeEncoder()
        for (k, r) in segments.enumerated() {
            let (part, _) = try enc.encodePass(Self.sample, faces: faces, frames: r, models: m, network: network,
                                               to: dir.appendingPathComponent("part-\(k).track"))
            XCTAssertEqual(part.count, r.count)
            try writer.append(contentsOf: part)
        }
        let joined: LatentTrack? = try writer.finish()
        XCTAssertEqual(joined?.count, whole.count)
        for i in 0..<whole.count { XCTAssertEqual(try joined?.frame(i), try whole.frame(i), "segment tracks must join into the whole-clip track") }

        var s = RenderSettings()
        s.preset = "ultrafast"
        s.layout = .pasteBack
        s.camera = .orbit(seconds: nil)
        let renderer = AvatarRenderer(models: m, settings: s)
        let unsplit = dir.appendingPathComponent("whole.mp4")
        _ = try renderer.render(whole, source: Self.sample, output: unsplit, logger: logger)
        var parts: [URL] = []
        for (k, r) in segments.enumerated() {
            let u = dir.appendingPathComponent("part-\(k).mkv")
            let report = try renderer.render(try XCTUnwrap(joined), source: Self.sample, output: u, segment: r, logger: logger)
            XCTAssertEqual(report.frames, r.count)
            parts.append(u)
        }
        let out = dir.appendingPathComponent("joined.mp4")
        XCTAssertEqual(try renderer.join(segments: parts, track: try XCTUnwrap(joined), source: Self.sample, output: out, logger: logger), 10)
        XCTAssertEqual(try Data(contentsOf: out), try Data(contentsOf: unsplit), "joined segments must give the whole-clip video")
        // A missing segment is a clear error, and leaves no output behind.
        let bad = dir.appendingPathComponent("bad.mp4")
        XCTAssertThrowsError(try renderer.join(segments: Array(parts.dropLast()), track: try XCTUnwrap(joined), source: Self.sample,
                                               output: bad, logger: logger)) { error in
            XCTAssertTrue("\(error)".contains("7 frames for a track of 10"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: bad.path))
    }

    func testRenderingIsDeterministic() throws {
        var s = RenderSettings()
        s.camera = .orbit(seconds: nil)
        let a = try render(s, name: "a.mp4"), b = try render(s, name: "b.mp4")
        XCTAssertEqual(a, b, "the same track and settings must give the same bytes")
    }

    func testEditsChangeTheOutputAndZeroEditsDoNot() throws {
        let m = try models()
        let directions = dir.appendingPathComponent("directions")
        try FileManager.default.createDirectory(at: directions, withIntermediateDirectories: true)
        var rng = SplitMix64(seed: 9)
        try NumpyArray.write(Tensor(shape: [m.styleArchitecture.wDim], data: (0..<m.styleArchitecture.wDim).map { _ in rng.gaussian() }),
                             to: directions.appendingPathComponent("Wild.npy"))
        var base = RenderSettings()
        base.directions = try DirectionLibrary(folder: directions)
        let plain = try render(base, name: "plain.mp4")

        var zero = base
        zero.edits = [NamedEdit(name: "Wild", value: EditValue(constant: 0))]
        zero.styleEdits = [StyleChannelEdit(layer: "b8.conv0", channel: 3, value: EditValue(constant: 0))]
        zero.planeWarp = try ThinPlateSpline.exaggerate(factor: 1)
        XCTAssertEqual(try render(zero, name: "zero.mp4"), plain, "zero-strength edits must change nothing")

        var semantic = base
        semantic.edits = [NamedEdit(name: "Wild", value: EditValue(constant: 3))]
        XCTAssertNotEqual(try render(semantic, name: "semantic.mp4"), plain)

        var styleSpace = base
        // The last ToRGB layer: in the fitted demo generator only the ToRGB styles vary with w (its conv styles are
        // constant), and only the last block's ToRGB reaches the tri-planes (the earlier ones are zero).
        styleSpace.styleEdits = [StyleChannelEdit(layer: "b64.torgb", channel: 3, value: EditValue(constant: 10))]
        XCTAssertNotEqual(try render(styleSpace, name: "s.mp4"), plain)

        var warp = base
        warp.planeWarp = try ThinPlateSpline.exaggerate(factor: 1.6)
        XCTAssertNotEqual(try render(warp, name: "tps.mp4"), plain)

        // The default style is the source itself (α changes nothing there); the caricature's early layers differ.
        let caricature = try models(style: "caricature")
        var geometry = base
        geometry.geometry = EditValue(constant: 0)
        XCTAssertNotEqual(try render(geometry, models: caricature, name: "geo.mp4"), try render(base, models: caricature, name: "caricature.mp4"),
                          "the caricature's early layers differ from the source's")
    }

    func testGeometryStrengthInterpolatesBetweenSourceAndStyle() throws {
        // A style bundle that differs from the source only by Δs on the early layers (changed affine biases).
        let paths = try DemoModelFamily.ensure()
        let file = try SafeTensorsFile(url: paths.source.appendingPathComponent(ModelBundle.weightsName))
        var tensors = try file.all()
        for name in ["backbone.synthesis.b4.conv1.affine.bias", "backbone.synthesis.b8.conv0.affine.bias"] {
            tensors[name]!.data = tensors[name]!.data.enumerated().map { i, v in v + (i % 2 == 0 ? 0.7 : -0.4) }
        }
        let styleDir = dir.appendingPathComponent("delta-style")
        try FileManager.default.createDirectory(at: styleDir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: paths.source.appendingPathComponent(ModelBundle.manifestName),
                                         to: styleDir.appendingPathComponent(ModelBundle.manifestName))
        try SafeTensorsWriter.write(tensors, to: styleDir.appendingPathComponent(ModelBundle.weightsName))
        let deltaStyle = try models(style: styleDir.path)
        let sourceAsStyle = try models(style: paths.source.path)

        var s = RenderSettings()
        s.camera = .frontal
        let sourceVideo = try render(s, models: sourceAsStyle, name: "source.mp4")
        let styleVideo = try render(s, models: deltaStyle, name: "style.mp4")
        XCTAssertNotEqual(sourceVideo, styleVideo)
        s.geometry = EditValue(constant: 0)
        XCTAssertEqual(try render(s, models: deltaStyle, name: "alpha0.mp4"), sourceVideo, "α = 0 is the source generator")
        s.geometry = EditValue(constant: 1)
        XCTAssertEqual(try render(s, models: deltaStyle, name: "alpha1.mp4"), styleVideo, "α = 1 is the style generator")
    }

    func testModelsAreCheckedAtLoadAndReadLaterFromTheFilesLoadOpened() throws {
        let paths = try DemoModelFamily.ensure()
        let source = dir.appendingPathComponent("source"), encoder = dir.appendingPathComponent("encoder")
        try FileManager.default.copyItem(at: paths.source, to: source)
        try FileManager.default.copyItem(at: paths.encoder, to: encoder)
        let m = try AvatarModels.load(.init(source: source, encoder: encoder), logger: logger)
        // Both weights files replaced by something that is no model once loaded: the networks, read later, still
        // come from the files load checked and hashed into the track identity.
        for url in [source.appendingPathComponent(ModelBundle.weightsName), encoder.appendingPathComponent("weights.safetensors")] {
            let junk = dir.appendingPathComponent("junk")
            try Data("not a safetensors file".utf8).write(to: junk)
            XCTAssertEqual(rename(junk.path, url.path), 0)
        }
        XCTAssertThrowsError(try AvatarModels.load(.init(source: source, encoder: encoder), logger: logger))
        XCTAssertEqual(try m.makeEncoder().layout, m.encoderLayout)
        XCTAssertEqual(try m.generators().style.architecture, m.styleArchitecture)

        // A style bundle with a mis-shaped tensor is refused by load (from its header), not after the clip is encoded.
        var tensors = try SafeTensorsFile(url: paths.source.appendingPathComponent(ModelBundle.weightsName)).all()
        tensors["backbone.synthesis.b4.conv1.affine.bias"] = Tensor(zeros: [3])
        let bad = dir.appendingPathComponent("bad-style")
        try FileManager.default.createDirectory(at: bad, withIntermediateDirectories: true)
        try SafeTensorsWriter.write(tensors, to: bad.appendingPathComponent(ModelBundle.weightsName))
        XCTAssertThrowsError(try AvatarModels.load(.init(style: bad.path), logger: logger)) { e in
            guard case ModelError.weights = e else { return XCTFail("\(e)") }
            XCTAssertTrue("\(e)".contains("b4.conv1.affine.bias"), "\(e)")
        }
    }

    /// A track's identity names its precision: bf16 codes never pass for fp32 ones (a farm of mixed CPUs keeps the
    /// two apart), and fp32 keeps the identity tracks were cached under before precision was part of it.
    func testTrackIdentityNamesItsPrecision() throws {
        let fp32 = try AvatarModels.load(.init(precision: .fp32), logger: logger)
        let bf16 = try AvatarModels.load(.init(precision: .bf16), logger: logger)
        XCTAssertNotEqual(fp32.trackIdentity, bf16.trackIdentity)
        XCTAssertTrue(bf16.trackIdentity.hasSuffix(" bf16"), bf16.trackIdentity)
        XCTAssertFalse(fp32.trackIdentity.contains("fp32"), fp32.trackIdentity)
        XCTAssertTrue(bf16.trackIdentity.hasPrefix(fp32.trackIdentity), "the same models, only the precision added")
    }

    func testKeptTrackMayNotOverwriteTheInput() throws {
        let clip = dir.appendingPathComponent("clip.mp4")
        try FileManager.default.copyItem(at: Self.sample, to: clip)
        let before = try Data(contentsOf: clip)
        XCTAssertThrowsError(try runAvatar(input: clip, output: dir.appendingPathComponent("out.mp4"), models: try models(),
                                           encoder: ClipEncoder(), settings: RenderSettings(), keepTrack: clip, logger: logger)) {
            guard case MediaError.outputIsInput = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(try Data(contentsOf: clip), before)
    }

    func testFacelessFramesAreFilledNotFatal() throws {
        // Frames 3–6 of the sample blacked out: no face there.
        let clip = dir.appendingPathComponent("gap.mp4")
        try runTool(["ffmpeg", "-v", "error", "-y", "-i", Self.sample.path, "-t", "0.4",
                     "-vf", "drawbox=enable='between(n,3,6)':x=0:y=0:w=iw:h=ih:color=black:t=fill",
                     "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy", clip.path])
        let enc = ClipEncoder()
        let (t, report) = try enc.encode(clip, models: try models(), to: dir.appendingPathComponent("gap.track"), logger: logger)
        XCTAssertEqual(t.count, 10)
        XCTAssertEqual(report.framesFilled, 4)
        XCTAssertEqual(try (0..<10).map { try t.frame($0).faceFound }, [true, true, true, false, false, false, false, true, true, true])
        var s = RenderSettings(); s.preset = "ultrafast"
        let out = dir.appendingPathComponent("gap-avatar.mp4")
        let r = try AvatarRenderer(models: try models(), settings: s).render(t, source: clip, output: out, logger: logger)
        XCTAssertEqual(r.frames, 10)
    }

    func testClipWithoutAFaceIsAClearError() throws {
        let clip = dir.appendingPathComponent("pattern.mp4")
        try runTool(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=128x128:rate=10:duration=0.5",
                     "-c:v", "libx264", "-preset", "ultrafast", clip.path])
        let trackURL = dir.appendingPathComponent("none.track")
        XCTAssertThrowsError(try ClipEncoder().encode(clip, models: try models(), to: trackURL, logger: logger)) { e in
            guard case FacesError.noFaceInClip = e else { return XCTFail("unexpected \(e)") }
            XCTAssertTrue("\(e)".lowercased().contains("face"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: trackURL.path))
    }

    func testTrackFromOtherModelsIsRefused() throws {
        let t = try track()
        XCTAssertThrowsError(try t.check(source: Self.sample, model: "someone-else@1", trackPath: "x.track")) {
            guard case TrackError.modelMismatch = $0 else { return XCTFail("\($0)") }
        }
    }
}

func runTool(_ args: [String]) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    try p.run()
    p.waitUntilExit()
    if p.terminationStatus != 0 { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "\(args[0]) failed"]) }
}

final class CameraInversionTests: XCTestCase {
    func testYawPitchRoundTripThroughTheLookAtSampler() {
        for (yaw, pitch) in [(0.0, 0.0), (0.3, -0.2), (-0.45, 0.35), (0.1, 0.05)] {
            let c = GeneratorCamera.lookAt(yaw: yaw, pitch: pitch, radius: 2.7, lookAt: (0, 0, 0.2)).vector
            let (y, p) = AvatarRenderer.yawPitch(c)
            XCTAssertEqual(y, yaw, accuracy: 1e-5); XCTAssertEqual(p, pitch, accuracy: 1e-5)
        }
    }
}
