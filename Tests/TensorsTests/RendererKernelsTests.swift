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
        let res = 6, c = 5
        let planes = random(3 * res * res * c, seed: 53)
        // Inside, on the border, and outside the planes (zero padding).
        let points: [Float] = [0.1, -0.3, 0.7, 0.99, -0.99, 0.2, 1.4, 0.0, -1.2, -0.5, 0.5, 0.0]
        let n = points.count / 3
        var out = [Float](repeating: .nan, count: n * c)
        GridSample.triplane(planes, resolution: res, channels: c, points: points, count: n, into: &out)
        planes.withUnsafeBufferPointer { pl in
            let p = pl.baseAddress!, stride = res * res * c
            for i in 0..<n {
                let x = points[3 * i], y = points[3 * i + 1], z = points[3 * i + 2]
                var acc = [Float](repeating: 0, count: c)
                GridSample.accumulate(plane: p, height: res, width: res, channels: c, gx: x, gy: y, scale: 1, into: &acc)
                GridSample.accumulate(plane: p + stride, height: res, width: res, channels: c, gx: x, gy: z, scale: 1, into: &acc)
                GridSample.accumulate(plane: p + 2 * stride, height: res, width: res, channels: c, gx: z, gy: x, scale: 1, into: &acc)
                for k in 0..<c { XCTAssertEqual(out[i * c + k], acc[k] / 3, accuracy: 1e-6) }
            }
        }
    }
}
