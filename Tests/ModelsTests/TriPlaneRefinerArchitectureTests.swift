import Tensors
import XCTest
@testable import Models

/// The released TriPlaneNet tri-plane encoder layouts, against the widths its official constructors hard-code
/// (anantarb/triplanenet triplane_encoders.py: Up(1024, 512, 1), Up(384, 384), Up(224, 256), Up(128, 96), final_head
/// Conv2d(24, 96); triplane_encoders_v2.py with --use_pixelshuffle the same and final_head_two Conv2d(120, 96), without
/// it Up(1024, 512), Up(768, 256), Up(384, 128), Up(192, 64) and Conv2d(160, 96)).
final class TriPlaneRefinerArchitectureTests: XCTestCase {
    /// What `bench pipeline --full-size --triplanenet` uses, made once (full width: 30 million numbers).
    static let v2Random = TriPlaneRefinerArchitecture.released(.v2).randomWeights()

    func testReleasedLayoutsHaveTheOfficialWidths() throws {
        let cases: [(TriPlaneRefinerArchitecture, [Int], [Int], Int, Int)] = [
            (.released(.v1), [1024, 384, 224, 128], [512, 384, 256, 96], 24, 6),
            (.released(.v2, upsampling: .pixelShuffle), [1024, 384, 224, 128], [512, 384, 256, 96], 120, 9),
            (.released(.v2, upsampling: .nearest), [1024, 768, 384, 192], [512, 256, 128, 64], 160, 9),
        ]
        for (a, ins, outs, head, input) in cases {
            XCTAssertEqual(a.steps.map(\.inChannels), ins, a.summary)
            XCTAssertEqual(a.steps.map(\.outChannels), outs, a.summary)
            XCTAssertEqual(a.headInputChannels, head, a.summary)
            XCTAssertEqual(a.expectedShapes()["input_layer.0.weight"], [64, input, 3, 3], a.summary)
            // Its shapes read back as the same layout, with nothing missing or extra.
            let shapes = a.expectedShapes()
            XCTAssertEqual(try TriPlaneRefinerArchitecture.infer(from: shapes, file: "layout"), a, a.summary)
            XCTAssertEqual(a.check(shapes: shapes), [], a.summary)
        }
        let w = Self.v2Random
        XCTAssertEqual(TriPlaneRefinerArchitecture.released(.v2).check(shapes: w.mapValues(\.shape)), [])
        XCTAssertEqual(w["up1.conv.double_conv.0.running_var"]?.data.allSatisfy { $0 == 1 }, true)
        XCTAssertEqual(w["up1.conv.double_conv.0.bias"]?.data.allSatisfy { $0 == 0 }, true)
        XCTAssertEqual(w["up1.conv.double_conv.2.weight"]?.data.allSatisfy { $0 == 0.25 }, true)
        // Convs at PyTorch's default scale: U(±1/√fan_in), fan_in = 1024 · 9 for up1's first conv.
        let bound = 1 / Float(1024 * 9).squareRoot()
        let conv = try XCTUnwrap(w["up1.conv.double_conv.1.weight"]).data
        XCTAssertLessThanOrEqual(conv.map(abs).max()!, bound)
        XCTAssertGreaterThan(conv.map(abs).max()!, 0.9 * bound)
    }

    /// A random full-width v2 refiner runs at a reduced size and returns planes of the input's size, finite.
    func testRandomWeightsRun() throws {
        let r = try TriPlaneRefiner(file: "random", tensors: Self.v2Random, side: 32)
        var x = Tensor(zeros: [9, 32, 32]), planes = Tensor(zeros: [96, 32, 32])
        for i in 0..<x.count { x.data[i] = sin(Float(i) * 0.01) }
        for i in 0..<planes.count { planes.data[i] = cos(Float(i) * 0.003) }
        let out = try r(x, planes: planes)
        XCTAssertEqual(out.shape, [96, 32, 32])
        XCTAssertTrue(out.data.allSatisfy(\.isFinite))
        XCTAssertThrowsError(try r(x)) { e in XCTAssertTrue("\(e)".contains("[96, 32, 32]"), "\(e)") }
    }
}
