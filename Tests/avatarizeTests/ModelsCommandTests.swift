import Foundation
import Tensors
import XCTest
import Video

/// `avatarize models import`, `avatarize models`, `avatarize encoder` and negative option values, run as
/// a user runs them (the checkpoint fixtures of Tests/CheckpointsTests).
final class ModelsCommandTests: XCTestCase {
    var dir: URL!
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CheckpointsTests/Fixtures")

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-models-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func testImportListAndRunBothKinds() throws {
        let g = dir.appendingPathComponent("models/ffhq-64")
        var r = try runAvatarize(["models", "import", Self.fixtures.appendingPathComponent("eg3d-nrr64.pkl").path, "-o", g.path, "--role", "source"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("neural rendering 64"), r.stdout)
        let e = dir.appendingPathComponent("models/e4e")
        r = try runAvatarize(["models", "import", Self.fixtures.appendingPathComponent("e4e-legacy.pt").path, "--output", e.path])
        XCTAssertEqual(r.status, 0, r.stderr)

        r = try runAvatarize(["models", "--path", dir.appendingPathComponent("models").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("render 64² (resized to 128²) → image 512²"), r.stdout)
        XCTAssertTrue(r.stdout.contains("role: source-generator"), r.stdout)
        XCTAssertTrue(r.stdout.contains("layout: Encoder4Editing"), r.stdout)
        XCTAssertEqual(r.stdout.components(separatedBy: "weights sha256: ").count - 1, 2, r.stdout)
        XCTAssertTrue(r.stdout.contains("built-in demo models"), r.stdout)

        // The generator with a negative pitch (once refused as a missing value).
        let png = dir.appendingPathComponent("face.png")
        r = try runAvatarize(["generate", "--model", g.path, "--seed", "1", "--pitch", "-0.1", "--yaw", "-.2", "-o", png.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: png.path))

        // One encoder forward from the fixture's image; the reference outputs in the same file are compared.
        let out = dir.appendingPathComponent("enc.safetensors")
        r = try runAvatarize(["encoder", "--model", e.path, "--inputs", Self.fixtures.appendingPathComponent("e4e.io.safetensors").path,
                              "--output", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        for name in ["codes", "styles", "c_after_unit6", "c_after_unit20", "c_after_unit23"] {
            let line = r.stdout.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            let value = line.flatMap { Float($0.split(separator: "=").last!.trimmingCharacters(in: .whitespaces)) }
            XCTAssertNotNil(value, "\(name) in \(r.stdout)")
            XCTAssertLessThanOrEqual(value ?? 1, 1e-4, name)
        }
        r = try runAvatarize(["encoder", "--model", e.path, "--inputs", Self.fixtures.appendingPathComponent("e4e.io.safetensors").path,
                              "--output", out.path, "--repeats", "0"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--repeats must be 1 or more"), r.stderr)
    }

    /// PREIM3D's released layout end to end, as a user holding its files runs it: the generator pickle and the
    /// WPlusEncoder checkpoint imported (fixtures at 1/32 width, made with the official code), a direction file
    /// as PREIM3D publishes them (torch.save of a [1, styles·w] tensor), then `run` with an edit: a video with
    /// every frame and the audio.
    func testPublishedLayoutsRunEndToEnd() throws {
        let g = dir.appendingPathComponent("g"), e = dir.appendingPathComponent("e")
        // Under their released names, so the bundles record the releases' licence and where they are published.
        let released = dir.appendingPathComponent("downloads")
        try FileManager.default.createDirectory(at: released, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("eg3d-nrr128.pkl"), to: released.appendingPathComponent("ffhq512-128.pkl"))
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("preim3d-wplus.pt"), to: released.appendingPathComponent("preim3d_ffhq.pt"))
        var r = try runAvatarize(["models", "import", released.appendingPathComponent("ffhq512-128.pkl").path, "-o", g.path, "--role", "source"])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try runAvatarize(["models", "import", released.appendingPathComponent("preim3d_ffhq.pt").path, "-o", e.path, "--generator", g.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("pSp WPlusEncoder from a PREIM3D checkpoint"), r.stdout)
        r = try runAvatarize(["models", "--path", dir.path])
        XCTAssertTrue(r.stdout.contains("layout: WPlusEncoder IR-SE50"), r.stdout)
        XCTAssertTrue(r.stdout.contains("(axes XY/XZ/ZX as released)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("license: NVIDIA Source Code License for EG3D (non-commercial"), r.stdout)
        XCTAssertTrue(r.stdout.contains("published: https://catalog.ngc.nvidia.com/orgs/nvidia/teams/research/models/eg3d"), r.stdout)
        XCTAssertTrue(r.stdout.contains("license: MIT (mybabyyh/Preim3D)"), r.stdout)
        // Published-format directions (tools/make_direction_fixtures.py): one of this model's W+ (14 × 16) and
        // one of EG3D's (14 × 512), which is refused before anything is encoded, naming the file.
        let directions = dir.appendingPathComponent("directions")
        try FileManager.default.createDirectory(at: directions, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("direction-w16.pt"), to: directions.appendingPathComponent("Smiling.pt"))
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("direction-preim3d.pt"), to: directions.appendingPathComponent("Young.pt"))
        let sample = Self.fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("samples/talking-head.mp4")
        let out = dir.appendingPathComponent("out/edited.mp4")
        let common = ["run", sample.path, "--model", g.path, "--encoder", e.path, "--directions", directions.path, "--duration", "0.2"]
        r = try runAvatarize(common + ["--edit", "Young=1", "-o", out.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("Young.pt: this model needs directions of 16 or 14×16 floats, this one holds 7168"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        r = try runAvatarize(common + ["--edit", "Smiling=0:0,0.2s:1.5", "-o", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let info = try MediaInfo.probe(out)
        XCTAssertEqual(info.video?.frameCount, 5)
        XCTAssertEqual(try XCTUnwrap(info.audio?.duration), 0.2, accuracy: 0.05)
    }

    /// TriPlaneNet v2's released layout end to end (fixture at 1/32 width made with the official code, under its
    /// released name): import, then `run` with a published-format direction renders every frame from tri-planes
    /// refined on that frame, which `--no-refinement` leaves out (a style generator does too: RefinementSelectionTests).
    func testTriPlaneNetRunsEndToEndFromRefinedPlanes() throws {
        let released = dir.appendingPathComponent("downloads")
        try FileManager.default.createDirectory(at: released, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("eg3d-nrr128.pkl"), to: released.appendingPathComponent("ffhq512-128.pkl"))
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("triplanenet-v2-upsample.pt"), to: released.appendingPathComponent("triplanenet_v2_final.pth"))
        let g = dir.appendingPathComponent("models/g"), e = dir.appendingPathComponent("models/e")
        var r = try runAvatarize(["models", "import", released.appendingPathComponent("ffhq512-128.pkl").path, "-o", g.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try runAvatarize(["models", "import", released.appendingPathComponent("triplanenet_v2_final.pth").path, "-o", e.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("triplanenet_v2_final.pth: ") && r.stderr.contains("pass that generator's bundle with --generator"), r.stderr)
        r = try runAvatarize(["models", "import", released.appendingPathComponent("triplanenet_v2_final.pth").path, "-o", e.path, "--generator", g.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("tri-plane encoder: TriPlaneNet v2 (nearest upsampling)"), r.stdout)
        r = try runAvatarize(["models", "--path", dir.appendingPathComponent("models").path])
        XCTAssertTrue(r.stdout.contains("layout: GradualStyleEncoder IR-SE50"), r.stdout)
        XCTAssertTrue(r.stdout.contains("refiner: TriPlaneNet v2"), r.stdout)
        XCTAssertTrue(r.stdout.contains("license: MIT (anantarb/triplanenet)"), r.stdout)

        let directions = dir.appendingPathComponent("directions")
        try FileManager.default.createDirectory(at: directions, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("direction-w16.pt"), to: directions.appendingPathComponent("Smiling.pt"))
        let sample = Self.fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("samples/talking-head.mp4")
        let edit = ["--model", g.path, "--encoder", e.path, "--directions", directions.path, "--edit", "Smiling=0:0,0.1s:1.5"]
        let refined = dir.appendingPathComponent("out/refined.mp4"), plain = dir.appendingPathComponent("out/plain.mp4")
        let track = dir.appendingPathComponent("out/clip.track")
        // Lossless video (--crf 0), so that pictures compare across runs whose later frames differ.
        r = try runAvatarize(["run", sample.path, "--duration", "0.05", "--keep-track", track.path, "--crf", "0"] + edit + ["-o", refined.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("  refinement "), r.stdout)
        // Edited codes: the refinement's offsets are added to the backbone's planes of each edited code.
        XCTAssertTrue(r.stdout.contains("    backbone "), r.stdout)
        let info = try MediaInfo.probe(refined)
        XCTAssertEqual(info.video?.frameCount, 2)
        XCTAssertEqual(try XCTUnwrap(info.audio?.duration), 0.05, accuracy: 0.05)
        func firstFrame(_ u: URL) throws -> [UInt8] { try XCTUnwrap(try VideoReader(url: u).nextFrame()).rgb }
        func meanDifference(_ a: [UInt8], _ b: [UInt8]) -> Double {
            zip(a, b).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(a.count)
        }
        // The same track rendered again (no encoding) without refinement: the refined planes change the picture
        // (by about 6 grey levels on this random generator).
        r = try runAvatarize(["render", track.path, "--source", sample.path] + edit + ["--no-refinement", "-o", plain.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stdout.contains("  refinement "), r.stdout)
        let diff = meanDifference(try firstFrame(refined), try firstFrame(plain))
        XCTAssertGreaterThan(diff, 1, "refined and plain renders differ by \(diff)")
        // Unedited codes render the refined planes as they are (no second backbone). The run's first frame has the
        // edit at strength 0, rendered the other way (offsets added to the code's backbone planes): the same picture
        // up to rounding.
        let unedited = dir.appendingPathComponent("out/unedited.mp4")
        r = try runAvatarize(["render", track.path, "--source", sample.path, "--model", g.path, "--encoder", e.path, "--crf", "0",
                              "-o", unedited.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("  refinement "), r.stdout)
        XCTAssertFalse(r.stdout.contains("    backbone "), r.stdout)
        let same = meanDifference(try firstFrame(unedited), try firstFrame(refined))
        XCTAssertLessThan(same, 0.05, "the two paths differ by \(same)")
    }

    /// GOAE's two released files into one bundle, `encoder` against the official forward's outputs, and a run whose
    /// frames render from the mixed tri-plane (AFA on each frame's 512² crop), with and without refinement.
    func testGOAEImportsFromItsTwoFilesAndRunsEndToEnd() throws {
        let released = dir.appendingPathComponent("downloads")
        try FileManager.default.createDirectory(at: released, withIntermediateDirectories: true)
        for (from, to) in [("eg3d-nrr128.pkl", "ffhqrebalanced512-128.pkl"), ("goae-encoder.pt", "encoder_FFHQ.pt"), ("goae-afa.pt", "afa_FFHQ.pt")] {
            try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent(from), to: released.appendingPathComponent(to))
        }
        let g = dir.appendingPathComponent("models/g"), e = dir.appendingPathComponent("models/goae")
        var r = try runAvatarize(["models", "import", released.appendingPathComponent("ffhqrebalanced512-128.pkl").path, "-o", g.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try runAvatarize(["models", "import", released.appendingPathComponent("afa_FFHQ.pt").path, "-o", e.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("afa_FFHQ.pt: ") && r.stderr.contains("import it with its encoder"), r.stderr)
        r = try runAvatarize(["models", "import", released.appendingPathComponent("encoder_FFHQ.pt").path, "-o", e.path, "--generator", g.path,
                              "--afa", released.appendingPathComponent("afa_FFHQ.pt").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("AFA module: IR-SE"), r.stdout)
        r = try runAvatarize(["models", "--path", dir.appendingPathComponent("models").path])
        XCTAssertTrue(r.stdout.contains("layout: GOAEncoder Swin-V2 embed 16"), r.stdout)
        XCTAssertTrue(r.stdout.contains("refiner: GOAE AFA"), r.stdout)
        XCTAssertTrue(r.stdout.contains("license: none stated (jiangyzy/GOAE has no LICENSE file"), r.stdout)

        // `encoder` on the fixture's inputs prints its errors against the official outputs stored beside them.
        let io = try SafeTensorsFile(url: Self.fixtures.appendingPathComponent("goae-io.safetensors")).all()
        func grid(_ side: Int, _ f: (Float, Float, Float) -> Float) -> Tensor {
            var t = Tensor(zeros: [1, 3, side, side])
            for c in 0..<3 { for i in 0..<side { for j in 0..<side { t.data[(c * side + i) * side + j] = f(Float(i), Float(j), Float(c)) } } }
            return t
        }
        let inputs = dir.appendingPathComponent("inputs.safetensors"), outputs = dir.appendingPathComponent("out.safetensors")
        try SafeTensorsWriter.write([
            "image": grid(256) { i, j, c in 0.9 * sin(0.05 * i + 0.07 * j + c) },
            "input_512": grid(512) { i, j, c in 0.8 * sin(0.031 * i - 0.043 * j + 0.9 * c) },
            "c": try XCTUnwrap(io["net.c"]), "mask_blur_sigmas": try XCTUnwrap(io["net.sigmas"]),
            "ws": try XCTUnwrap(io["net.ws"]).reshaped([1, 14, 16]), "image_w": try XCTUnwrap(io["net.image_w"]).reshaped([1, 3, 512, 512]),
        ], to: inputs)
        r = try runAvatarize(["encoder", "--model", e.path, "--generator", g.path, "--inputs", inputs.path, "-o", outputs.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        for name in ["ws", "image_w"] {
            let line = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix(name + " ") }, r.stdout)
            let err = try XCTUnwrap(Double(line.components(separatedBy: "= ").last!.trimmingCharacters(in: .whitespaces)))
            XCTAssertLessThanOrEqual(err, 1e-3, String(line))
        }
        XCTAssertEqual(try SafeTensorsFile(url: outputs).entries["image"]?.shape, [1, 3, 512, 512])

        let sample = Self.fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("samples/talking-head.mp4")
        let refined = dir.appendingPathComponent("out/refined.mp4"), plain = dir.appendingPathComponent("out/plain.mp4")
        let track = dir.appendingPathComponent("out/clip.track")
        r = try runAvatarize(["run", sample.path, "--duration", "0.05", "--keep-track", track.path, "--crf", "0",
                              "--model", g.path, "--encoder", e.path, "-o", refined.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("  refinement "), r.stdout)
        XCTAssertEqual(try MediaInfo.probe(refined).video?.frameCount, 2)
        r = try runAvatarize(["render", track.path, "--source", sample.path, "--model", g.path, "--encoder", e.path, "--crf", "0",
                              "--no-refinement", "-o", plain.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stdout.contains("  refinement "), r.stdout)
        let a = try XCTUnwrap(try VideoReader(url: refined).nextFrame()).rgb, b = try XCTUnwrap(try VideoReader(url: plain).nextFrame()).rgb
        let diff = zip(a, b).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(a.count)
        XCTAssertGreaterThan(diff, 1, "the mixed tri-plane and the codes alone render alike (\(diff))")
    }

    func testRefusedImportExitsNonZeroAndLeavesNothing() throws {
        let evil = dir.appendingPathComponent("evil.pkl")
        let bytes: [UInt8] = [0x80, 0x02] + Array("cos\nsystem\n".utf8) + [0x58, 0x02, 0x00, 0x00, 0x00] + Array("ls".utf8) + [0x85, 0x52, 0x2E]
        try Data(bytes).write(to: evil)
        let out = dir.appendingPathComponent("models/evil")
        let r = try runAvatarize(["models", "import", evil.path, "-o", out.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("'os.system'"), r.stderr)
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("models").path)) ?? [], [])
    }

    func testHostilePicklesEndInOneMessageAndAFailureExitWithinSeconds() throws {
        let osg = Array("ctraining.triplane\nOSGDecoder\n".utf8), easy = Array("cdnnlib.util\nEasyDict\n".utf8)
        // 37 bytes: an OSGDecoder whose BUILD state is itself (overflowed the stack).
        let selfState: [UInt8] = [0x80, 0x02] + osg + [0x29, 0x81, 0x32, 0x62, 0x2E]
        // An EasyDict with a None key built with itself 40 times (asked for 2^40 entries).
        let doubling: [UInt8] = [0x80, 0x02] + easy + [0x29, 0x81, 0x4E, 0x4E, 0x73] + Array(repeating: [0x32, 0x62], count: 40).flatMap { $0 } + [0x2E]
        // One 64 KiB string memoized, then _codecs.encode on it 24 000 times (1.7 GB before).
        var encode: [UInt8] = [0x80, 0x02, 0x5D, 0x28] + Array("c_codecs\nencode\n".utf8) + [0x71, 0x00]
        encode += [0x58, 0x00, 0x00, 0x01, 0x00] + [UInt8](repeating: 0x61, count: 1 << 16) + [0x71, 0x01]
        encode += [0x58, 0x06, 0x00, 0x00, 0x00] + Array("latin1".utf8) + [0x71, 0x02]
        for _ in 0..<24_000 { encode += [0x68, 0x00, 0x68, 0x01, 0x68, 0x02, 0x86, 0x52] }
        encode += [0x65, 0x2E]
        for (name, bytes, fragment) in [("self.pkl", selfState, "its own state"), ("doubling.pkl", doubling, "its own state"),
                                        ("encode.pkl", encode, "budget")] {
            let file = dir.appendingPathComponent(name)
            try Data(bytes).write(to: file)
            let start = Date()
            let r = try runAvatarize(["models", "import", file.path, "-o", dir.appendingPathComponent("models/\(name)").path])
            XCTAssertLessThan(Date().timeIntervalSince(start), 30, name)
            XCTAssertEqual(r.status, 1, "\(name): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("\(name): malformed pickle") && r.stderr.contains(fragment), "\(name): \(r.stderr)")
            XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("models").path)) ?? [], [], name)
        }
    }
}
