import Foundation
import Models
import Tensors
import XCTest
@testable import Checkpoints

/// `models import` of e4e checkpoints in both torch.save formats and in PREIM3D's layout: every tensor
/// as PyTorch reads it, and the bundle's forward against the official e4e forward.
final class EncoderImportTests: XCTestCase {
    func importEncoder(_ name: String, generator: URL? = nil) throws -> EncoderWeights {
        let out = CheckpointFixtures.temporaryFolder(self).appendingPathComponent("enc")
        let r = try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url(name), output: out, generator: generator))
        XCTAssertEqual(r.kind, EncoderManifest.kind)
        return try EncoderWeights.load(from: out)
    }

    func checkForward(_ w: EncoderWeights, file: StaticString = #filePath, line: UInt = #line) throws {
        let io = try SafeTensorsFile(url: CheckpointFixtures.url("e4e.io.safetensors")).all()
        let out = try Encoder4Editing(weights: w).encode(io["image"]!, keepTaps: true)
        let pairs: [(String, Tensor)] = [("styles", out.styles), ("codes", out.codes),
                                         ("c_after_unit6", out.taps[0]), ("c_after_unit20", out.taps[1]), ("c_after_unit23", out.taps[2])]
        for (name, mine) in pairs { CheckpointFixtures.checkParity(name, mine, io[name], file: file, line: line) }
    }

    func checkTensors(_ w: EncoderWeights, golden name: String) {
        let golden = CheckpointFixtures.goldens.tensors[name]!
        var expected = Set(golden.keys.filter { !$0.hasSuffix("num_batches_tracked") && $0 != "<checkpoint latent_avg>" })
        expected.insert("latent_avg")
        XCTAssertEqual(Set(w.tensors.keys), expected, name)
        for (key, hash) in golden where key != "<checkpoint latent_avg>" {
            guard let t = w.tensors[key] else { continue }
            XCTAssertEqual(CheckpointFixtures.digest(t), hash, "\(name): \(key)")
        }
    }

    func testZipCheckpoint() throws {
        let w = try importEncoder("e4e-zip.pt")
        checkTensors(w, golden: "e4e-zip.pt")
        XCTAssertEqual(CheckpointFixtures.digest(w["latent_avg"]), CheckpointFixtures.goldens.tensors["e4e-zip.pt"]!["<checkpoint latent_avg>"])
        // The fixture's 14 rows differ: all of them must be kept.
        let la = w["latent_avg"]
        XCTAssertNotEqual(Array(la.data[0..<16]), Array(la.data[16..<32]))
        try checkForward(w)
    }

    func testLegacyCheckpoint() throws {
        let w = try importEncoder("e4e-legacy.pt")
        checkTensors(w, golden: "e4e-legacy.pt")
        XCTAssertEqual(CheckpointFixtures.digest(w["latent_avg"]), CheckpointFixtures.goldens.tensors["e4e-legacy.pt"]!["<checkpoint latent_avg>"])
        try checkForward(w)
    }

    /// PREIM3D's loader ignores the saved latent_avg and averages the generator's mapping instead.
    func testPreim3dCheckpointTakesTheAverageFromTheGenerator() throws {
        let tmp = CheckpointFixtures.temporaryFolder(self)
        let g = tmp.appendingPathComponent("g")
        _ = try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("eg3d-nrr128.pkl"), output: g))
        XCTAssertThrowsError(try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("preim3d-style.pt"),
                                                                 output: tmp.appendingPathComponent("no")))) { e in
            XCTAssertTrue("\(e)".contains("--generator"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("no").path))
        let w = try importEncoder("preim3d-style.pt", generator: g)
        checkTensors(w, golden: "preim3d-style.pt")
        let golden = CheckpointFixtures.goldens.preim3d_latent_avg
        let ref = Tensor(shape: [14, 16], data: golden.values)
        let err = w["latent_avg"].relativeError(to: ref)
        print("PREIM3D latent_avg vs official mapping: \(err)")
        XCTAssertLessThanOrEqual(err, 1e-5)
    }

    /// numpy's legacy RandomState stream, as PREIM3D draws its z.
    func testNumpyRandomStateMatchesNumpy() {
        var r = NumpyRandomState(seed: 123)
        let first = r.randn(16)
        XCTAssertEqual(first, CheckpointFixtures.goldens.randn123.first16)
        _ = r.randn(10000 * 512 - 20)
        XCTAssertEqual(r.randn(4), CheckpointFixtures.goldens.randn123.last4)
    }
}

