import Foundation
import Tensors
import XCTest
@testable import Models

/// Staged parity against the official EG3D code's outputs on the narrow fixture (Fixtures/README.md).
final class GeneratorParityTests: XCTestCase {
    static let tolerance: Float = 1e-4

    static func fixture(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures/eg3d/\(name)", withExtension: nil)!
    }

    /// Built once: loading and the forward pass are shared by all stage checks.
    struct Run {
        let io: [String: Tensor]
        let generator: TriPlaneGenerator
        let ws: Tensor
        let output: GeneratorOutput
    }

    nonisolated(unsafe) static var cached: Run?

    static func run() throws -> Run {
        if let cached { return cached }
        let io = try SafeTensorsFile(url: fixture("io.safetensors")).all()
        let g = try TriPlaneGenerator(weights: Weights(safetensors: fixture("weights.safetensors")))
        let ws = g.map(z: io["z"]!.data, camera: io["c_mapping"]!.data, psi: 0.7, cutoff: 14)
        // Downstream stages start from the reference ws so each stage is judged on its own inputs.
        let out = g.synthesize(ws: io["ws"]!.reshaped([14, 512]), camera: io["c_render"]!.data)
        let r = Run(io: io, generator: g, ws: ws, output: out)
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
    }

    func testMappingWs() throws {
        let r = try Self.run()
        check("ws", r.ws, r.io["ws"])
    }

    func testBackbonePlanes() throws {
        let r = try Self.run()
        let p = r.output.planes
        let ch = p.shape[0], res = p.shape[1]
        var sub = [Float](), row = [Float]()
        for c in 0..<ch {
            for y in stride(from: 0, to: res, by: 16) { for x in stride(from: 0, to: res, by: 16) { sub.append(p.data[(c * res + y) * res + x]) } }
            for x in 0..<res { row.append(p.data[(c * res + 128) * res + x]) }
        }
        check("planes_sub16", Tensor(shape: [ch, res / 16, res / 16], data: sub), r.io["planes_sub16"])
        check("planes_row128", Tensor(shape: [ch, res], data: row), r.io["planes_row128"])
    }

    func testRays() throws {
        let r = try Self.run()
        check("ray_origins", r.output.rayOrigins, r.io["ray_origins"])
        check("ray_directions", r.output.rayDirections, r.io["ray_directions"])
    }

    func testRendering() throws {
        let r = try Self.run()
        check("feature_image", r.output.featureImage, r.io["feature_image"])
        check("image_raw", r.output.imageRaw, r.io["image_raw"])
        check("image_depth", r.output.imageDepth, r.io["image_depth"])
    }

    func testSuperResolutionEndToEnd() throws {
        let r = try Self.run()
        check("image", r.output.image, r.io["image"])
    }

    func testSuperResolutionFromReferenceFeatures() throws {
        let r = try Self.run()
        let g = r.generator
        let styles = g.styles(ws: r.io["ws"]!.reshaped([14, 512]))
        let feat = r.io["feature_image"]!.reshaped([32, 128, 128])
        let rgb = Tensor(shape: [3, 128, 128], data: Array(feat.data[0..<(3 * 128 * 128)]))
        let nb = g.synthesis.styleNames.count
        let image = g.superresolution.forward(rgb: rgb, features: feat, styles: styles.values[nb...])
        check("image (from reference feature_image)", image, r.io["image"])
    }
}
