import Foundation
import Models
import Tensors
import XCTest
@testable import Checkpoints

/// TriPlaneNet's released checkpoint layouts (v1, v2 with pixel shuffle, v2 with nearest upsampling, the training
/// default), made by tools/make_triplanenet_fixture.py with the official classes at 1/32 width: they import into
/// one bundle (W+ encoder + tri-plane encoder), the W+ codes match pSp's GradualStyleEncoder forward and the
/// tri-plane encoder matches the official TriPlane_Encoder forward.
final class TriPlaneNetImportTests: XCTestCase {
    static let variants: [(file: String, version: TriPlaneRefinerArchitecture.Version, upsampling: TriPlaneRefinerArchitecture.Upsampling)] = [
        ("triplanenet-v1", .v1, .pixelShuffle), ("triplanenet-v2", .v2, .pixelShuffle), ("triplanenet-v2-upsample", .v2, .nearest),
    ]

    /// The inputs the fixture script fed the official forwards.
    static func grid(_ channels: Int, _ side: Int, _ f: (Float, Float, Float) -> Float) -> Tensor {
        var t = Tensor(zeros: [channels, side, side])
        for c in 0..<channels {
            for i in 0..<side {
                for j in 0..<side { t.data[(c * side + i) * side + j] = f(Float(i), Float(j), Float(c)) }
            }
        }
        return t
    }

