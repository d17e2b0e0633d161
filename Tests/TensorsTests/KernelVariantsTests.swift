import XCTest
@testable import Tensors
import CKernels

/// Every build of the C kernels this CPU runs (baseline, AVX2, AVX-512, AVX512_BF16; KernelVariant), each
/// selected in turn and checked against plain Swift reference loops, on sizes off every vector width so
/// that the tails run too (as FFmpeg's checkasm does). Without this only the variant the loader picks for
/// the test machine would ever run under test.
final class KernelVariantsTests: XCTestCase {
    /// Sizes around the 4-, 8- and 16-float vector widths and their multiples.
    static let widths = [1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100]

    func testTheSelectionFollowsTheCPU() {
        let best = KernelVariant.best
        XCTAssertEqual(KernelVariant.available.last, best)
        XCTAssertEqual(KernelVariant.available.first, .baseline)
        for v in KernelVariant.allCases {
            let before = KernelVariant.current
            XCTAssertEqual(KernelVariant.select(v), v <= best, v.name)
            XCTAssertEqual(KernelVariant.current, v <= best ? v : before, v.name)
            KernelVariant.select(before)
        }
        // bf16 products are offered exactly when the variant in use has AVX512_BF16 (never on AMX alone).
        KernelVariant.forEachAvailable { v in
            XCTAssertEqual(avz_cpu_has_bf16() != 0, v == .avx512BF16, v.name)
            XCTAssertEqual(BFloat16Linear(weight: [1, 2], outFeatures: 1, inFeatures: 2) != nil, v == .avx512BF16, v.name)
        }
    }

    func testSoftplusAndSigmoidRowsEveryVariant() {
        KernelVariant.forEachAvailable { v in
            for cols in Self.widths {
                let rows = 3
                let x = random(rows * cols, seed: UInt64(100 + cols)).map { $0 * 30 }  // covers the threshold at 20
                let bias = random(cols, seed: UInt64(200 + cols))
                var sp = x, sg = x
                Pointwise.softplusRows(&sp, bias: bias, rows: rows, cols: cols)
                Pointwise.sigmoidRows(&sg, bias: bias, rows: rows, cols: cols, scale: 1.002, shift: -0.001)
                for r in 0..<rows {
                    for j in 0..<cols {
                        let z = x[r * cols + j] + bias[j]
                        XCTAssertEqual(sp[r * cols + j], Pointwise.softplus(z), accuracy: 2e-6 * max(1, abs(z)), "\(v.name) \(cols)")
                        let expected = j == 0 ? z : Pointwise.sigmoid(z) * 1.002 - 0.001
                        XCTAssertEqual(sg[r * cols + j], expected, accuracy: 2e-6, "\(v.name) \(cols)")
                    }
                }
            }
        }
    }

    func testBiasActEveryVariantIsBitExact() {
        // Same operations in the same order, no FMA contraction: every variant equals the scalar loop exactly.
        KernelVariant.forEachAvailable { v in
            for count in Self.widths {
                let channels = 3
                let x = random(channels * count, seed: UInt64(300 + count)).map { $0 * 4 }
                let bias = random(channels, seed: 7), noise = random(count, seed: UInt64(400 + count))
                for (useNoise, useBias, act, clamp) in [(true, true, Activation.leakyReLU(0.2), Float(1.5)),
                                                        (false, false, .linear, nil), (true, false, .leakyReLU(0.2), nil)] {
                    var got = x
                    got.withUnsafeMutableBufferPointer { g in
                        bias.withUnsafeBufferPointer { b in
                            noise.withUnsafeBufferPointer { n in
                                act.apply(g.baseAddress!, channels: channels, count: count, bias: useBias ? b.baseAddress! : nil,
                                          gain: act.defaultGain, clamp: clamp, noise: useNoise ? n.baseAddress! : nil)
                            }
                        }
                    }
                    let slope: Float
                    if case let .leakyReLU(a) = act { slope = a } else { slope = 1 }
                    let lim = clamp ?? .infinity
                    for c in 0..<channels {
                        for i in 0..<count {
                            var e = x[c * count + i]
                            if useNoise { e = e + noise[i] }
                            e = e + (useBias ? bias[c] : 0)
                            e = e < 0 ? e * slope : e
                            e = e * act.defaultGain
                            e = Swift.min(Swift.max(e, -lim), lim)
                            XCTAssertEqual(got[c * count + i].bitPattern, e.bitPattern, "\(v.name) count \(count) at \(c),\(i)")
                        }
                    }
                }
            }
        }
    }

