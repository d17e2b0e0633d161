import Foundation
import Tensors
import XCTest
@testable import Models

/// Staged parity of Encoder4Editing against the official e4e forward on the narrow fixture
/// (Fixtures/e4e/README.md), plus strict loading.
final class EncoderParityTests: XCTestCase {
    static let tolerance: Float = 1e-4

    static func fixture(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures/e4e/\(name)", withExtension: nil)!
    }

    struct Run {
        let io: [String: Tensor]
        let encoder: Encoder4Editing
        let output: EncoderOutput
    }

    nonisolated(unsafe) static var cached: Run?

    static func run() throws -> Run {
        if let cached { return cached }
        let io = try SafeTensorsFile(url: fixture("io.safetensors")).all()
        let encoder = try Encoder4Editing(contentsOf: fixture("weights.safetensors"))
        let out = try encoder.encode(io["image"]!, keepTaps: true)
        let r = Run(io: io, encoder: encoder, output: out)
        cached = r
        return r
    }

    func check(_ name: String, _ mine: Tensor, _ reference: Tensor?, file: StaticString = #filePath, line: UInt = #line) {
        guard let reference else { return XCTFail("fixture lacks \(name)", file: file, line: line) }
        XCTAssertEqual(mine.count, reference.count, "\(name) size", file: file, line: line)
        guard mine.count == reference.count else { return }
        let err = mine.relativeError(to: reference)
        print("parity \(name): max|a-b|/max|b| = \(err)")
        XCTAssertLessThanOrEqual(err, Self.tolerance, "\(name) relative error \(err)", file: file, line: line)
        XCTAssertGreaterThan(reference.maxAbs, 0, "\(name): reference is all zeros", file: file, line: line)
    }

    func testArchitectureIsReadFromTheWeights() throws {
        let a = try Self.run().encoder.architecture
        XCTAssertEqual(a.stemWidth, 4)
        XCTAssertEqual(a.stageWidths, [4, 8, 16, 32])
        XCTAssertEqual(a.styleCount, 14)
        XCTAssertEqual(a.styleWidth, 32)
        // config.json: SE hidden = max(1, min(16, channels / 2)) in the fixture.
        XCTAssertEqual(a.seHidden[0], 2)
        XCTAssertEqual(a.seHidden[3], 4)
        XCTAssertEqual(a.seHidden[7], 8)
        XCTAssertEqual(a.seHidden[21], 2)
        XCTAssertEqual(a.tapChannels, [8, 16, 32])
    }

    func testTapAfterUnit6() throws {
        let r = try Self.run()
        check("c_after_unit6", r.output.taps[0], r.io["c_after_unit6"])
    }

    func testTapAfterUnit20() throws {
        let r = try Self.run()
        check("c_after_unit20", r.output.taps[1], r.io["c_after_unit20"])
    }

    func testTapAfterUnit23() throws {
        let r = try Self.run()
        check("c_after_unit23", r.output.taps[2], r.io["c_after_unit23"])
    }

    func testStyles() throws {
        let r = try Self.run()
        check("styles", r.output.styles, r.io["styles"])
    }

    func testCodes() throws {
        let r = try Self.run()
        check("codes", r.output.codes, r.io["codes"])
        // codes = styles + latent_avg, and the average is not zero in the fixture.
        XCTAssertNotEqual(r.output.codes, r.output.styles)
    }

    func testOutputsDoNotDependOnKeepingTaps() throws {
        let r = try Self.run()
        let plain = try r.encoder.encode(r.io["image"]!)
        XCTAssertTrue(plain.taps.isEmpty)
        XCTAssertEqual(plain.codes, r.output.codes)
    }

    // MARK: strict loading

    static func fixtureTensors() throws -> [String: Tensor] {
        try SafeTensorsFile(url: fixture("weights.safetensors")).all()
    }

