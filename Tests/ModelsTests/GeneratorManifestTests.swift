import Foundation
import XCTest
@testable import Models

/// model.json hyper-parameters are checked where they are read: each value the networks cannot use is
/// refused with the file and the key.
final class GeneratorManifestTests: XCTestCase {
    /// The reason `decodeManifest` gives for `json`, or nil when it reads.
    func refusal(_ json: String) -> String? {
        do {
            _ = try ModelBundle.decodeManifest(Data(json.utf8), path: "toon/model.json")
            return nil
        } catch let ModelError.badManifest(file, reason) {
            XCTAssertEqual(file, "toon/model.json")
            return reason
        } catch { return "wrong error: \(error)" }
    }

    func rendering(_ entry: String) -> String? { refusal(#"{"architecture": {"rendering": {"# + entry + "}}}") }
    func architecture(_ entry: String) -> String? { refusal(#"{"architecture": {"# + entry + "}}") }

    func testRenderingSettingsOutsideTheirRangesAreNamed() {
        XCTAssertEqual(rendering(#""ray_start": 0"#), "architecture.rendering.ray_start is 0; it must be between 0.001 and 100")
        XCTAssertEqual(rendering(#""ray_start": -1.5"#), "architecture.rendering.ray_start is -1.5; it must be between 0.001 and 100")
        XCTAssertEqual(rendering(#""ray_end": 2"#), "architecture.rendering.ray_end is 2; it must be greater than ray_start (2.25)")
        XCTAssertEqual(rendering(#""ray_end": 1e39"#), "architecture.rendering.ray_end is 1e+39; it must be between 0.001 and 100")
        XCTAssertEqual(rendering(#""depth_resolution": 2"#), "architecture.rendering.depth_resolution is 2; it must be between 4 and 1024")
        XCTAssertEqual(rendering(#""depth_resolution": 24.5"#), "architecture.rendering.depth_resolution is 24.5; it must be a whole number")
        XCTAssertEqual(rendering(#""depth_resolution": true"#), "architecture.rendering.depth_resolution must be a number")
        XCTAssertEqual(rendering(#""depth_resolution_importance": 0"#),
                       "architecture.rendering.depth_resolution_importance is 0; it must be between 1 and 1024")
        XCTAssertEqual(rendering(#""depth_resolution_importance": 1e30"#),
                       "architecture.rendering.depth_resolution_importance is 1e+30; it must be between 1 and 1024")
        XCTAssertEqual(rendering(#""box_warp": 0"#), "architecture.rendering.box_warp is 0; it must be between 0.001 and 100")
        XCTAssertEqual(rendering(#""box_warp": "1""#), "architecture.rendering.box_warp must be a number")
    }

    func testArchitectureSettingsOutsideTheirRangesAreNamed() {
        XCTAssertEqual(architecture(#""neural_rendering_resolution": 0"#),
                       "architecture.neural_rendering_resolution is 0; it must be between 1 and 1024")
        XCTAssertEqual(architecture(#""neural_rendering_resolution": 64.5"#),
                       "architecture.neural_rendering_resolution is 64.5; it must be a whole number")
        XCTAssertEqual(architecture(#""neural_rendering_resolution": 4096"#),
                       "architecture.neural_rendering_resolution is 4096; it must be between 1 and 1024")
        XCTAssertEqual(architecture(#""superresolution_input_resolution": -128"#),
                       "architecture.superresolution_input_resolution is -128; it must be between 1 and 1024")
        XCTAssertEqual(architecture(#""superresolution_conv_clamp": 0"#),
                       "architecture.superresolution_conv_clamp is 0; it must be between 1 and 65504")
        XCTAssertEqual(architecture(#""backbone_noise_mode": "random""#),
                       #"architecture.backbone_noise_mode is "random"; it must be "const" or "none""#)
        XCTAssertEqual(architecture(#""mapping_lr_multiplier": 0"#),
                       "architecture.mapping_lr_multiplier is 0; it must be between 1e-06 and 100")
    }

    func testTruncationAndCameraOutsideTheirRangesAreNamed() {
        XCTAssertEqual(refusal(#"{"truncation_psi": 1.5}"#), "truncation_psi is 1.5; it must be between 0 and 1")
        XCTAssertEqual(refusal(#"{"truncation_psi": "0.7"}"#), "truncation_psi must be a number")
        XCTAssertEqual(refusal(#"{"truncation_cutoff": -1}"#), "truncation_cutoff is -1; it must be between 0 and 1024")
        XCTAssertEqual(refusal(#"{"truncation_cutoff": 7.5}"#), "truncation_cutoff is 7.5; it must be a whole number")
        XCTAssertEqual(refusal(#"{"camera": {"focal": 0}}"#), "camera.focal is 0; it must be between 0.1 and 100")
        XCTAssertEqual(refusal(#"{"camera": {"radius": -2.7}}"#), "camera.radius is -2.7; it must be between 0.1 and 100")
        XCTAssertEqual(refusal(#"{"camera": {"pivot": [0, 0.2]}}"#),
                       "camera.pivot is [0, 0.2]; it must be three coordinates (x, y, z) between -10 and 10")
        XCTAssertEqual(refusal("[1, 2]"), "not a JSON object")
    }

    /// What the importer writes (the released defaults, and explicit nulls for "no clamp") reads back.
    func testDefaultsAndEdgesOfTheRangesRead() throws {
        let data = try JSONEncoder().encode(GeneratorManifest())
        XCTAssertEqual(try ModelBundle.decodeManifest(data, path: "m"), GeneratorManifest())
        XCTAssertNil(rendering(#""ray_start": 0.001, "ray_end": 100, "depth_resolution": 4, "depth_resolution_importance": 1024"#))
        XCTAssertNil(refusal(#"{"truncation_psi": 0, "truncation_cutoff": 0, "architecture": {"backbone_conv_clamp": null, "neural_rendering_resolution": 1024}}"#))
        let m = try ModelBundle.decodeManifest(Data(#"{"architecture": {"superresolution_conv_clamp": null, "backbone_conv_clamp": 256}}"#.utf8), path: "m")
        XCTAssertNil(m.architecture.superresolutionConvClamp)
        XCTAssertEqual(m.architecture.backboneConvClamp, 256)
    }
}