    func testTriplaneSamplingEveryVariant() {
        let res = 5
        // grid_sample(bilinear, zeros, align_corners=False) on channels-last plane p at (gx → width, gy → height).
        func reference(_ planes: [Float], _ c: Int, _ p: Int, _ ch: Int, _ gx: Float, _ gy: Float) -> Float {
            func value(_ y: Int, _ x: Int) -> Float {
                (y < 0 || y >= res || x < 0 || x >= res) ? 0 : planes[((p * res + y) * res + x) * c + ch]
            }
            let ix = ((gx + 1) * Float(res) - 1) / 2, iy = ((gy + 1) * Float(res) - 1) / 2
            let x0 = Int(ix.rounded(.down)), y0 = Int(iy.rounded(.down))
            let ax = ix - Float(x0), ay = iy - Float(y0)
            return value(y0, x0) * (1 - ax) * (1 - ay) + value(y0, x0 + 1) * ax * (1 - ay)
                + value(y0 + 1, x0) * (1 - ax) * ay + value(y0 + 1, x0 + 1) * ax * ay
        }
        KernelVariant.forEachAvailable { v in
            for c in [1, 3, 17, 32, 33] {
                let planes = random(3 * res * res * c, seed: UInt64(500 + c)).map { $0 * 3 }
                let bits = Precision.bfloat16Bits(planes)
                let rounded = bits.map { Float(bitPattern: UInt32($0) << 16) }
                let n = 19
                let points = random(3 * n, seed: UInt64(600 + c)).map { $0 * 1.3 }  // some outside the planes
                var got = [Float](repeating: .nan, count: n * c), got16 = got
                GridSample.triplane(planes, resolution: res, channels: c, points: points, count: n, into: &got)
                bits.withUnsafeBufferPointer { b in
                    GridSample.triplane(b.baseAddress!, resolution: res, channels: c, points: points, count: n, into: &got16)
                }
                for i in 0..<n {
                    let x = points[3 * i], y = points[3 * i + 1], z = points[3 * i + 2]
                    for ch in 0..<c {
                        let ref = (reference(planes, c, 0, ch, x, y) + reference(planes, c, 1, ch, x, z) + reference(planes, c, 2, ch, z, x)) / 3
                        XCTAssertEqual(got[i * c + ch], ref, accuracy: 1e-5, "\(v.name) c \(c) point \(i)")
                        let ref16 = (reference(rounded, c, 0, ch, x, y) + reference(rounded, c, 1, ch, x, z) + reference(rounded, c, 2, ch, z, x)) / 3
                        XCTAssertEqual(got16[i * c + ch], ref16, accuracy: 1e-5, "\(v.name) bf16 c \(c) point \(i)")
                    }
                }
            }
        }
    }

    func testRaySamplingEveryVariantEqualsThePointLookup() {
        // The renderer's lookup along rays computes its points in C; they must be the points Swift computes
        // ((o + z·d)·scale, no FMA, as the reference does), so both lookups give the same bits.
        let res = 6, rays = 5, perRay = 7
        let origins = random(3 * rays, seed: 700), directions = random(3 * rays, seed: 701)
        let shared = random(perRay, seed: 702).map { 2 + $0 }  // one depth list for every ray (the coarse pass)
        let own = random(rays * perRay, seed: 703).map { 2 + $0 }  // a list per ray (the importance pass)
        let scale: Float = 0.9
        KernelVariant.forEachAvailable { v in
            for c in [17, 32] {
                let planes = random(3 * res * res * c, seed: UInt64(710 + c))
                let bits = Precision.bfloat16Bits(planes)
                for (depths, stride) in [(shared, 0), (own, perRay)] {
                    for axes in [TriplaneAxes.original, .corrected] {
                        let p0 = 3, n = rays * perRay - p0  // a block that starts inside a ray
                        var points = [Float](repeating: 0, count: 3 * n)
                        for i in 0..<n {
                            let r = (p0 + i) / perRay, z = depths[r * stride + (p0 + i) % perRay]
                            for a in 0..<3 {
                                let along = z * directions[3 * r + a]
                                points[3 * i + a] = (origins[3 * r + a] + along) * scale
                            }
                        }
                        var expected = [Float](repeating: 0, count: n * c), expected16 = expected
                        var got = [Float](repeating: .nan, count: n * c), got16 = got
                        GridSample.triplane(planes, resolution: res, channels: c, axes: axes, points: points, count: n, into: &expected)
                        origins.withUnsafeBufferPointer { o in
                        directions.withUnsafeBufferPointer { d in
                        depths.withUnsafeBufferPointer { z in
                        bits.withUnsafeBufferPointer { b in
                            let along = GridSample.RayPoints(origins: o.baseAddress!, directions: d.baseAddress!, scale: scale,
                                                             depths: z.baseAddress!, depthStride: stride, perRay: perRay)
                            GridSample.triplane(planes, resolution: res, channels: c, axes: axes, along: along, from: p0, count: n, into: &got)
                            GridSample.triplane(b.baseAddress!, resolution: res, channels: c, axes: axes, points: points, count: n, into: &expected16)
                            GridSample.triplane(b.baseAddress!, resolution: res, channels: c, axes: axes, along: along, from: p0, count: n, into: &got16)
                        }}}}
                        XCTAssertEqual(got, expected, "\(v.name) c \(c) stride \(stride) \(axes)")
                        XCTAssertEqual(got16, expected16, "\(v.name) bf16 c \(c) stride \(stride) \(axes)")
                    }
                }
            }
        }
    }

