// 3×3, stride-1, padding-1 convolution by Winograd's minimal filtering (Lavin & Gray 2016): weights and
// input tiles are transformed, a batch of GEMMs multiplies them, and the output tiles are transformed
// back. F(2×2, 3×3) here (4×4 tiles, 16 GEMMs); F(4×4, 3×3) in WinogradF4.swift (6×6 tiles, 36 GEMMs).
// Same result as conv2d up to float32 rounding.
import Foundation

public enum Winograd {
    /// The output tile size: 2×2 or 4×4.
    public enum Tile: Sendable, Equatable {
        case f2x2, f4x4
        /// Transformed weights hold this many [O, I] planes.
        public var points: Int { self == .f2x2 ? 16 : 36 }
    }

    /// Off when AVATARIZE_NO_WINOGRAD is set (for A/B timing against plain im2col + GEMM).
    public static let enabled = ProcessInfo.processInfo.environment["AVATARIZE_NO_WINOGRAD"] == nil
    /// AVATARIZE_WINOGRAD_F2 keeps to 2×2 tiles (for A/B timing of the 4×4 ones).
    static let largeTiles = ProcessInfo.processInfo.environment["AVATARIZE_WINOGRAD_F2"] == nil

    /// Column budget (floats) of one band of transformed tiles: big enough for wide GEMMs (64 MiB).
    public static let bandBudget = 16 << 20

    /// The tile for a 3×3 'same' convolution on this plane, nil when Winograd does not apply (odd sizes,
    /// or planes too small to pay for the transforms). 4×4 tiles where both sides are multiples of 4.
    public static func tile(height: Int, width: Int, kernel: Int, padding: Int) -> Tile? {
        guard enabled, kernel == 3, padding == 1, height % 2 == 0, width % 2 == 0, height * width >= 256 else { return nil }
        return largeTiles && height % 4 == 0 && width % 4 == 0 ? .f4x4 : .f2x2
    }

    /// Transformed weights for `tile`: [points, O, I] from weight [O, I, 3, 3].
    public static func transformWeights(_ w: UnsafePointer<Float>, outChannels o: Int, inChannels i: Int, tile: Tile) -> [Float] {
        tile == .f2x2 ? transformWeightsF2(w, outChannels: o, inChannels: i) : transformWeightsF4(w, outChannels: o, inChannels: i)
    }

    /// output [O, H, W] = conv3×3(input [I, H, W], padding 1) with weights transformed for `tile`.
    public static func conv3x3(
        input: UnsafePointer<Float>, inChannels ic: Int, height h: Int, width w: Int,
        transformedWeights u: UnsafePointer<Float>, outChannels oc: Int, tile: Tile,
        inputScale: UnsafePointer<Float>? = nil, outputScale: UnsafePointer<Float>? = nil,
        output: UnsafeMutablePointer<Float>, budget: Int = bandBudget, precision: Precision = .fp32
    ) {
        banded(tile: tile, input: input, inChannels: ic, height: h, width: w, phases: [.float32(u)], outChannels: oc,
               inputScale: inputScale, outputScale: outputScale, output: output, budget: budget, precision: precision)
    }

    /// conv3x3 with weights transformed at load, in their stored precision.
    public static func conv3x3(
        input: UnsafePointer<Float>, inChannels ic: Int, height h: Int, width w: Int,
        weights: PackedWeights, outChannels oc: Int, tile: Tile,
        inputScale: UnsafePointer<Float>? = nil, outputScale: UnsafePointer<Float>? = nil,
        output: UnsafeMutablePointer<Float>
    ) {
        banded(tile: tile, input: input, inChannels: ic, height: h, width: w, phases: [weights.planes], outChannels: oc,
               inputScale: inputScale, outputScale: outputScale, output: output, budget: bandBudget,
               precision: weights.precision)
    }

    /// U[ξ][o][i] = (G g Gᵀ)[ξ] for weight [O, I, 3, 3]; 16·O·I floats.
    static func transformWeightsF2(_ w: UnsafePointer<Float>, outChannels o: Int, inChannels i: Int) -> [Float] {
        let plane = o * i
        var u = [Float](repeating: 0, count: 16 * plane)
        u.withUnsafeMutableBufferPointer { up in
            let dst = up.baseAddress!
            Parallel.forChunks(plane, grain: 256) { s, e in
                let t = UnsafeMutablePointer<Float>.allocate(capacity: 12)
                defer { t.deallocate() }
                for p in s..<e {
                    let g = w + p * 9
                    // Gg: 4×3
                    for c in 0..<3 {
                        let g0 = g[c], g1 = g[3 + c], g2 = g[6 + c]
                        t[c] = g0
                        t[3 + c] = (g0 + g1 + g2) * 0.5
                        t[6 + c] = (g0 - g1 + g2) * 0.5
                        t[9 + c] = g2
                    }
                    for r in 0..<4 {
                        let a = t[3 * r], b = t[3 * r + 1], c = t[3 * r + 2]
                        dst[(4 * r + 0) * plane + p] = a
                        dst[(4 * r + 1) * plane + p] = (a + b + c) * 0.5
                        dst[(4 * r + 2) * plane + p] = (a - b + c) * 0.5
                        dst[(4 * r + 3) * plane + p] = c
                    }
                }
            }
        }
        return u
    }

