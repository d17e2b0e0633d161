import Foundation
import Tensors
import XCTest
@testable import Models

/// Strict loading, bundles, architecture inference, cameras and the S space (no forward passes).
final class GeneratorLoadingTests: XCTestCase {
    static let weightsURL = GeneratorParityTests.fixture("weights.safetensors")

    func fixtureWeights() throws -> Weights { try Weights(safetensors: Self.weightsURL) }

    func testInfersTheFixtureArchitectureAndMatchesKeysTxt() throws {
        let w = try fixtureWeights()
        let arch = try GeneratorArchitecture.infer(shapes: w.shapes, renderingResolution: 128, file: "f")
        XCTAssertEqual(arch, GeneratorArchitecture.ffhq512(channelMax: 32))
        XCTAssertEqual(arch.numWs, 14)
        XCTAssertEqual(arch.planeChannels, 32)
        XCTAssertEqual(arch.imageResolution, 512)
        XCTAssertEqual(arch.check(shapes: w.shapes), [])
        // keys.txt lists the reference state dict: 176 entries, exactly our expected key set.
        let keys = try String(contentsOf: GeneratorParityTests.fixture("keys.txt"), encoding: .utf8)
            .split(separator: "\n").map { String($0.split(separator: "\t")[0]) }
        XCTAssertEqual(keys.count, 176)
        XCTAssertEqual(Set(keys), Set(arch.expectedShapes().map(\.0)))
    }

    func testFullSizeArchitectureCounts() {
        let arch = GeneratorArchitecture.ffhq512()
        // 30.66 M parameters, not counting the buffers (noise_const, resample_filter, w_avg).
        let buffers = ["noise_const", "resample_filter", "w_avg"]
        let params = arch.expectedShapes().filter { e in !buffers.contains { e.0.hasSuffix($0) } }
            .reduce(0) { $0 + $1.1.reduce(1, *) }
        XCTAssertEqual(Double(params) / 1e6, 30.66, accuracy: 0.01)
        XCTAssertEqual(arch.expectedShapes().count, 176)
        let styleDims = arch.backbone.reduce(0) { $0 + ($1.inChannels == 0 ? 0 : $1.inChannels) + 2 * $1.outChannels }
        XCTAssertEqual(styleDims, 8704)
        let srDims = arch.superresolution.reduce(0) { $0 + $1.inChannels + 2 * $1.outChannels }
        XCTAssertEqual(srDims, 1056)
        let f = arch.flops(options: GeneratorOptions())
        XCTAssertEqual(f["backbone"]! / 1e9, 94, accuracy: 2)
        XCTAssertEqual(f["rendering"]! / 1e9, 13, accuracy: 0.5)
        XCTAssertEqual(f["superresolution"]! / 1e9, 198, accuracy: 3)
    }

    func testStrictLoadingReportsEveryProblemAtOnce() throws {
        var t = try fixtureWeights().tensors
        t.removeValue(forKey: "decoder.net.0.bias")
        t["backbone.synthesis.b16.conv0.weight"] = Tensor(zeros: [32, 32, 3, 1])
        t["backbone.synthesis.b16.extra"] = Tensor(zeros: [2])
        XCTAssertThrowsError(try TriPlaneGenerator(weights: Weights(file: "bad.safetensors", tensors: t))) { e in
            guard case let .weights(file, problems)? = e as? ModelError else { return XCTFail("\(e)") }
            XCTAssertEqual(file, "bad.safetensors")
            XCTAssertEqual(Set(problems), [
                .missing(name: "decoder.net.0.bias", expected: [64]),
                .misshaped(name: "backbone.synthesis.b16.conv0.weight", expected: [32, 32, 3, 3], found: [32, 32, 3, 1]),
                .unexpected(name: "backbone.synthesis.b16.extra", shape: [2]),
            ])
            let message = "\(e)"
            XCTAssertTrue(message.contains("bad.safetensors") && message.contains("decoder.net.0.bias"), message)
        }
        t = try fixtureWeights().tensors
        t.removeValue(forKey: "decoder.net.2.weight")
        XCTAssertThrowsError(try TriPlaneGenerator(weights: Weights(file: "x", tensors: t))) { e in
            XCTAssertEqual(e as? ModelError, .cannotInferArchitecture(file: "x", reason: "tensor 'decoder.net.2.weight' is missing"))
        }
    }