    func testHugePageBufferIsAlignedWritableMemory() {
        let count = 3 << 20  // 12 MB of floats: several 2 MB pages
        let buffer = HugePageBuffer<Float>(count: count)
        XCTAssertEqual(Int(bitPattern: buffer.pointer) % (2 << 20), 0, "2 MB-aligned, so huge pages can back it")
        for i in stride(from: 0, to: count, by: 1021) { buffer.pointer[i] = Float(i) }
        buffer.pointer[count - 1] = -1
        XCTAssertEqual(buffer.pointer[1021 * 7], Float(1021 * 7))
        XCTAssertEqual(buffer.pointer[count - 1], -1)
    }

    func testWinogradTransformsEveryVariantAreBitExactAndMatchTheDirectConvolution() {
        // Widths whose tile count (w / 4) is under, at and over the 16-tile vector path, with tails.
        let i = 3, o = 2
        var baseline: [String: [Float]] = [:]
        KernelVariant.forEachAvailable { v in
            for (h, w) in [(8, 4), (12, 60), (8, 64), (16, 68), (4, 132)] {
                let x = random(i * h * w, seed: UInt64(700 + w)), wt = random(o * i * 9, seed: 23)
                var ref = [Float](repeating: 0, count: o * h * w)
                for oc in 0..<o { for y in 0..<h { for xx in 0..<w {
                    var s: Float = 0
                    for ic in 0..<i { for ky in 0..<3 { for kx in 0..<3 {
                        let sy = y + ky - 1, sx = xx + kx - 1
                        if sy >= 0 && sy < h && sx >= 0 && sx < w { s += wt[((oc * i + ic) * 3 + ky) * 3 + kx] * x[(ic * h + sy) * w + sx] }
                    } } }
                    ref[(oc * h + y) * w + xx] = s
                } } }
                let u = Winograd.transformWeights(wt, outChannels: o, inChannels: i, tile: .f4x4)
                var out = [Float](repeating: .nan, count: o * h * w)
                Winograd.conv3x3(input: x, inChannels: i, height: h, width: w, transformedWeights: u, outChannels: o,
                                 tile: .f4x4, output: &out, budget: 1 << 20)
                assertClose(out, ref, tol: 1e-5)
                let key = "\(h)x\(w)"
                if let first = baseline[key] {
                    XCTAssertEqual(out.map(\.bitPattern), first.map(\.bitPattern), "\(v.name) \(key) differs from the baseline")
                } else {
                    baseline[key] = out
                }
            }
        }
    }

    func testBFloat16ConversionEveryVariantRoundsToNearestEven() {
        func scalar(_ x: Float) -> UInt16 {
            let u = x.bitPattern
            if u & 0x7FFF_FFFF > 0x7F80_0000 { return UInt16(truncatingIfNeeded: (u >> 16) | 0x40) }
            return UInt16(truncatingIfNeeded: (u &+ 0x7FFF &+ ((u >> 16) & 1)) >> 16)
        }
        KernelVariant.forEachAvailable { v in
            for n in Self.widths + [32, 63, 65] {
                var x = random(n, seed: UInt64(800 + n)).map { $0 * 1e3 }
                if n > 5 { x[1] = .nan; x[2] = .infinity; x[3] = -0.0; x[4] = 1 + 1.0 / 256 }
                XCTAssertEqual(Precision.bfloat16Bits(x), x.map(scalar), "\(v.name) n \(n)")
            }
        }
    }

    func testBFloat16LinearWhereTheVariantHasIt() throws {
        guard KernelVariant.best == .avx512BF16 else {
            throw XCTSkip("this CPU has no AVX512_BF16 (best variant: \(KernelVariant.best.name)); the bf16 layer is refused instead, which testTheSelectionFollowsTheCPU checks")
        }
        let rows = 9, inputs = 37, outputs = 19
        let w = random(outputs * inputs, seed: 91), x = random(rows * inputs, seed: 92)
        let layer = try XCTUnwrap(BFloat16Linear(weight: w, outFeatures: outputs, inFeatures: inputs))
        let rw = Precision.bfloat16Bits(w).map { Double(Float(bitPattern: UInt32($0) << 16)) }
        let rx = Precision.bfloat16Bits(x).map { Double(Float(bitPattern: UInt32($0) << 16)) }
        var y = [Float](repeating: .nan, count: rows * outputs)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { layer.forward(xp.baseAddress!, rows: rows, into: $0.baseAddress!, ldy: outputs) }
        }
        for r in 0..<rows {
            for j in 0..<outputs {
                var sum = 0.0, magnitude = 0.0
                for k in 0..<inputs { sum += rx[r * inputs + k] * rw[j * inputs + k]; magnitude += abs(rx[r * inputs + k] * rw[j * inputs + k]) }
                XCTAssertEqual(Double(y[r * outputs + j]), sum, accuracy: 1e-6 * magnitude + 1e-7)
            }
        }
    }
}