    func testEveryReleasedLayoutImportsAndMatchesTheOfficialForwards() throws {
        let tmp = CheckpointFixtures.temporaryFolder(self)
        let g = tmp.appendingPathComponent("g")
        _ = try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("eg3d-nrr128.pkl"), output: g))
        let wAvg = try ModelBundle.open(g).loadGenerator().mapping.wAvg
        let io = try SafeTensorsFile(url: CheckpointFixtures.url("triplanenet-io.safetensors")).all()
        let image = Self.grid(3, 256) { i, j, c in 0.9 * sin(0.05 * i + 0.07 * j + c) }
        let planes = Self.grid(96, 32) { i, j, c in 0.5 * cos(0.09 * i + 0.13 * j + 0.3 * c) }
        for v in Self.variants {
            let out = tmp.appendingPathComponent(v.file)
            let r = try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("\(v.file).pt"), output: out, generator: g))
            XCTAssertTrue(r.summary.joined().contains("pSp GradualStyleEncoder from a TriPlaneNet checkpoint"), "\(r.summary)")
            XCTAssertEqual(try EncoderManifest.read(out.appendingPathComponent("model.json")).architecture, "GradualStyleEncoder")
            XCTAssertEqual(try EncoderManifest.read(out.appendingPathComponent("model.json")).preprocessing, .bilinearNoAntialias)

            // W+: pSp's styles, no w0 broadcast, plus the generator's w_avg on every row.
            let w = try EncoderWeights.load(from: out)
            XCTAssertEqual(w.architecture.head, .gradualStyle)
            XCTAssertEqual(w.architecture.styleCount, 14)
            XCTAssertEqual(w.architecture.styleWidth, 16)
            XCTAssertEqual(w["latent_avg"].data, (0..<14).flatMap { _ in wAvg })
            let encoded = try Encoder4Editing(weights: w).encode(image)
            let styles = try XCTUnwrap(io["\(v.file).styles"])
            let err = encoded.styles.relativeError(to: styles)
            print("\(v.file) styles vs the official GradualStyleEncoder: \(err)")
            XCTAssertLessThanOrEqual(err, 1e-4)
            // Read as e4e's network (w0 + deltas), the same weights give other codes: the head matters.
            XCTAssertGreaterThan(try Encoder4Editing(weights: EncoderWeights(file: "e4e", tensors: w.tensors)).encode(image).styles
                                    .relativeError(to: styles), 1e-2)

            // The tri-plane encoder.
            let refiner = try TriPlaneRefiner(contentsOf: out, side: 32)
            XCTAssertEqual(refiner.architecture.version, v.version)
            XCTAssertEqual(refiner.architecture.upsampling, v.upsampling)
            let input = Self.grid(refiner.architecture.expectedInputChannels, 32) { i, j, c in 0.8 * sin(0.11 * i - 0.05 * j + 0.7 * c) }
            let refined = try refiner(input, planes: v.version == .v2 ? planes : nil)
            let expected = try XCTUnwrap(io["\(v.file).planes"])
            XCTAssertEqual(refined.shape, [96, 32, 32])
            let perr = refined.relativeError(to: expected)
            print("\(v.file) tri-plane encoder vs the official TriPlane_Encoder: \(perr)")
            XCTAssertLessThanOrEqual(perr, 1e-4)
            XCTAssertGreaterThan(expected.maxAbs, 0)

            // `models` lists the bundle with both networks.
            let listing = try XCTUnwrap(ModelBundle.discover(in: [tmp]).first { $0.path.lastPathComponent == v.file })
            XCTAssertNil(listing.problem)
            XCTAssertTrue(listing.summary.contains("layout: GradualStyleEncoder IR-SE50"), listing.summary)
            XCTAssertTrue(listing.summary.contains("refiner: TriPlaneNet v\(v.version.rawValue)"), listing.summary)
        }
    }

    /// The whole inversion (W+ codes, initial renders, the tri-plane encoder, the render from the refined planes with
    /// doubled depth samples) against TriPlaneNet.forward of v1 and v2 on the fixture generator.
    func testTheWholeInversionMatchesTheOfficialForward() throws {
        let tmp = CheckpointFixtures.temporaryFolder(self)
        let g = tmp.appendingPathComponent("g")
        _ = try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("eg3d-nrr128.pkl"), output: g))
        let generator = try ModelBundle.open(g).loadGenerator()
        let io = try SafeTensorsFile(url: CheckpointFixtures.url("triplanenet-io.safetensors")).all()
        let c = try XCTUnwrap(io["c"]).data
        XCTAssertEqual(TriPlaneNetInversion.flipYaw(c), try XCTUnwrap(io["c_mirror"]).data)
        let image = Self.grid(3, 256) { i, j, c in 0.9 * sin(0.05 * i + 0.07 * j + c) }
        for name in ["triplanenet-v1", "triplanenet-v2-upsample"] {
            let out = tmp.appendingPathComponent(name)
            _ = try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("\(name).pt"), output: out, generator: g))
            let inversion = try TriPlaneNetInversion(refiner: TriPlaneRefiner(contentsOf: out), generator: generator)
            XCTAssertEqual(inversion.generator.options.rendering.depthResolution, 2 * generator.options.rendering.depthResolution)
            let r = try inversion.invert(image: image, camera: c, encoder: Encoder4Editing(contentsOf: out))
            let ws = r.codes.relativeError(to: try XCTUnwrap(io["\(name).ws"]))
            let official = try XCTUnwrap(io["\(name).image"])
            let im = TriPlaneNetInversion.averagePool(r.output.image, to: 256).relativeError(to: official)
            print("\(name) inversion vs TriPlaneNet.forward: ws \(ws), image \(im)")
            XCTAssertLessThanOrEqual(ws, 1e-4)
            XCTAssertLessThanOrEqual(im, 1e-3)
            // The refinement matters: the render of the codes alone is far from the official image.
            let plain = TriPlaneNetInversion.averagePool(inversion.generator.synthesize(ws: r.codes, camera: c).image, to: 256)
            XCTAssertGreaterThan(plain.relativeError(to: official), 1e-3)
            // An image or a mirrored view of another size is a typed error, not a crash.
            let encoder = try Encoder4Editing(contentsOf: out)
            XCTAssertThrowsError(try inversion.invert(image: Tensor(zeros: [3, 128, 128]), camera: c, encoder: encoder)) { e in
                XCTAssertTrue("\(e)".contains("input has shape [3, 128, 128], expected [3, 256, 256]"), "\(e)")
            }
            XCTAssertThrowsError(try inversion.invert(image: image, camera: c, encoder: encoder, mirrorImage: Tensor(zeros: [1, 3, 10, 10]))) { e in
                XCTAssertTrue("\(e)".contains("input has shape [1, 3, 10, 10], expected [3, 256, 256]"), "\(e)")
            }
        }
    }

    func testAGeneratorIsRequiredForTheLatentAverage() throws {
        let tmp = CheckpointFixtures.temporaryFolder(self)
        let out = tmp.appendingPathComponent("t")
        XCTAssertThrowsError(try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("triplanenet-v2.pt"), output: out))) { e in
            XCTAssertTrue("\(e)".contains("a TriPlaneNet checkpoint: its latent average is the w_avg of the EG3D generator"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    /// Widths of 0 (every tensor empty, each of the shape its neighbours imply) are refused, not run.
    func testARefinerOfWidthZeroIsRefused() throws {
        var trunk = EncoderArchitecture.released(styleCount: 0)
        trunk.inputChannels = 9
        trunk.styleWidth = 0
        let a = TriPlaneRefinerArchitecture(version: .v2, upsampling: .nearest, trunk: trunk, stepWidths: [0, 0, 0, 0])
        let t = a.expectedShapes().mapValues { Tensor(shape: $0, data: [Float](repeating: 0, count: $0.reduce(1, *))) }
        XCTAssertThrowsError(try TriPlaneRefiner(file: "zero.safetensors", tensors: t, side: 32)) { e in
            XCTAssertTrue("\(e)".contains("zero.safetensors: cannot read the encoder's layout from its weights: a U-Net step of width 0"), "\(e)")
        }
        trunk.stageWidths = [64, 0, 256, 512]
        let b = TriPlaneRefinerArchitecture(version: .v2, upsampling: .nearest, trunk: trunk, stepWidths: [4, 4, 4, 4])
        let u = b.expectedShapes().mapValues { Tensor(shape: $0, data: [Float](repeating: 0, count: $0.reduce(1, *))) }
        XCTAssertThrowsError(try TriPlaneRefiner(file: "zero.safetensors", tensors: u, side: 32)) { e in
            XCTAssertTrue("\(e)".contains("a layer of width 0"), "\(e)")
        }
    }

    /// A refiner whose inputs do not fit its version is refused with every problem named.
    func testARefinerWithAWrongInputWidthIsRefused() throws {
        let tmp = CheckpointFixtures.temporaryFolder(self)
        let g = tmp.appendingPathComponent("g"), out = tmp.appendingPathComponent("t")
        _ = try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("eg3d-nrr128.pkl"), output: g))
        _ = try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("triplanenet-v1.pt"), output: out, generator: g))
        var t = try SafeTensorsFile(url: out.appendingPathComponent(TriPlaneRefiner.bundleFileName)).all()
        // v1's 6-channel input layer with v2's head name: a v2 network must take 9 channels.
        for (k, v) in t where k.hasPrefix("final_head.") {
            t["final_head_two." + k.dropFirst("final_head.".count)] = v
            t[k] = nil
        }
        XCTAssertThrowsError(try TriPlaneRefiner(file: "mixed.safetensors", tensors: t, side: 32)) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("mixed.safetensors: the weights do not match the encoder's layout"), m)
            XCTAssertTrue(m.contains("input_layer.0.weight"), m)
            XCTAssertTrue(m.contains("final_head_two.0.weight"), m)
        }
    }
}
