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
        // The corrected axes of NVlabs/eg3d#67 read the third plane at (z, y).
        var corrected = [Float](repeating: .nan, count: n * c)
        GridSample.triplane(cl, resolution: res, channels: c, axes: .corrected, points: points, count: n, into: &corrected)
        for i in 0..<n {
            let x = points[3 * i], y = points[3 * i + 1], z = points[3 * i + 2]
            for ch in 0..<c {
                let ref = (bilinear(0, ch, x, y) + bilinear(1, ch, x, z) + bilinear(2, ch, z, y)) / 3
                XCTAssertEqual(corrected[i * c + ch], ref, accuracy: 1e-5, "corrected axes, point \(i) channel \(ch)")
            }
        }
    }

    /// bf16 planes (the generator's --precision bf16) are read exactly as float planes rounded to bf16.
    func testBFloat16TriplaneLookupReadsTheRoundedPlanes() {
        let res = 8, c = 32
        let planes = random(3 * res * res * c, seed: 61).map { $0 * 3 }
        let bits = Precision.bfloat16Bits(planes)
        let rounded = bits.map { Float(bitPattern: UInt32($0) << 16) }
        XCTAssertNotEqual(rounded, planes, "rounding to bf16 changes most values")
        let points = random(3 * 41, seed: 62).map { $0 * 1.2 }  // some outside the planes
        var expected = [Float](repeating: .nan, count: 41 * c), got = expected
        GridSample.triplane(rounded, resolution: res, channels: c, points: points, count: 41, into: &expected)
        bits.withUnsafeBufferPointer { b in
            GridSample.triplane(b.baseAddress!, resolution: res, channels: c, points: points, count: 41, into: &got)
        }
        for i in 0..<got.count { XCTAssertEqual(got[i], expected[i], accuracy: 1e-6 * max(1, abs(expected[i])), "value \(i)") }
    }

    /// The bf16 linear layer (OSG decoder under --precision bf16) is the product of the bf16-rounded operands,
    /// summed in float32, for row counts off its 4-row tiles and widths off its 16-output registers.
    func testBFloat16LinearIsTheProductOfRoundedOperands() throws {
        for (rows, inputs, outputs) in [(7, 32, 64), (5, 64, 33), (1, 5, 3), (130, 96, 80)] {
            let w = random(outputs * inputs, seed: UInt64(70 + inputs)), x = random(rows * inputs, seed: UInt64(80 + rows))
            guard let layer = BFloat16Linear(weight: w, outFeatures: outputs, inFeatures: inputs) else {
                throw XCTSkip("this CPU has no AVX512_BF16")
            }
            let rw = Precision.bfloat16Bits(w).map { Double(Float(bitPattern: UInt32($0) << 16)) }
            let rx = Precision.bfloat16Bits(x).map { Double(Float(bitPattern: UInt32($0) << 16)) }
            let ldy = outputs + 3
            var y = [Float](repeating: .nan, count: rows * ldy)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { layer.forward(xp.baseAddress!, rows: rows, into: $0.baseAddress!, ldy: ldy) }
            }
            for r in 0..<rows {
                for j in 0..<outputs {
                    var sum = 0.0, magnitude = 0.0
                    for k in 0..<inputs { sum += rx[r * inputs + k] * rw[j * inputs + k]; magnitude += abs(rx[r * inputs + k] * rw[j * inputs + k]) }
                    XCTAssertEqual(Double(y[r * ldy + j]), sum, accuracy: 1e-6 * magnitude + 1e-7, "\(rows)×\(inputs)→\(outputs) at (\(r), \(j))")
                }
                // Beyond the outputs, the row's padding is left alone.
                for j in outputs..<ldy { XCTAssertTrue(y[r * ldy + j].isNaN) }
            }
        }
    }
}
