import Foundation
import XCTest
@testable import Tensors

/// The encoder's ops (strided conv, subsampling, eval BatchNorm, PReLU, squeeze-excitation, bilinear
/// align_corners resize, equalised linear), each against a plain reference loop.
final class EncoderOpsTests: XCTestCase {
    struct Rng {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
        mutating func array(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
    }

    func assertClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        guard a.count == b.count else { return }
        var worst: Float = 0, scale: Float = 0
        for i in a.indices { worst = max(worst, abs(a[i] - b[i])); scale = max(scale, abs(b[i])) }
        XCTAssertGreaterThan(scale, 0, "\(what): reference is all zeros", file: file, line: line)
        XCTAssertLessThanOrEqual(worst / max(scale, 1e-30), tolerance, "\(what): max diff \(worst), scale \(scale)", file: file, line: line)
    }

    /// torch conv2d by definition: out[o, y, x] = Σ w[o, i, ky, kx] · in[i, y·s + ky − p, x·s + kx − p].
    func referenceConv(_ x: [Float], _ c: Int, _ h: Int, _ w: Int, _ wt: [Float], _ o: Int, k: Int, s: Int, p: Int) -> [Float] {
        let ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1
        var out = [Float](repeating: 0, count: o * ho * wo)
        for oc in 0..<o { for y in 0..<ho { for xx in 0..<wo {
            var acc: Double = 0
            for ic in 0..<c { for ky in 0..<k { for kx in 0..<k {
                let sy = y * s + ky - p, sx = xx * s + kx - p
                if sy < 0 || sy >= h || sx < 0 || sx >= w { continue }
                acc += Double(wt[((oc * c + ic) * k + ky) * k + kx]) * Double(x[(ic * h + sy) * w + sx])
            } } }
            out[(oc * ho + y) * wo + xx] = Float(acc)
        } } }
        return out
    }

    func testStridedConvolutionMatchesDefinition() {
        var rng = Rng(state: 7)
        // (channels, height, width, out, kernel, stride, padding): odd sizes, kernels wider than the
        // padding, stride 3, and a 1×1 stride-2 projection like the IR-SE shortcut.
        let cases = [(3, 9, 7, 5, 3, 2, 1), (4, 8, 8, 6, 3, 2, 1), (2, 11, 10, 3, 5, 3, 2), (5, 7, 9, 4, 1, 2, 0),
                     (3, 6, 6, 2, 3, 1, 1), (2, 2, 2, 3, 3, 2, 1), (1, 5, 5, 1, 4, 2, 0)]
        for (c, h, w, o, k, s, p) in cases {
            let x = rng.array(c * h * w), wt = rng.array(o * c * k * k)
            let ho = Convolution.outputSize(h, kernel: k, stride: s, padding: p)
            let wo = Convolution.outputSize(w, kernel: k, stride: s, padding: p)
            var out = [Float](repeating: 0, count: o * ho * wo)
            Convolution.conv2d(input: x, inChannels: c, height: h, width: w, weight: wt, outChannels: o,
                               kernel: k, stride: s, padding: p, output: &out)
            assertClose(out, referenceConv(x, c, h, w, wt, o, k: k, s: s, p: p), "conv \(c)x\(h)x\(w) k\(k) s\(s) p\(p)")
            // accumulate adds onto what is there
            var acc = [Float](repeating: 1, count: o * ho * wo)
            Convolution.conv2d(input: x, inChannels: c, height: h, width: w, weight: wt, outChannels: o,
                               kernel: k, stride: s, padding: p, output: &acc, accumulate: true)
            assertClose(acc, out.map { $0 + 1 }, "accumulated conv k\(k) s\(s)")
        }
    }