    func testBundleFolderAndManifest() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-bundle-\(UUID().uuidString)")
        let bundleDir = dir.appendingPathComponent("toon")
        try FileManager.default.createDirectory(at: bundleDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: Self.weightsURL, to: bundleDir.appendingPathComponent("weights.safetensors"))
        let json = """
        {"kind": "eg3d-generator", "name": "toon-test", "role": "style-generator", "style": "cartoon",
         "architecture": {"superresolution_conv_clamp": null, "rendering": {"depth_resolution": 24}},
         "camera": {"radius": 2.5}, "truncation_psi": 0.5, "license": "test"}
        """
        try json.write(to: bundleDir.appendingPathComponent("model.json"), atomically: true, encoding: .utf8)
        let b = try ModelBundle.open(bundleDir)
        XCTAssertEqual(b.manifest.name, "toon-test")
        XCTAssertEqual(b.manifest.role, "style-generator")
        XCTAssertNil(b.manifest.architecture.superresolutionConvClamp)
        XCTAssertEqual(b.manifest.architecture.rendering.depthResolution, 24)
        XCTAssertEqual(b.manifest.architecture.rendering.depthResolutionImportance, 48)
        XCTAssertEqual(b.manifest.architecture.mappingLrMultiplier, 0.01)
        XCTAssertEqual(b.manifest.camera.radius, 2.5)
        XCTAssertEqual(b.manifest.camera.focal, 4.2647)
        XCTAssertEqual(b.manifest.truncationPsi, 0.5)
        let g = try b.loadGenerator()
        XCTAssertEqual(g.options.rendering.depthResolution, 24)

        let listed = ModelBundle.discover(in: [dir])
        XCTAssertEqual(listed.map(\.name), ["toon-test"])
        XCTAssertEqual(listed.first?.kind, "eg3d-generator")
        XCTAssertNil(listed.first?.problem)

        try #"{"kind": "e4e-encoder"}"#.write(to: bundleDir.appendingPathComponent("model.json"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ModelBundle.open(bundleDir)) { e in
            guard case .badManifest? = e as? ModelError else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try ModelBundle.open(dir.appendingPathComponent("nothing"))) { e in
            guard case .notABundle? = e as? ModelError else { return XCTFail("\(e)") }
        }
        // A bare weights file opens with the released defaults.
        let bare = try ModelBundle.open(Self.weightsURL)
        XCTAssertEqual(bare.manifest.architecture, GeneratorOptions())
    }

    func testFrontalCameraMatchesTheFixture() throws {
        let io = try SafeTensorsFile(url: GeneratorParityTests.fixture("io.safetensors"))
        let ref = try io.tensor("c_mapping").data
        let mine = CameraDefaults().frontal.vector
        for (a, b) in zip(mine, ref) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        // Yaw turns the camera about the y axis, staying on the 2.7 sphere around the origin.
        let c = GeneratorCamera.lookAt(yaw: 0.4).cam2world
        XCTAssertEqual((c[3] * c[3] + c[7] * c[7] + c[11] * c[11]).squareRoot(), 2.7, accuracy: 1e-5)
        XCTAssertGreaterThan(c[3], 0)
    }

    func testStyleSpaceNamesAndOffsets() throws {
        let g = try TriPlaneGenerator(weights: fixtureWeights())
        let ws = Tensor(shape: [14, 512], data: (0..<(14 * 512)).map { Float($0 % 7) * 0.1 })
        var s = g.styles(ws: ws)
        XCTAssertEqual(s.names.count, 26)
        XCTAssertEqual(s.names.first, "backbone.synthesis.b4.conv1")
        XCTAssertEqual(s.names.last, "superresolution.block1.torgb")
        XCTAssertEqual(s.dimension, 20 * 32 + 32 + 256 + 256 + 256 + 128 + 128)
        // Styles are the affine outputs: A(w) = w · W_aᵀ/√512 + b_a.
        let w = try fixtureWeights()
        let aw = w["backbone.synthesis.b8.conv0.affine.weight"], ab = w["backbone.synthesis.b8.conv0.affine.bias"]
        var expect: Float = ab.data[3]
        for j in 0..<512 { expect += ws.data[1 * 512 + j] * aw.data[3 * 512 + j] / Float(512).squareRoot() }
        XCTAssertEqual(s["backbone.synthesis.b8.conv0"]![3], expect, accuracy: 1e-4)
        let before = s["backbone.synthesis.b16.conv1"]!
        s.offset("backbone.synthesis.b16.conv1", by: [Float](repeating: 1, count: 32), scale: 0.5)
        XCTAssertEqual(s["backbone.synthesis.b16.conv1"]![0], before[0] + 0.5, accuracy: 1e-6)
    }
}
