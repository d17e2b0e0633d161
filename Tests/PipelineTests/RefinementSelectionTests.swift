import Foundation
import Logging
import Models
import Tensors
import XCTest
@testable import Pipeline

/// When frames render from refined tri-planes: only with an encoder bundle that holds a tri-plane encoder, and only
/// when the avatar is the source generator (a style generator takes the codes alone).
final class RefinementSelectionTests: XCTestCase {
    func testRefinementNeedsATriPlaneEncoderAndTheSourceStyle() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-refinement-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        setenv("AVATARIZE_CACHE", dir.appendingPathComponent("cache").path, 1)
        let demo = try DemoModelFamily.ensure()
        // The demo encoder's weights as pSp's GradualStyleEncoder, with a narrow random TriPlaneNet v2 refiner.
        let encoder = dir.appendingPathComponent("triplanenet")
        try FileManager.default.createDirectory(at: encoder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: demo.encoder.appendingPathComponent(ModelBundle.weightsName),
                                         to: encoder.appendingPathComponent(ModelBundle.weightsName))
        var manifest = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: demo.encoder.appendingPathComponent("model.json"))) as? [String: Any])
        manifest["architecture"] = EncoderHead.gradualStyle.rawValue
        manifest["preprocessing"] = "bilinear-no-antialias"
        try JSONSerialization.data(withJSONObject: manifest).write(to: encoder.appendingPathComponent("model.json"))
        var trunk = EncoderArchitecture.released(styleCount: 0)
        trunk.inputChannels = 9
        trunk.styleWidth = 0
        trunk.stemWidth = 4
        trunk.stageWidths = [4, 8, 8, 8]
        trunk.seHidden = trunk.seHidden.map { _ in 2 }
        let refiner = TriPlaneRefinerArchitecture(version: .v2, upsampling: .nearest, trunk: trunk, stepWidths: [4, 4, 4, 4])
        try SafeTensorsWriter.write(refiner.randomWeights(), to: encoder.appendingPathComponent(TriPlaneRefiner.bundleFileName))

        let logger = Logger(label: "test")
        let plain = try AvatarModels.load(.init(source: demo.source, encoder: demo.encoder), logger: logger)
        XCTAssertNil(plain.refinerArchitecture)
        XCTAssertFalse(plain.refinesPlanes)
        XCTAssertNil(try plain.makeRefinement())

        let refining = try AvatarModels.load(.init(source: demo.source, encoder: encoder), logger: logger)
        XCTAssertEqual(refining.refinerArchitecture, refiner)
        XCTAssertTrue(refining.refinesPlanes)
        // The encoder's own loader's resize, from model.json; the demo encoder samples its crop directly.
        XCTAssertEqual(refining.encoderPreprocessing, .bilinearNoAntialias)
        XCTAssertEqual(plain.encoderPreprocessing, .direct)
        XCTAssertEqual(refining.encoderLayout, .irse(try EncoderWeights.load(from: encoder).architecture))
        if case .irse(let a) = refining.encoderLayout { XCTAssertEqual(a.head, .gradualStyle) } else { XCTFail("an IR-SE50 layout") }

        manifest["preprocessing"] = "lanczos"
        try JSONSerialization.data(withJSONObject: manifest).write(to: encoder.appendingPathComponent("model.json"))
        XCTAssertThrowsError(try AvatarModels.load(.init(source: demo.source, encoder: encoder), logger: logger)) {
            XCTAssertTrue("\($0)".contains("'preprocessing' must be one of direct, pil-bilinear"), "\($0)")
        }
        manifest["preprocessing"] = "bilinear-no-antialias"
        try JSONSerialization.data(withJSONObject: manifest).write(to: encoder.appendingPathComponent("model.json"))

        let styled = try AvatarModels.load(.init(source: demo.source, encoder: encoder, style: try XCTUnwrap(demo.styles["caricature"]).path), logger: logger)
        XCTAssertNotNil(styled.refinerArchitecture)
        XCTAssertFalse(styled.refinesPlanes)
        XCTAssertNil(try styled.makeRefinement())
    }
}
