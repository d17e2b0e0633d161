import XCTest
@testable import Tensors

/// GEMM-based convolutions and FIR resampling against plain reference loops.
final class ConvolutionTests: XCTestCase {
    func naiveConv(_ x: [Float], _ w: [Float], i: Int, o: Int, h: Int, wd: Int, k: Int, p: Int) -> [Float] {
        let ho = h + 2 * p - k + 1, wo = wd + 2 * p - k + 1
        var out = [Float](repeating: 0, count: o * ho * wo)
        for oc in 0..<o { for y in 0..<ho { for xx in 0..<wo {
            var s: Float = 0
            for ic in 0..<i { for ky in 0..<k { for kx in 0..<k {
                let sy = y + ky - p, sx = xx + kx - p
                if sy >= 0 && sy < h && sx >= 0 && sx < wd { s += w[((oc * i + ic) * k + ky) * k + kx] * x[(ic * h + sy) * wd + sx] }
            } } }
            out[(oc * ho + y) * wo + xx] = s
        } } }
        return out
    }

    func testConv2dMatchesReferenceLoop() {
        for (k, p) in [(3, 1), (1, 0), (3, 0)] {
            let i = 5, o = 7, h = 9, wd = 11
            let x = random(i * h * wd, seed: 1), w = random(o * i * k * k, seed: 2)
            let ho = h + 2 * p - k + 1, wo = wd + 2 * p - k + 1
            var out = [Float](repeating: 0, count: o * ho * wo)
            Convolution.conv2d(input: x, inChannels: i, height: h, width: wd, weight: w, outChannels: o, kernel: k,
                               padding: p, output: &out)
            assertClose(out, naiveConv(x, w, i: i, o: o, h: h, wd: wd, k: k, p: p))
        }
    }

    func testConvTransposeStride2MatchesReferenceLoop() {
        let i = 4, o = 3, h = 6, wd = 5, k = 3
        let x = random(i * h * wd, seed: 3), w = random(o * i * k * k, seed: 4)
        let ho = 2 * (h - 1) + k, wo = 2 * (wd - 1) + k
        var ref = [Float](repeating: 0, count: o * ho * wo)
        for oc in 0..<o { for ic in 0..<i { for y in 0..<h { for xx in 0..<wd { for ky in 0..<k { for kx in 0..<k {
            ref[(oc * ho + 2 * y + ky) * wo + 2 * xx + kx] += w[((oc * i + ic) * k + ky) * k + kx] * x[(ic * h + y) * wd + xx]
        } } } } } }
        var out = [Float](repeating: 7, count: o * ho * wo)
        Convolution.convTranspose2dStride2(input: x, inChannels: i, height: h, width: wd, weight: w, outChannels: o,
                                           kernel: k, output: &out)
        assertClose(out, ref)
    }

    /// upfirdn2d by its definition: zero insertion, zero padding, convolution with the flipped filter × gain.
    func naiveUpfirdn(_ x: [Float], c: Int, h: Int, w: Int, f: [Float], fs: Int, up: Int, pad0: Int, pad1: Int, gain: Float) -> [Float] {
        let ph = h * up + pad0 + pad1, pw = w * up + pad0 + pad1
        let ho = ph - fs + 1, wo = pw - fs + 1
        var out = [Float](repeating: 0, count: c * ho * wo)
        for ch in 0..<c { for y in 0..<ho { for xx in 0..<wo {
            var s: Float = 0
            for i in 0..<fs { for j in 0..<fs {
                let uy = y + i - pad0, ux = xx + j - pad0
                guard uy >= 0, ux >= 0, uy < h * up, ux < w * up, uy % up == 0, ux % up == 0 else { continue }
                s += x[(ch * h + uy / up) * w + ux / up] * f[(fs - 1 - i) * fs + (fs - 1 - j)] * gain
            } }
            out[(ch * ho + y) * wo + xx] = s
        } } }
        return out
    }

    func testUpsample2xMatchesDefinition() {
        let c = 3, h = 5, w = 6
        let x = random(c * h * w, seed: 5)
        let f1: [Float] = [1, 3, 3, 1]
        let f = (0..<16).map { f1[$0 / 4] * f1[$0 % 4] / 64 }
        var out = [Float](repeating: 0, count: c * 4 * h * w)
        UpFirDn.upsample2x(input: x, channels: c, height: h, width: w, filter: f, filterSize: 4, output: &out)
        assertClose(out, naiveUpfirdn(x, c: c, h: h, w: w, f: f, fs: 4, up: 2, pad0: 2, pad1: 1, gain: 4))
    }