    func testEveryProblemIsReportedAtOnceWithShapes() throws {
        var t = try Self.fixtureTensors()
        t.removeValue(forKey: "body.5.res_layer.3.weight")
        t.removeValue(forKey: "styles.13.linear.bias")
        t["styles.2.convs.2.weight"] = Tensor(zeros: [32, 32, 1, 1])
        t["decoder.synthesis.b4.const"] = Tensor(zeros: [2, 2])
        XCTAssertThrowsError(try EncoderWeights(file: "narrow.safetensors", tensors: t)) { error in
            guard case let EncoderLoadError.weights(file, problems) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "narrow.safetensors")
            XCTAssertEqual(problems, [  // sorted by name
                .missing(name: "body.5.res_layer.3.weight", expected: [8, 8, 3, 3]),
                .unexpected(name: "decoder.synthesis.b4.const", shape: [2, 2]),
                .missing(name: "styles.13.linear.bias", expected: [32]),
                .misshaped(name: "styles.2.convs.2.weight", expected: [32, 32, 3, 3], found: [32, 32, 1, 1]),
            ])
            let text = "\(error)"
            XCTAssertTrue(text.contains("narrow.safetensors"), text)
            XCTAssertTrue(text.contains("styles.2.convs.2.weight: expected shape [32, 32, 3, 3], found [32, 32, 1, 1]"), text)
        }
    }

    func testAMissingStageIsNamed() throws {
        var t = try Self.fixtureTensors()
        for k in t.keys where k.hasPrefix("body.7.res_layer.") { t.removeValue(forKey: k) }
        XCTAssertThrowsError(try EncoderWeights(file: "cut.safetensors", tensors: t)) { error in
            guard case let EncoderLoadError.cannotInferArchitecture(file, reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "cut.safetensors")
            XCTAssertTrue(reason.contains("body.7.res_layer.1.weight"), reason)
        }
    }

    func testCheckpointPrefixesAreRenamed() throws {
        let t = try Self.fixtureTensors()
        var prefixed: [String: Tensor] = [:]
        for (k, v) in t { prefixed[(k.hasPrefix("styles.") ? "module.encoder." : "encoder.") + k] = v }
        let w = try EncoderWeights(file: "ckpt", tensors: prefixed)
        XCTAssertEqual(Set(w.tensors.keys), Set(t.keys))
        let r = try Self.run()
        let out = try Encoder4Editing(weights: w).encode(r.io["image"]!)
        XCTAssertEqual(out.codes, r.output.codes)

        var clash = t
        clash["encoder.latent_avg"] = t["latent_avg"]
        XCTAssertThrowsError(try EncoderWeights(file: "ckpt", tensors: clash)) { error in
            XCTAssertEqual(error as? EncoderLoadError, .duplicateKey(file: "ckpt", name: "latent_avg", sources: ["encoder.latent_avg", "latent_avg"]))
        }
    }

    func testBundleFolderWithManifest() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("e4e-bundle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: Self.fixture("weights.safetensors"), to: dir.appendingPathComponent("weights.safetensors"))
        func manifest(_ json: String) throws { try json.write(to: dir.appendingPathComponent("model.json"), atomically: true, encoding: .utf8) }

        try manifest(#"{"kind": "e4e-encoder", "architecture": "Encoder4Editing", "backbone": "ir_se50", "style_count": 14, "w_dim": 32, "input_size": 256}"#)
        let enc = try Encoder4Editing(contentsOf: dir)
        XCTAssertEqual(enc.architecture.styleCount, 14)

        try manifest(#"{"kind": "e4e-encoder", "style_count": 18, "w_dim": 32}"#)
        XCTAssertThrowsError(try Encoder4Editing(contentsOf: dir)) { error in
            guard case let EncoderLoadError.badManifest(file, reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(file.hasSuffix("model.json"))
            XCTAssertTrue(reason.contains("style_count 18"), reason)
        }
        try manifest(#"{"kind": "eg3d-generator"}"#)
        XCTAssertThrowsError(try Encoder4Editing(contentsOf: dir))
        // Counts are integers: a fraction, a boolean or a number past Int is named, not truncated or wrapped.
        for (json, problem) in [(#""w_dim": 32.5"#, "'w_dim' 32.5 is not a whole number"),
                                (#""style_count": true"#, "'style_count' true is a boolean, not an integer"),
                                (#""input_size": 1e30"#, "'input_size' 1e+30 does not fit in a 64-bit integer")] {
            try manifest(#"{"kind": "e4e-encoder", "# + json + "}")
            XCTAssertThrowsError(try Encoder4Editing(contentsOf: dir)) { error in
                guard case let EncoderLoadError.badManifest(_, reason) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(reason, problem)
            }
        }

        try FileManager.default.removeItem(at: dir.appendingPathComponent("model.json"))
        XCTAssertThrowsError(try Encoder4Editing(contentsOf: dir)) { error in
            XCTAssertEqual(error as? EncoderLoadError, .notAnEncoderBundle(path: dir.path))
        }
    }

    func testWrongImageShapeIsATypedError() throws {
        let r = try Self.run()
        XCTAssertThrowsError(try r.encoder.encode(Tensor(zeros: [3, 128, 128]))) { error in
            XCTAssertEqual(error as? EncoderInputError, .badImageShape(found: [3, 128, 128], expected: [3, 256, 256]))
        }
    }

    func testRandomWeightsFollowTheLayoutAndGiveFiniteCodes() throws {
        let r = try Self.run()
        let arch = r.encoder.architecture
        let w = EncoderWeights.random(arch, seed: 5)
        XCTAssertEqual(arch.check(shapes: w.tensors.mapValues(\.shape)), [])
        XCTAssertEqual(w["body.3.res_layer.0.running_var"].data, [Float](repeating: 1, count: 4))
        XCTAssertEqual(w["input_layer.2.weight"].data, [Float](repeating: 0.25, count: 4))
        let enc = Encoder4Editing(weights: w)
        let a = try enc.encode(r.io["image"]!)
        XCTAssertTrue(a.codes.data.allSatisfy(\.isFinite))
        XCTAssertGreaterThan(a.codes.maxAbs, 0)
        let flipped = Tensor(shape: [3, 256, 256], data: r.io["image"]!.data.reversed())
        XCTAssertNotEqual(try enc.encode(flipped).codes, a.codes)
    }

    // MARK: the released layout

    func testReleasedLayoutMatchesTheReference() {
        let a = EncoderArchitecture.released(styleCount: 14)
        let shapes = a.expectedShapes()
        XCTAssertEqual(shapes["input_layer.0.weight"], [64, 3, 3, 3])
        XCTAssertEqual(shapes["body.0.res_layer.5.fc1.weight"], [4, 64, 1, 1])
        XCTAssertNil(shapes["body.0.shortcut_layer.0.weight"], "unit 0 keeps 64 channels: MaxPool2d(1, 2) shortcut")
        XCTAssertEqual(shapes["body.3.shortcut_layer.0.weight"], [128, 64, 1, 1])
        XCTAssertEqual(shapes["body.23.res_layer.3.weight"], [512, 512, 3, 3])
        XCTAssertNil(shapes["body.24.res_layer.3.weight"])
        XCTAssertEqual(shapes["styles.2.convs.6.weight"], [512, 512, 3, 3])
        XCTAssertNil(shapes["styles.2.convs.8.weight"], "16² blocks have 4 convs")
        XCTAssertEqual(shapes["styles.6.convs.8.weight"], [512, 512, 3, 3])
        XCTAssertEqual(shapes["styles.13.convs.10.weight"], [512, 512, 3, 3])
        XCTAssertEqual(shapes["latlayer1.weight"], [512, 256, 1, 1])
        XCTAssertEqual(shapes["latlayer2.weight"], [512, 128, 1, 1])
        XCTAssertEqual(shapes["latent_avg"], [14, 512])
        // Inferring the layout back from its own shapes gives the same layout.
        XCTAssertEqual(try EncoderArchitecture.infer(from: shapes, file: "-"), a)
        // ≈ 119 GFLOP for one 256² frame (issue 5).
        XCTAssertEqual(a.flopsPerImage / 1e9, 119, accuracy: 2)
    }
}