    func testStridedConvolutionTilesLargeImages() {
        // Big enough that the column buffer is split into several bands of output rows.
        var rng = Rng(state: 11)
        let c = 128, h = 130, w = 130, o = 2
        let x = rng.array(c * h * w), wt = rng.array(o * c * 9)
        let ho = Convolution.outputSize(h, kernel: 3, stride: 2, padding: 1)
        XCTAssertGreaterThan(c * 9 * ho * ho, Convolution.columnBudget)
        var out = [Float](repeating: 0, count: o * ho * ho)
        Convolution.conv2d(input: x, inChannels: c, height: h, width: w, weight: wt, outChannels: o,
                           kernel: 3, stride: 2, padding: 1, output: &out)
        assertClose(out, referenceConv(x, c, h, w, wt, o, k: 3, s: 2, p: 1), "tiled strided conv")
    }

    func testSubsampleIsMaxPoolWithKernelOne() {
        var rng = Rng(state: 3)
        for (h, w, s) in [(8, 8, 2), (7, 5, 2), (9, 10, 3), (4, 4, 1)] {
            let c = 3
            let x = rng.array(c * h * w)
            let ho = (h - 1) / s + 1, wo = (w - 1) / s + 1
            var out = [Float](repeating: .nan, count: c * ho * wo)
            Pooling.subsample(input: x, channels: c, height: h, width: w, stride: s, output: &out)
            var ref: [Float] = []
            for ch in 0..<c { for y in Swift.stride(from: 0, to: h, by: s) { for xx in Swift.stride(from: 0, to: w, by: s) {
                ref.append(x[(ch * h + y) * w + xx])
            } } }
            XCTAssertEqual(out, ref, "subsample \(h)x\(w) stride \(s)")
        }
    }

    func testBatchNormEvalMode() {
        var rng = Rng(state: 5)
        let c = 4, n = 10
        let x = rng.array(c * n)
        let weight = rng.array(c), bias = rng.array(c), mean = rng.array(c)
        let variance = rng.array(c).map { $0 * $0 + 0.1 }
        let bn = BatchNorm2d(weight: weight, bias: bias, runningMean: mean, runningVar: variance, eps: 1e-5)
        var ref = [Float](repeating: 0, count: c * n)
        for ch in 0..<c { for i in 0..<n {
            ref[ch * n + i] = Float((Double(x[ch * n + i]) - Double(mean[ch])) / (Double(variance[ch]) + 1e-5).squareRoot()
                * Double(weight[ch]) + Double(bias[ch]))
        } }
        var y = [Float](repeating: 0, count: c * n)
        bn.apply(x, count: n, into: &y)
        assertClose(y, ref, "batch norm")
        var inPlace = x
        bn.apply(&inPlace, count: n)
        XCTAssertEqual(inPlace, y)
    }

    func testPReLUUsesOneSlopePerChannel() {
        var x: [Float] = [-2, 3, -1, 0.5, -4, 0]
        PReLU.apply(&x, channels: 3, count: 2, slopes: [0.25, 0.5, -1])
        XCTAssertEqual(x, [-0.5, 3, -0.5, 0.5, 4, 0])
    }

    func testSqueezeExcitationMatchesDefinition() {
        var rng = Rng(state: 9)
        let c = 6, hidden = 3, n = 20
        let x = rng.array(c * n), fc1 = rng.array(hidden * c), fc2 = rng.array(c * hidden), residual = rng.array(c * n)
        // Reference: mean → fc1 → ReLU → fc2 → sigmoid → scale, plus residual.
        var pooled = [Double](repeating: 0, count: c)
        for ch in 0..<c { for i in 0..<n { pooled[ch] += Double(x[ch * n + i]) }; pooled[ch] /= Double(n) }
        var h = [Double](repeating: 0, count: hidden)
        for j in 0..<hidden { for ch in 0..<c { h[j] += Double(fc1[j * c + ch]) * pooled[ch] }; h[j] = max(h[j], 0) }
        var gate = [Double](repeating: 0, count: c)
        for ch in 0..<c {
            var a: Double = 0
            for j in 0..<hidden { a += Double(fc2[ch * hidden + j]) * h[j] }
            gate[ch] = 1 / (1 + Foundation.exp(-a))
        }
        let g = SqueezeExcitation.gates(x, channels: c, count: n, hidden: hidden, fc1: fc1, fc2: fc2)
        assertClose(g, gate.map(Float.init), "SE gates")
        var ref = [Float](repeating: 0, count: c * n)
        for ch in 0..<c { for i in 0..<n { ref[ch * n + i] = Float(Double(x[ch * n + i]) * gate[ch]) + residual[ch * n + i] } }
        var y = [Float](repeating: 0, count: c * n)
        SqueezeExcitation.scaleChannels(x, channels: c, count: n, scale: g, adding: residual, into: &y)
        assertClose(y, ref, "SE scale + residual")
        var plain = [Float](repeating: 0, count: c * n)
        SqueezeExcitation.scaleChannels(x, channels: c, count: n, scale: g, adding: nil, into: &plain)
        assertClose(plain, zip(ref, residual).map { $0 - $1 }, tolerance: 1e-5, "SE scale")
    }