/// PREIM3D's released encoder layout (`--encoder_type WPlusEncoder`), made by tools/make_wplus_fixture.py with the
/// official BackboneEncoderUsingLastLayerIntoWPlus at 1/32 width: it imports, and its forward matches the official one.
final class WPlusEncoderImportTests: XCTestCase {
    func testWPlusEncoderImportsAndMatchesTheOfficialForward() throws {
        let tmp = CheckpointFixtures.temporaryFolder(self)
        let g = tmp.appendingPathComponent("g"), out = tmp.appendingPathComponent("wplus")
        _ = try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("eg3d-nrr128.pkl"), output: g))
        let r = try ModelImporter.run(ImportRequest(file: CheckpointFixtures.url("preim3d-wplus.pt"), output: out, generator: g))
        XCTAssertEqual(r.kind, EncoderManifest.kind)
        XCTAssertTrue(r.summary.joined().contains("WPlusEncoder"), "\(r.summary)")
        let manifest = try EncoderManifest.read(out.appendingPathComponent("model.json"))
        XCTAssertEqual(manifest.architecture, "WPlusEncoder")

        let w = try EncoderWeights.load(from: out)
        XCTAssertEqual(w.architecture.head, .wPlus)
        XCTAssertEqual(w.architecture.styleCount, 14)
        XCTAssertEqual(w.architecture.styleWidth, 16)
        // The latent average is PREIM3D's, from the generator (as for its e4e checkpoints), not the saved one.
        let golden = Tensor(shape: [14, 16], data: CheckpointFixtures.goldens.preim3d_latent_avg.values)
        XCTAssertLessThanOrEqual(w["latent_avg"].relativeError(to: golden), 1e-5)

        // The input the fixture script fed the official forward: 0.9 sin(0.05 i + 0.07 j + c).
        var image = Tensor(zeros: [3, 256, 256])
        for c in 0..<3 {
            for i in 0..<256 {
                for j in 0..<256 {
                    image.data[(c * 256 + i) * 256 + j] = 0.9 * Float(sin(Float(0.05) * Float(i) + Float(0.07) * Float(j) + Float(c)))
                }
            }
        }
        let encoded = try Encoder4Editing(weights: w).encode(image)
        let official = try NumpyArray.read(CheckpointFixtures.url("preim3d-wplus-styles.npy"))
        let err = encoded.styles.relativeError(to: Tensor(shape: [14, 16], data: official.data))
        print("WPlusEncoder styles vs the official forward: \(err)")
        XCTAssertLessThanOrEqual(err, 1e-4)
        for k in 0..<encoded.codes.count {
            XCTAssertEqual(encoded.codes.data[k], encoded.styles.data[k] + w["latent_avg"].data[k], accuracy: 1e-6)
        }
        // A WPlusEncoder checkpoint is a full encoder bundle: `EncoderWeights.random` for its architecture loads and runs.
        let random = EncoderWeights.random(w.architecture)
        XCTAssertEqual(try Encoder4Editing(weights: random).encode(image).codes.shape, [14, 16])
    }

    /// Another pSp encoder type is refused by name.
    func testOtherEncoderTypesAreRefusedByName() throws {
        var p = PickleBytes()
        p.op(PickleBytes.emptyDict)
        p.str("opts"); p.op(PickleBytes.emptyDict); p.str("encoder_type"); p.str("BackboneEncoderUsingLastLayerIntoW"); p.op(PickleBytes.setItem)
        p.op(PickleBytes.setItem)
        p.str("state_dict"); p.op(PickleBytes.emptyDict); p.op(PickleBytes.setItem)
        p.op(PickleBytes.stop)
        let url = CheckpointFixtures.temporaryFolder(self).appendingPathComponent("psp.pt")
        try Data(p.b).write(to: url)
        XCTAssertThrowsError(try ModelImporter.run(ImportRequest(file: url, output: url.deletingLastPathComponent().appendingPathComponent("o")))) { e in
            XCTAssertTrue("\(e)".contains("encoder_type 'BackboneEncoderUsingLastLayerIntoW'; Encoder4Editing, WPlusEncoder, GradualStyleEncoder are supported"), "\(e)")
        }
    }
}