    func testUpfirdnWithAsymmetricNonSeparableFilter() {
        let c = 2, h = 4, w = 4
        let x = random(c * h * w, seed: 6)
        let f = random(9, seed: 7)  // rank > 1 and asymmetric: exercises the flip and the 2-D path
        XCTAssertNil(UpFirDn.separate(f, 3, 3))
        let ho = h + 1 + 1 - 3 + 1, wo = ho
        var out = [Float](repeating: 0, count: c * ho * wo)
        UpFirDn.upfirdn2d(input: x, channels: c, height: h, width: w, filter: f, filterHeight: 3, filterWidth: 3,
                          up: 1, padX0: 1, padX1: 1, padY0: 1, padY1: 1, gain: 2, output: &out)
        assertClose(out, naiveUpfirdn(x, c: c, h: h, w: w, f: f, fs: 3, up: 1, pad0: 1, pad1: 1, gain: 2))
    }

    func testModulatedUpsamplingConvMatchesTransposedConvPlusFilter() {
        // conv2d_resample for up=2, k=3: conv_transpose2d then upfirdn2d(pad 1, gain 4) → 2H × 2W.
        let i = 3, o = 2, h = 4, w = 4
        let x = random(i * h * w, seed: 8), wt = random(o * i * 9, seed: 9)
        let f1: [Float] = [1, 3, 3, 1]
        let f = (0..<16).map { f1[$0 / 4] * f1[$0 % 4] / 64 }
        var out = [Float](repeating: 0, count: o * 4 * h * w)
        FusedModulatedConv.convolve(input: x, inChannels: i, height: h, width: w, weight: wt, outChannels: o, kernel: 3,
                               up: 2, filter: f, filterSize: 4, output: &out)
        var t = [Float](repeating: 0, count: o * (2 * h + 1) * (2 * w + 1))
        Convolution.convTranspose2dStride2(input: x, inChannels: i, height: h, width: w, weight: wt, outChannels: o,
                                           kernel: 3, output: &t)
        let ref = naiveUpfirdn(t, c: o, h: 2 * h + 1, w: 2 * w + 1, f: f, fs: 4, up: 1, pad0: 1, pad1: 1, gain: 4)
        XCTAssertEqual(ref.count, out.count)
        assertClose(out, ref)
    }

    func testModulateDemodulates() {
        let o = 3, i = 4
        let w = random(o * i * 9, seed: 10), s = random(i, seed: 11)
        let m = FusedModulatedConv.modulate(weight: w, outChannels: o, inChannels: i, taps: 9, styles: s, demodulate: true)
        for oc in 0..<o {
            var sum: Float = 0
            for j in 0..<(i * 9) { let v = w[oc * i * 9 + j] * s[j / 9]; sum += v * v }
            let d = 1 / (sum + 1e-8).squareRoot()
            for j in 0..<(i * 9) { XCTAssertEqual(m[oc * i * 9 + j], w[oc * i * 9 + j] * s[j / 9] * d, accuracy: 1e-6) }
        }
        let plain = FusedModulatedConv.modulate(weight: w, outChannels: o, inChannels: i, taps: 9, styles: s, demodulate: false)
        XCTAssertEqual(plain[5], w[5] * s[0], accuracy: 1e-7)
    }

    func testWinogradMatchesReferenceLoopIncludingBands() {
        let t = self
        let i = 6, o = 5, h = 16, w = 20
        XCTAssertEqual(Winograd.tile(height: h, width: w, kernel: 3, padding: 1), .f4x4)
        XCTAssertEqual(Winograd.tile(height: 18, width: 20, kernel: 3, padding: 1), .f2x2)
        XCTAssertNil(Winograd.tile(height: 17, width: 20, kernel: 3, padding: 1))
        XCTAssertNil(Winograd.tile(height: 8, width: 8, kernel: 3, padding: 1))
        let wt = t.random(o * i * 9, seed: 22)
        // A plane 72 wide also takes the transforms' 16-tile vector path (18 tiles: 16 + 2 left over).
        for (h, w) in [(h, w), (12, 72)] {
        let x = t.random(i * h * w, seed: 21)
        let ref = t.naiveConv(x, wt, i: i, o: o, h: h, wd: w, k: 3, p: 1)
        for tile in [Winograd.Tile.f2x2, .f4x4] {
            let u = Winograd.transformWeights(wt, outChannels: o, inChannels: i, tile: tile)
            let tileSide = tile == .f2x2 ? 2 : 4
            // One band; bands of 3 tile rows (the last one short).
            for budget in [1 << 20, tile.points * (i + o) * (w / tileSide) * 3] {
                var out = [Float](repeating: .nan, count: o * h * w)
                Winograd.conv3x3(input: x, inChannels: i, height: h, width: w, transformedWeights: u, outChannels: o,
                                 tile: tile, output: &out, budget: budget)
                t.assertClose(out, ref, tol: tile == .f2x2 ? 2e-6 : 1e-5)
            }
        }
        }
        let x = t.random(i * h * w, seed: 21)
        let ref = t.naiveConv(x, wt, i: i, o: o, h: h, wd: w, k: 3, p: 1)
        // conv2d dispatches to it for this shape.
        var out = [Float](repeating: .nan, count: o * h * w)
        Convolution.conv2d(input: x, inChannels: i, height: h, width: w, weight: wt, outChannels: o, kernel: 3,
                           padding: 1, output: &out)
        t.assertClose(out, ref, tol: 1e-5)
    }
}
