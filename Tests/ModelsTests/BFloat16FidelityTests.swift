import Foundation
import Tensors
import XCTest
@testable import Models

/// bf16 networks against the fidelity bound, on the parity fixtures made by the official code: the
/// generator's 512² image within 40 dB PSNR of the reference, the encoder's W+ codes within 1e-2 relative
/// error. (float32 parity, ≤ 1e-4, is GeneratorParityTests' and EncoderParityTests'.)
final class BFloat16FidelityTests: XCTestCase {
    override func setUpWithError() throws {
        guard Precision.bf16Supported else { throw XCTSkip("this CPU has no AVX512_BF16 / AMX: bf16 is not offered here") }
    }

    func testGeneratorImageInBF16IsWithin40dBOfTheReference() throws {
        let io = try SafeTensorsFile(url: GeneratorParityTests.fixture("io.safetensors")).all()
        let g = try TriPlaneGenerator(weights: Weights(safetensors: GeneratorParityTests.fixture("weights.safetensors")),
                                      precision: .bf16)
        XCTAssertEqual(g.precision, .bf16)
        let out = g.synthesize(ws: io["ws"]!.reshaped([14, 512]), camera: io["c_render"]!.data)
        let reference = io["image"]!
        let psnr = out.image.psnr(to: reference, peakToPeak: 2, clampTo: -1...1)
        print("bf16 generator: PSNR \(psnr) dB, max|a-b|/max|b| = \(out.image.relativeError(to: reference))")
        XCTAssertGreaterThanOrEqual(psnr, 40)
        XCTAssertLessThan(psnr, 200, "bf16 image equals float32's bit for bit: the bf16 path did not run")
    }

    func testEncoderCodesInBF16AreWithin1e2OfTheReference() throws {
        let io = try SafeTensorsFile(url: EncoderParityTests.fixture("io.safetensors")).all()
        let encoder = try Encoder4Editing(contentsOf: EncoderParityTests.fixture("weights.safetensors"), precision: .bf16)
        let codes = try encoder.encode(io["image"]!).codes
        let err = codes.relativeError(to: io["codes"]!)
        print("bf16 encoder: W+ codes max|a-b|/max|b| = \(err)")
        XCTAssertLessThanOrEqual(err, 1e-2)
        XCTAssertGreaterThan(err, 1e-6, "bf16 codes as exact as float32: the bf16 path did not run")
    }
}