    /// F.interpolate(..., mode='bilinear', align_corners=True) written out in doubles.
    func referenceBilinear(_ x: [Float], _ c: Int, _ h: Int, _ w: Int, _ oh: Int, _ ow: Int) -> [Float] {
        var out = [Float](repeating: 0, count: c * oh * ow)
        for ch in 0..<c { for oy in 0..<oh { for ox in 0..<ow {
            let sy = oh > 1 ? Double(oy) * Double(h - 1) / Double(oh - 1) : 0
            let sx = ow > 1 ? Double(ox) * Double(w - 1) / Double(ow - 1) : 0
            let y0 = Int(sy.rounded(.down)), x0 = Int(sx.rounded(.down))
            let y1 = min(y0 + 1, h - 1), x1 = min(x0 + 1, w - 1)
            let ly = sy - Double(y0), lx = sx - Double(x0)
            func at(_ yy: Int, _ xi: Int) -> Double { Double(x[(ch * h + yy) * w + xi]) }
            let v = (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1))
            out[(ch * oh + oy) * ow + ox] = Float(v)
        } } }
        return out
    }

    func testBilinearAlignCornersResize() {
        var rng = Rng(state: 13)
        for (h, w, oh, ow) in [(16, 16, 32, 32), (32, 32, 64, 64), (5, 7, 11, 9), (4, 4, 4, 4), (6, 5, 3, 2), (3, 3, 1, 1)] {
            let c = 2
            let x = rng.array(c * h * w)
            var out = [Float](repeating: 0, count: c * oh * ow)
            BilinearResize.alignCorners(input: x, channels: c, height: h, width: w, outHeight: oh, outWidth: ow, output: &out)
            assertClose(out, referenceBilinear(x, c, h, w, oh, ow), "bilinear \(h)x\(w)→\(oh)x\(ow)")
        }
        // Corners map onto corners exactly, and accumulate adds (the FPN's _upsample_add).
        let x: [Float] = [1, 2, 3, 4]
        var out = [Float](repeating: 10, count: 9)
        BilinearResize.alignCorners(input: x, channels: 1, height: 2, width: 2, outHeight: 3, outWidth: 3, output: &out, accumulate: true)
        XCTAssertEqual(out, [11, 11.5, 12, 12, 12.5, 13, 13, 13.5, 14])
    }

    func testEqualizedLinearScalesByInverseSquareRootOfFanIn() {
        var rng = Rng(state: 17)
        let inF = 16, outF = 5
        let w = rng.array(outF * inF), b = rng.array(outF), x = rng.array(inF)
        for lr: Float in [1, 0.01] {
            let layer = EqualizedLinear(weight: Tensor(shape: [outF, inF], data: w), bias: Tensor(shape: [outF], data: b), lrMultiplier: lr)
            var ref = [Float](repeating: 0, count: outF)
            for o in 0..<outF {
                var acc: Double = 0
                for i in 0..<inF { acc += Double(w[o * inF + i]) * Double(lr) / Double(inF).squareRoot() * Double(x[i]) }
                ref[o] = Float(acc + Double(b[o]) * Double(lr))
            }
            assertClose(layer(x), ref, "equalised linear lr \(lr)")
        }
        let noBias = EqualizedLinear(weight: Tensor(shape: [1, 4], data: [2, 2, 2, 2]), bias: nil)
        XCTAssertEqual(noBias([1, 1, 1, 1]), [4])
    }
}
