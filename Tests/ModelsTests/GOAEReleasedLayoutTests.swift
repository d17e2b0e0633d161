import Foundation
import Models
import Tensors
import XCTest

/// The released GOAE layouts avatarize generates random weights in (bench pipeline --full-size --goae), against
/// counts taken from the official classes at full width (tools/bench_goae_official.py build: encoder_FFHQ.pt 519
/// tensors besides the Swin's derived buffers, 111 262 006 values; afa_FFHQ.pt 153 tensors besides BatchNorm's
/// counters, 12 105 792 values) and WindowAttention's relative coordinate tables with the pretrained windows
/// 12 / 6 of configs/swinv2.yaml.
final class GOAEReleasedLayoutTests: XCTestCase {
    func testReleasedLayoutsHaveTheOfficialTensorsAndTables() {
        let encoder = GOAEncoderArchitecture.released()
        let shapes = encoder.expectedShapes()
        XCTAssertEqual(shapes.count, 519)
        XCTAssertEqual(shapes.values.reduce(0) { $0 + $1.reduce(1, *) }, 111_262_006)
        XCTAssertEqual(encoder.styleCount, 14)
        let afa = AdaptiveFeatureAlignmentArchitecture.released().expectedShapes()
        XCTAssertEqual(afa.count, 153)
        XCTAssertEqual(afa.values.reduce(0) { $0 + $1.reduce(1, *) }, 12_105_792)

        XCTAssertEqual(try GOAEncoderArchitecture.infer(from: shapes, file: "released"), encoder)
        let last = SwinV2Architecture.relativeCoordsTable(window: 8, pretrained: 6)
        let first = SwinV2Architecture.relativeCoordsTable(window: 16, pretrained: 12)
        XCTAssertEqual(last.count, 15 * 15 * 2)
        for (mine, official) in zip(last.prefix(4), [-1.2029364, -1.2029364, -1.2029364, -1.1353308] as [Float]) {
            XCTAssertEqual(mine, official, accuracy: 1e-6)
        }
        for (mine, official) in zip(first.prefix(4), [-1.1913304, -1.1913304, -1.1913304, -1.1610276] as [Float]) {
            XCTAssertEqual(mine, official, accuracy: 1e-6)
        }
        // Swin-V2-B at 256² with window 16 is about 21.8 GMAC (its model zoo); the mid-to-fine spatial mapper adds
        // 512 · (1024·2048 + 2048·4096) = 5.4 GMAC and the fine cross-attention's keys and values 4096 · 512 · 1024 =
        // 2.1 GMAC: some 61 GFLOP in all.
        XCTAssertEqual(encoder.flopsPerImage / 1e9, 62, accuracy: 4)
    }
}
