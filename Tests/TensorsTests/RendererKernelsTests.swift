import XCTest
@testable import Tensors

/// The C renderer kernels (built for AVX2 + FMA where the CPU has them) against the Swift definitions.
final class RendererKernelsTests: XCTestCase {
    func testSoftplusAndSigmoidRowsMatchPointwise() {
        let rows = 5, cols = 13
        let x = random(rows * cols, seed: 51).map { $0 * 30 }  // covers the threshold at 20
        let bias = random(cols, seed: 52)
        var sp = x
        Pointwise.softplusRows(&sp, bias: bias, rows: rows, cols: cols)
        var sg = x
        Pointwise.sigmoidRows(&sg, bias: bias, rows: rows, cols: cols, scale: 1.002, shift: -0.001)
        for r in 0..<rows {
            for j in 0..<cols {
                let v = x[r * cols + j] + bias[j]
                XCTAssertEqual(sp[r * cols + j], Pointwise.softplus(v), accuracy: 1e-6 * max(1, abs(v)))
                let expected = j == 0 ? v : Pointwise.sigmoid(v) * 1.002 - 0.001
                XCTAssertEqual(sg[r * cols + j], expected, accuracy: 1e-6)
            }
        }
    }

    func testTriplaneSampleIsTheMeanOfThreeBilinearLookups() {
        // Three 4×4 planes of 2 channels, planar as the backbone writes them, then channels-last.
        let res = 4, c = 2, hw = res * res
        let planar: [Float] = (0..<(3 * c * hw)).map { Float($0) * 0.37 - 2 }
        var cl = [Float](repeating: .nan, count: planar.count)
        for p in 0..<3 {
            planar.withUnsafeBufferPointer { src in
                cl.withUnsafeMutableBufferPointer { dst in
                    GridSample.channelsLast(src.baseAddress! + p * c * hw, channels: c, height: res, width: res,
                                            into: dst.baseAddress! + p * c * hw)
                }
            }
        }
        // grid_sample(bilinear, zeros, align_corners=False) on plane p at (gx → width, gy → height).
        func bilinear(_ p: Int, _ ch: Int, _ gx: Float, _ gy: Float) -> Float {
            func value(_ y: Int, _ x: Int) -> Float {
                (y < 0 || y >= res || x < 0 || x >= res) ? 0 : planar[((p * c + ch) * res + y) * res + x]
            }
            let ix = ((gx + 1) * Float(res) - 1) / 2, iy = ((gy + 1) * Float(res) - 1) / 2
            let x0 = Int(ix.rounded(.down)), y0 = Int(iy.rounded(.down))
            let ax = ix - Float(x0), ay = iy - Float(y0)
            return value(y0, x0) * (1 - ax) * (1 - ay) + value(y0, x0 + 1) * ax * (1 - ay)
                + value(y0 + 1, x0) * (1 - ax) * ay + value(y0 + 1, x0 + 1) * ax * ay
        }
        // Inside, on the border, and outside the planes (zero padding).
        let points: [Float] = [0.1, -0.3, 0.7, 0.99, -0.99, 0.2, 1.4, 0.0, -1.2, -0.5, 0.5, 0.0, -1, -1, 1]
        let n = points.count / 3
        var out = [Float](repeating: .nan, count: n * c)
        GridSample.triplane(cl, resolution: res, channels: c, points: points, count: n, into: &out)
        for i in 0..<n {
            let x = points[3 * i], y = points[3 * i + 1], z = points[3 * i + 2]
            for ch in 0..<c {
                let ref = (bilinear(0, ch, x, y) + bilinear(1, ch, x, z) + bilinear(2, ch, z, x)) / 3
                XCTAssertEqual(out[i * c + ch], ref, accuracy: 1e-5, "point \(i) channel \(ch)")
            }
        }
    }
}
