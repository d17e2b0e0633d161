import Foundation
import Models
import Tensors
import XCTest

/// The encoders' input resizes against PyTorch's (tools/make_resize_goldens.py): F.interpolate with antialias=True is
/// PIL's antialiased filter on floats, which PIL's 8-bit path rounds; without antialias, torchvision's old tensor Resize.
final class EncoderPreprocessingTests: XCTestCase {
    static let io = try! SafeTensorsFile(url: Bundle.module.url(forResource: "Fixtures/resize-goldens", withExtension: "safetensors")!).all()
    static let sizes = [(23, 31), (30, 23), (90, 70)]

    func testAntialiasedFiltersMatchTorchAndPILsEightBitPathRoundsThem() throws {
        let image = try XCTUnwrap(Self.io["image"])
        let h = image.shape[1], w = image.shape[2]
        var interleaved = [UInt8](repeating: 0, count: h * w * 3)
        for c in 0..<3 { for i in 0..<(h * w) { interleaved[i * 3 + c] = UInt8(image.data[c * h * w + i]) } }
        for (th, tw) in Self.sizes {
            for (name, filter) in [("aa_bilinear", ImageResize.Filter.bilinear), ("aa_bicubic", .bicubic)] {
                let golden = try XCTUnwrap(Self.io["\(name).\(th)x\(tw)"])
                let float = ImageResize.antialiased(image, toHeight: th, toWidth: tw, filter: filter)
                let err = float.relativeError(to: golden)
                print("\(name) \(th)x\(tw) vs torch: \(err)")
                XCTAssertLessThanOrEqual(err, 1e-5, "\(name) \(th)x\(tw)")
                // PIL clips its horizontal pass to 8 bits; bicubic overshoots there when enlarging random pixels, so
                // only shrinks (what the encoders do) are compared for it.
                if filter == .bicubic && th > h { continue }
                let eight = ImageResize.pil(interleaved, width: w, height: h, toWidth: tw, toHeight: th, filter: filter)
                var worst: Float = 0, off = 0
                for c in 0..<3 {
                    for i in 0..<(th * tw) {
                        let d = abs(Float(eight[i * 3 + c]) - min(max(golden.data[c * th * tw + i], 0), 255))
                        worst = max(worst, d)
                        if d > 0.5 { off += 1 }
                    }
                }
                XCTAssertLessThanOrEqual(worst, 2, "\(name) \(th)x\(tw): 8-bit result \(worst) levels from the float one")
                XCTAssertLessThan(Double(off) / Double(3 * th * tw), 0.25, "\(name) \(th)x\(tw): \(off) values off by a level")
            }
            let plain = ImageResize.bilinear(image, toHeight: th, toWidth: tw)
            let perr = plain.relativeError(to: try XCTUnwrap(Self.io["bilinear.\(th)x\(tw)"]))
            XCTAssertLessThanOrEqual(perr, 1e-5, "bilinear \(th)x\(tw): \(perr)")
        }
    }

    func testEachPreprocessingGivesTheInputSideInRange() {
        var pixels = [UInt8](repeating: 0, count: 512 * 512 * 3)
        for i in pixels.indices { pixels[i] = UInt8((i * 7919) % 256) }
        for p in EncoderPreprocessing.allCases where p != .direct {
            XCTAssertEqual(p.cropSide(for: 256), 512)
            let t = p.input(pixels, from: 512, side: 256)
            XCTAssertEqual(t.shape, [3, 256, 256])
            XCTAssertLessThanOrEqual(t.maxAbs, 1)
        }
        XCTAssertEqual(EncoderPreprocessing.direct.cropSide(for: 256), 256)
        // A flat image stays flat through every filter.
        let grey = [UInt8](repeating: 100, count: 512 * 512 * 3)
        for p in EncoderPreprocessing.allCases where p != .direct {
            XCTAssertEqual(Set(p.input(grey, from: 512, side: 256).data), [Float(100) / 127.5 - 1], "\(p)")
        }
    }
}