    /// output [O, H, W] = conv3×3(input [I, H, W], padding 1), one band of tile rows at a time: the input
    /// transform, one GEMM per transform point and phase (each on one thread), the output transform. Input
    /// channel c is multiplied by inputScale[c] and output channel o by outputScale[o] inside the transforms
    /// (a modulated convolution's styles and demodulation, without modulating the weights). With four
    /// phases (4×4 tiles only) the output is the interleaved [O, 2H, 2W] of upsamplingConv3x3. With bf16
    /// the transformed weights and tiles are rounded to bf16 for the products; the transforms stay float32.
    static func banded(
        tile: Tile, input: UnsafePointer<Float>, inChannels ic: Int, height h: Int, width w: Int,
        phases: [Planes], outChannels oc: Int,
        inputScale: UnsafePointer<Float>?, outputScale: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, budget: Int, precision: Precision = .fp32
    ) {
        precondition(tile == .f4x4 || phases.count == 1, "phases need 4×4 tiles")
        let side = tile == .f2x2 ? 2 : 4, points = tile.points
        let tw = w / side, th = h / side
        // Tile rows per band so that V [points, I, Tb] and M [points, O, Tb] fit the budget.
        let rowsPerBand = Swift.max(1, Swift.min(th, budget / Swift.max(1, points * (ic + oc) * tw)))
        let maxTiles = rowsPerBand * tw
        // bf16 layers with bf16 weights get their 4×4-tile input transform written straight in bf16: half the
        // traffic through the largest buffer, and the products read it as it is.
        let bf16Tiles = tile == .f4x4 && phases.allSatisfy { if case .bfloat16 = $0 { return true } else { return false } }
        let v = UnsafeMutablePointer<Float>.allocate(capacity: bf16Tiles ? 1 : points * ic * maxTiles)
        let v16 = UnsafeMutablePointer<UInt16>.allocate(capacity: bf16Tiles ? points * ic * maxTiles : 1)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: points * oc * maxTiles)
        defer { v.deallocate(); v16.deallocate(); m.deallocate() }
        var ty0 = 0
        while ty0 < th {
            let rows = Swift.min(rowsPerBand, th - ty0)
            let nt = rows * tw
            OpProfile.measure("winograd input transform") {
                if tile == .f2x2 {
                    inputTransformF2(input, channels: ic, height: h, width: w, tileRow0: ty0, tileRows: rows, scale: inputScale, into: v)
                } else {
                    inputTransformF4(input, channels: ic, height: h, width: w, tileRow0: ty0, tileRows: rows, scale: inputScale,
                                     into: v, bf16: bf16Tiles ? v16 : nil)
                }
            }
            for (p, u) in phases.enumerated() {
                // The products are independent: one thread each, rather than each split over the threads.
                OpProfile.measure("winograd gemm") {
                    Parallel.forEach(points) { xi in
                        switch u {
                        case .float32(let u):
                            Gemm.serial(m: oc, n: nt, k: ic, a: u + xi * oc * ic, lda: ic, b: v + xi * ic * nt, ldb: nt,
                                        c: m + xi * oc * nt, ldc: nt, precision: precision)
                        case .bfloat16(let u) where bf16Tiles:
                            Gemm.serialBF16(m: oc, n: nt, k: ic, a: u + xi * oc * ic, b: v16 + xi * ic * nt,
                                            c: m + xi * oc * nt, ldc: nt)
                        case .bfloat16(let u):
                            Gemm.serialBF16(m: oc, n: nt, k: ic, a: u + xi * oc * ic, b: v + xi * ic * nt, ldb: nt,
                                            c: m + xi * oc * nt, ldc: nt)
                        }
                    }
                }
                OpProfile.measure("winograd output transform") {
                    if tile == .f2x2 {
                        outputTransformF2(m, channels: oc, height: h, width: w, tileRow0: ty0, tileRows: rows, scale: outputScale, into: output)
                    } else {
                        outputTransformF4(m, channels: oc, height: h, width: w, tileRow0: ty0, tileRows: rows, scale: outputScale,
                                          phase: phases.count == 1 ? nil : (p / 2, p % 2), into: output)
                    }
                }
            }
            ty0 += rows
        }
    }

    /// F(2×2) input transform V = Bᵀ d B per channel and tile, a row of tiles at a time: the four input rows
    /// are split into even and odd columns (zero outside the plane), combined over rows (Bᵀ), and then over
    /// columns (B), so every loop runs over contiguous tiles.
    private static func inputTransformF2(
        _ input: UnsafePointer<Float>, channels ic: Int, height h: Int, width w: Int,
        tileRow0 ty0: Int, tileRows rows: Int, scale: UnsafePointer<Float>?, into v: UnsafeMutablePointer<Float>
    ) {
        let tw = w / 2, nt = rows * tw
        Parallel.forChunks(ic) { s, e in
            let n1 = tw + 1
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 16 * n1)
            defer { scratch.deallocate() }
            // rows[a] = (even, odd) of input row a; then combos[a] = (even, odd) of (Bᵀ d) row a.
            let ev = scratch, od = scratch + 4 * n1, ce = scratch + 8 * n1, co = scratch + 12 * n1
            for c in s..<e {
                let src = input + c * h * w
                let sc = scale?[c] ?? 1
                for r in 0..<rows {
                    let y0 = 2 * (ty0 + r) - 1
                    for a in 0..<4 {
                        let y = y0 + a
                        let e = ev + a * n1, o = od + a * n1
                        if y < 0 || y >= h {
                            e.update(repeating: 0, count: n1); o.update(repeating: 0, count: n1)
                            continue
                        }
                        let row = src + y * w
                        // e[j] = x[2j], o[j] = x[2j − 1]; x[w] and x[−1] are padding.
                        o[0] = 0
                        for j in 0..<tw { e[j] = row[2 * j] * sc; o[j + 1] = row[2 * j + 1] * sc }
                        e[tw] = 0
                    }
                    for j in 0..<n1 {
                        let e0 = ev[j], e1 = ev[n1 + j], e2 = ev[2 * n1 + j], e3 = ev[3 * n1 + j]
                        ce[j] = e0 - e2; ce[n1 + j] = e1 + e2; ce[2 * n1 + j] = e2 - e1; ce[3 * n1 + j] = e1 - e3
                        let o0 = od[j], o1 = od[n1 + j], o2 = od[2 * n1 + j], o3 = od[3 * n1 + j]
                        co[j] = o0 - o2; co[n1 + j] = o1 + o2; co[2 * n1 + j] = o2 - o1; co[3 * n1 + j] = o1 - o3
                    }
                    // Tile tx reads columns 2tx − 1 … 2tx + 2 = o[tx], e[tx], o[tx + 1], e[tx + 1].
                    for a in 0..<4 {
                        let e = ce + a * n1, o = co + a * n1
                        let v0 = v + ((4 * a + 0) * ic + c) * nt + r * tw
                        let v1 = v + ((4 * a + 1) * ic + c) * nt + r * tw
                        let v2 = v + ((4 * a + 2) * ic + c) * nt + r * tw
                        let v3 = v + ((4 * a + 3) * ic + c) * nt + r * tw
                        for tx in 0..<tw {
                            let d0 = o[tx], d1 = e[tx], d2 = o[tx + 1], d3 = e[tx + 1]
                            v0[tx] = d0 - d2; v1[tx] = d1 + d2; v2[tx] = d2 - d1; v3[tx] = d1 - d3
                        }
                    }
                }
            }
        }
    }

    /// F(2×2) output transform Y = Aᵀ M A per output channel, a row of tiles at a time: rows of M combine into
    /// R0 = m0 + m1 + m2 and R1 = m1 − m2 − m3, then columns into the 2×2 outputs.
    private static func outputTransformF2(
        _ m: UnsafePointer<Float>, channels oc: Int, height h: Int, width w: Int,
        tileRow0 ty0: Int, tileRows rows: Int, scale: UnsafePointer<Float>?, into output: UnsafeMutablePointer<Float>
    ) {
        let tw = w / 2, nt = rows * tw
        Parallel.forChunks(oc) { s, e in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 8 * tw)
            defer { scratch.deallocate() }
            for o in s..<e {
                let dst = output + o * h * w
                let sc = scale?[o] ?? 1
                for r in 0..<rows {
                    @inline(__always) func mrow(_ xi: Int) -> UnsafePointer<Float> { m + (xi * oc + o) * nt + r * tw }
                    for b in 0..<4 {
                        let m0 = mrow(b), m1 = mrow(4 + b), m2 = mrow(8 + b), m3 = mrow(12 + b)
                        let r0 = scratch + b * tw, r1 = scratch + (4 + b) * tw
                        for tx in 0..<tw {
                            r0[tx] = m0[tx] + m1[tx] + m2[tx]
                            r1[tx] = m1[tx] - m2[tx] - m3[tx]
                        }
                    }
                    let top = dst + 2 * (ty0 + r) * w, bottom = top + w
                    let a0 = scratch, a1 = scratch + tw, a2 = scratch + 2 * tw, a3 = scratch + 3 * tw
                    let b0 = scratch + 4 * tw, b1 = scratch + 5 * tw, b2 = scratch + 6 * tw, b3 = scratch + 7 * tw
                    for tx in 0..<tw {
                        top[2 * tx] = (a0[tx] + a1[tx] + a2[tx]) * sc
                        top[2 * tx + 1] = (a1[tx] - a2[tx] - a3[tx]) * sc
                        bottom[2 * tx] = (b0[tx] + b1[tx] + b2[tx]) * sc
                        bottom[2 * tx + 1] = (b1[tx] - b2[tx] - b3[tx]) * sc
                    }
                }
            }
        }
    }
}
