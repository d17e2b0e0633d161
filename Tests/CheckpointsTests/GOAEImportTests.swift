import Foundation
import Models
import Tensors
import XCTest
@testable import Checkpoints

/// GOAE's released layouts (encoder_FFHQ.pt and afa_FFHQ.pt, two bare state dicts), made by
/// tools/make_goae_fixture.py with the official classes at a reduced width: they import into one bundle, the
/// Swin-V2 encoder's codes match GOAEncoder.forward, AFA matches AFA.forward, and the whole inversion (codes, the
/// W render, AFA, the occlusion mask, the mixed tri-plane rendered at a novel view) matches Net.forward.
final class GOAEImportTests: XCTestCase {
    static let io = try! SafeTensorsFile(url: CheckpointFixtures.url("goae-io.safetensors")).all()

    func importBundle(_ tmp: URL) throws -> (bundle: URL, generator: URL, result: ImportResult) {
        let g = tmp.appendingPathComponent("g")
        _ = try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("eg3d-nrr128.pkl"), output: g))
        let out = tmp.appendingPathComponent("goae")
        let r = try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("goae-encoder.pt"), output: out, generator: g,
                                                    adapter: CheckpointFixtures.url("goae-afa.pt")))
        return (out, g, r)
    }

    func testEncoderAndAFAImportIntoOneBundleAndMatchTheOfficialForwards() throws {
        let tmp = CheckpointFixtures.temporaryFolder(self)
        let (out, g, r) = try importBundle(tmp)
        XCTAssertTrue(r.summary.joined().contains("GOAE encoder from a GOAE encoder state dict"), "\(r.summary)")
        XCTAssertTrue(r.summary.joined().contains("AFA module"), "\(r.summary)")
        let manifest = try EncoderManifest.read(out.appendingPathComponent("model.json"))
        XCTAssertEqual(manifest.architecture, GOAEncoderArchitecture.name)
        XCTAssertEqual(manifest.backbone, GOAEncoderArchitecture.backbone)
        // GOAE's loader: PIL's default (bicubic) resize of the 512² crop.
        XCTAssertEqual(manifest.preprocessing, .pilBicubic)

        let encoder = try GOAEncoder(contentsOf: out)
        let a = encoder.architecture
        XCTAssertEqual(a.swin.depths, [2, 2, 2, 2])
        XCTAssertEqual(a.swin.heads, [2, 4, 8, 16])
        XCTAssertEqual(a.swin.windows, [16, 16, 16, 16, 16, 16, 8, 8])
        XCTAssertEqual(a.swin.inputSide, 256)
        XCTAssertEqual(a.groupStyles, [3, 3, 7])
        XCTAssertEqual(a.styleCount, 14)
        XCTAssertEqual(a.wDim, 16)
        // The derived buffers are not stored; the bundle holds the generator's w_avg as latent_avg.
        let stored = try SafeTensorsFile(url: out.appendingPathComponent("weights.safetensors")).entries
        XCTAssertFalse(stored.keys.contains { $0.hasSuffix("relative_position_index") || $0.hasSuffix("attn_mask") })
        let wAvg = try ModelBundle.open(g).loadGenerator().mapping.wAvg
        XCTAssertEqual(encoder.latentAverage?.data, (0..<14).flatMap { _ in wAvg })

        let x256 = TriPlaneNetImportTests.grid(3, 256) { i, j, c in 0.9 * sin(0.05 * i + 0.07 * j + c) }
        let encoded = try encoder.encode(x256)
        CheckpointFixtures.checkParity("goae encoder ws", encoded.codes, Self.io["encoder.ws"])
        CheckpointFixtures.checkParity("goae encoder ws_base", encoded.base, Self.io["encoder.ws_base"])
        // The cross-attention deltas matter: rows 1… differ from the base by more than the tolerance.
        XCTAssertGreaterThan(encoded.codes.relativeError(to: encoded.base), 1e-2)

        let adapter = try AdaptiveFeatureAlignment(contentsOf: out)
        XCTAssertEqual(adapter.architecture.stageWidths, [16, 32, 64])
        XCTAssertEqual(adapter.architecture.featureWidth, 16)
        let x512 = TriPlaneNetImportTests.grid(3, 512) { i, j, c in 0.8 * sin(0.031 * i - 0.043 * j + 0.9 * c) }
        let rec = TriPlaneNetImportTests.grid(3, 512) { i, j, c in 0.7 * cos(0.029 * i + 0.037 * j + 0.5 * c) }
        let feature = TriPlaneNetImportTests.grid(16, 32) { i, j, c in 0.6 * sin(0.21 * i - 0.17 * j + 0.4 * c) }
        let aligned = try adapter(image: x512, render: rec, features: feature)
        CheckpointFixtures.checkParity("goae afa gamma", aligned.gamma, Self.io["afa.gamma"])
        CheckpointFixtures.checkParity("goae afa beta", aligned.beta, Self.io["afa.beta"])
        CheckpointFixtures.checkParity("goae afa out", aligned.out, Self.io["afa.out"])

        // `models` lists the bundle with both networks.
        let listing = try XCTUnwrap(ModelBundle.discover(in: [tmp]).first { $0.path.lastPathComponent == "goae" })
        XCTAssertNil(listing.problem)
        XCTAssertTrue(listing.summary.contains("GOAEncoder"), listing.summary)
        XCTAssertTrue(listing.summary.contains("GOAE AFA"), listing.summary)
    }

    func testTheWholeInversionMatchesNetForward() throws {
        let tmp = CheckpointFixtures.temporaryFolder(self)
        let (out, g, _) = try importBundle(tmp)
        let generator = try ModelBundle.open(g).loadGenerator()
        let inversion = try GOAEInversion(encoder: GOAEncoder(contentsOf: out), adapter: AdaptiveFeatureAlignment(contentsOf: out),
                                          generator: generator)
        let x256 = TriPlaneNetImportTests.grid(3, 256) { i, j, c in 0.9 * sin(0.05 * i + 0.07 * j + c) }
        let x512 = TriPlaneNetImportTests.grid(3, 512) { i, j, c in 0.8 * sin(0.031 * i - 0.043 * j + 0.9 * c) }
        let io = Self.io
        let c = try XCTUnwrap(io["net.c"]).data, novelCamera = try XCTUnwrap(io["net.c_novel"]).data
        let sigmas = try XCTUnwrap(io["net.sigmas"]).data
        let r = try inversion.invert(image256: x256, image512: x512, camera: c, blurSigmas: sigmas)
        CheckpointFixtures.checkParity("goae net ws", r.codes, io["net.ws"])
        CheckpointFixtures.checkParity("goae net image_w", r.codeImage, io["net.image_w"])
        CheckpointFixtures.checkParity("goae net depth", r.output.imageDepth, io["net.depth"])
        let image = try XCTUnwrap(io["net.image"])
        let err = r.output.image.relativeError(to: image)
        print("goae whole forward image vs Net.forward: \(err)")
        XCTAssertLessThanOrEqual(err, 1e-3)
        // The mask marks the cell each surface point falls in, truncating its position: a depth 1e-5 away can move a
        // point across a cell edge. From the official depth the mask is the official one; from ours, a few cells move.
        let mask = try XCTUnwrap(io["net.mask"])
        let fromOfficialDepth = GOAERefinement.occlusionMask(depth: try XCTUnwrap(io["net.depth"]), origins: r.output.rayOrigins,
                                                            directions: r.output.rayDirections, resolution: 256, sigmas: sigmas)
        let merr = fromOfficialDepth.relativeError(to: mask)
        print("goae occlusion mask (official depth) vs mix_fusion: \(merr)")
        XCTAssertLessThanOrEqual(merr, 1e-5)
        let meanDiff = zip(r.mask.data, mask.data).map { abs($0 - $1) }.reduce(0, +) / Float(mask.count)
        print("goae occlusion mask (own depth) vs mix_fusion: mean |a-b| = \(meanDiff), max \(r.mask.relativeError(to: mask))")
        XCTAssertLessThanOrEqual(meanDiff, 1e-3)
        XCTAssertGreaterThan(mask.data.filter { $0 > 0.5 }.count, 1000)
        XCTAssertGreaterThan(mask.data.filter { $0 < 0.5 }.count, 1000)
        // The mixed tri-plane at a novel camera (infer.py's multi-view), mixed with the official mask.
        let planes = GOAERefinement.mix(r.output.planes, r.codePlanes, mask: mask, planeChannels: generator.architecture.planeChannels)
        let novel = generator.synthesize(styles: generator.styles(ws: r.codes), camera: novelCamera, planes: planes).image
        let nerr = novel.relativeError(to: try XCTUnwrap(io["net.novel"]))
        print("goae novel view of the mixed tri-plane vs the official: \(nerr)")
        XCTAssertLessThanOrEqual(nerr, 1e-3)
        // With its own mask, the novel view is still within a few thousandths.
        let own = generator.synthesize(styles: generator.styles(ws: r.codes), camera: novelCamera, planes: r.planes).image
        print("goae novel view (own mask) vs the official: \(own.relativeError(to: try XCTUnwrap(io["net.novel"])))")
        XCTAssertGreaterThan(own.psnr(to: try XCTUnwrap(io["net.novel"]), peakToPeak: 2, clampTo: -1...1), 50)
        // AFA matters: the W-only render is far from the refined one.
        XCTAssertGreaterThan(r.codeImage.relativeError(to: image), 1e-2)
    }

    func testAFAAloneAndMissingPartsAreRefusedWithClearErrors() throws {
        let tmp = CheckpointFixtures.temporaryFolder(self)
        XCTAssertThrowsError(try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("goae-afa.pt"), output: tmp.appendingPathComponent("a")))) {
            XCTAssertTrue("\($0)".contains("GOAE's AFA module; import it with its encoder"), "\($0)")
        }
        XCTAssertThrowsError(try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("goae-encoder.pt"), output: tmp.appendingPathComponent("b")))) {
            XCTAssertTrue("\($0)".contains("--generator"), "\($0)")
        }
        let g = tmp.appendingPathComponent("g")
        _ = try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("eg3d-nrr128.pkl"), output: g))
        // An e4e checkpoint is not an AFA module.
        XCTAssertThrowsError(try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("goae-encoder.pt"), output: tmp.appendingPathComponent("c"),
                                                                 generator: g, adapter: CheckpointFixtures.url("e4e-zip.pt")))) {
            XCTAssertTrue("\($0)".contains("--afa takes GOAE's AFA state dict"), "\($0)")
        }
        XCTAssertThrowsError(try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("e4e-zip.pt"), output: tmp.appendingPathComponent("d"),
                                                                 adapter: CheckpointFixtures.url("goae-afa.pt")))) {
            XCTAssertTrue("\($0)".contains("--afa goes with a GOAE encoder"), "\($0)")
        }
        for name in ["a", "b", "c", "d"] { XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent(name).path)) }
        // Encoder-only import works (codes only).
        let r = try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("goae-encoder.pt"), output: tmp.appendingPathComponent("e"), generator: g))
        XCTAssertTrue(r.summary.joined().contains("no AFA module"), "\(r.summary)")
    }

    func testTamperedWeightsAndBuffersAreRefused() throws {
        let tmp = CheckpointFixtures.temporaryFolder(self)
        let (out, _, _) = try importBundle(tmp)
        let tensors = try SafeTensorsFile(url: out.appendingPathComponent("weights.safetensors")).all()
        var missing = tensors
        missing["cross_att_fine.linear2.bias"] = nil
        XCTAssertThrowsError(try GOAEncoder(file: "x.safetensors", tensors: missing)) {
            XCTAssertTrue("\($0)".contains("missing cross_att_fine.linear2.bias"), "\($0)")
        }
        var wrongIndex = tensors
        wrongIndex["swin_model.layers.0.blocks.0.attn.relative_position_index"] = Tensor(zeros: [256, 256])
        XCTAssertThrowsError(try GOAEncoder(file: "x.safetensors", tensors: wrongIndex)) {
            XCTAssertTrue("\($0)".contains("relative_position_index differs"), "\($0)")
        }
        var wrongMask = tensors
        wrongMask["swin_model.layers.0.blocks.1.attn_mask"] = Tensor(zeros: [16, 256, 256])
        XCTAssertThrowsError(try GOAEncoder(file: "x.safetensors", tensors: wrongMask)) {
            XCTAssertTrue("\($0)".contains("attn_mask differs"), "\($0)")
        }
        // A window the memory could not hold (its position bias is heads · window⁴ floats) is refused by its size.
        var wideWindow = tensors
        wideWindow["swin_model.layers.0.blocks.0.attn.relative_coords_table"] = Tensor(zeros: [1, 127, 127, 2])
        XCTAssertThrowsError(try GOAEncoder(file: "x.safetensors", tensors: wideWindow)) {
            XCTAssertTrue("\($0)".contains("a window of 64 tokens (at most 32 is read)"), "\($0)")
        }
        // A bundle without its latent average is refused when read, before any clip is encoded.
        var withoutLatent = tensors
        withoutLatent["latent_avg"] = nil
        try SafeTensorsWriter.write(withoutLatent, to: out.appendingPathComponent("weights.safetensors"))
        XCTAssertThrowsError(try GOAEncoder.architecture(inBundle: out)) {
            XCTAssertTrue("\($0)".contains("missing latent_avg"), "\($0)")
        }
        let encoder = try GOAEncoder(file: "x.safetensors", tensors: tensors)
        XCTAssertThrowsError(try encoder.encode(Tensor(zeros: [3, 128, 128]))) {
            XCTAssertTrue("\($0)".contains("[3, 256, 256]"), "\($0)")
        }
    }
}
