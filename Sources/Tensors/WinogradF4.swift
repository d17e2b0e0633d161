// Winograd F(4×4, 3×3) (Lavin & Gray 2016, interpolation points 0, ±1, ±2, ∞): 6×6 input tiles give
// 4×4 outputs through 36 GEMMs, 2.25 multiply-adds per output and input channel instead of F(2×2)'s 4
// (and 9 for the direct form). Used where both sides of the plane are multiples of 4. Its transforms
// have larger constants than F(2×2), so rounding is a few times larger, still ~1e−6 relative.
//   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
//   G  = [1/4 0 0; −1/6 −1/6 −1/6; −1/6 1/6 −1/6; 1/24 1/12 1/6; 1/24 −1/12 1/6; 0 0 1]
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]

import CKernels

extension Winograd {
    /// U[ξ][o][i] = (G g Gᵀ)[ξ] for weight [O, I, 3, 3]; 36·O·I floats.
    static func transformWeightsF4(_ w: UnsafePointer<Float>, outChannels o: Int, inChannels i: Int) -> [Float] {
        let plane = o * i
        var u = [Float](repeating: 0, count: 36 * plane)
        u.withUnsafeMutableBufferPointer { up in
            let dst = up.baseAddress!
            Parallel.forChunks(plane, grain: 256) { s, e in
                let t = UnsafeMutablePointer<Float>.allocate(capacity: 18)
                defer { t.deallocate() }
                for p in s..<e {
                    let g = w + p * 9
                    // G g: 6×3, one column at a time.
                    for c in 0..<3 {
                        let g0 = g[c], g1 = g[3 + c], g2 = g[6 + c]
                        t[c] = g0 / 4
                        t[3 + c] = -(g0 + g1 + g2) / 6
                        t[6 + c] = -(g0 - g1 + g2) / 6
                        t[9 + c] = g0 / 24 + g1 / 12 + g2 / 6
                        t[12 + c] = g0 / 24 - g1 / 12 + g2 / 6
                        t[15 + c] = g2
                    }
                    // (G g) Gᵀ: each row of 3 becomes 6.
                    for r in 0..<6 {
                        let a = t[3 * r], b = t[3 * r + 1], c = t[3 * r + 2]
                        dst[(6 * r + 0) * plane + p] = a / 4
                        dst[(6 * r + 1) * plane + p] = -(a + b + c) / 6
                        dst[(6 * r + 2) * plane + p] = -(a - b + c) / 6
                        dst[(6 * r + 3) * plane + p] = a / 24 + b / 12 + c / 6
                        dst[(6 * r + 4) * plane + p] = a / 24 - b / 12 + c / 6
                        dst[(6 * r + 5) * plane + p] = c
                    }
                }
            }
        }
        return u
    }

    /// Four 3×3 'same' convolutions of one input, one per output phase (py, px) = (p / 2, p % 2),
    /// interleaved into output [O, 2H, 2W]: output[o, 2y + py, 2x + px] = conv(input, phase p)[o, y, x].
    /// A ×2 upsampling convolution followed by its FIR filter is exactly this (see ModulatedConvolution);
    /// the input transform is shared by the four phases. H and W multiples of 4; scales as in Winograd.banded.
    public static func upsamplingConv3x3(
        input: UnsafePointer<Float>, inChannels ic: Int, height h: Int, width w: Int,
        phaseWeights: [PackedWeights], outChannels oc: Int,
        inputScale: UnsafePointer<Float>?, outputScale: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, budget: Int = bandBudget
    ) {
        precondition(phaseWeights.count == 4 && h % 4 == 0 && w % 4 == 0, "needs 4 phases and sides that are multiples of 4")
        banded(tile: .f4x4, input: input, inChannels: ic, height: h, width: w, phases: phaseWeights.map(\.planes),
               outChannels: oc, inputScale: inputScale, outputScale: outputScale, output: output, budget: budget,
               precision: phaseWeights[0].precision)
    }

    /// V[ξ][c][tile] = (Bᵀ d B)[ξ] for the 6×6 input tile d at (4ty − 1, 4tx − 1). Each input row is split
    /// into its four column phases p_k[j] = x[4j + k − 1] (zero outside the plane), the six rows are
    /// combined by Bᵀ, and tile tx reads columns p0[tx] p1[tx] p2[tx] p3[tx] p0[tx+1] p1[tx+1].
    /// With `bf16`, V goes there as bf16 instead (each row made in float32 scratch, then rounded).
    static func inputTransformF4(
        _ input: UnsafePointer<Float>, channels ic: Int, height h: Int, width w: Int,
        tileRow0 ty0: Int, tileRows rows: Int, scale: UnsafePointer<Float>?, into v: UnsafeMutablePointer<Float>,
        bf16: UnsafeMutablePointer<UInt16>? = nil
    ) {
        let tw = w / 4, n1 = tw + 1, nt = rows * tw
        Parallel.forChunks(ic) { s, e in
            let rowScratch = UnsafeMutablePointer<Float>.allocate(capacity: bf16 == nil ? 1 : 6 * tw)
            defer { rowScratch.deallocate() }
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 48 * n1 + w + 8)
            defer { scratch.deallocate() }
            let phases = scratch             // [6 rows][4 phases][n1]
            let comb = scratch + 24 * n1     // [6 combined rows][4 phases][n1]
            let padded = scratch + 48 * n1   // x[−1 ..< w + 7] at offset 1
            padded[0] = 0
            (padded + w + 1).update(repeating: 0, count: 7)
            for c in s..<e {
                let src = input + c * h * w
                let sc = scale?[c] ?? 1
                for r in 0..<rows {
                    let y0 = 4 * (ty0 + r) - 1
                    for a in 0..<6 {
                        let y = y0 + a
                        let ph = phases + a * 4 * n1
                        if y < 0 || y >= h { ph.update(repeating: 0, count: 4 * n1); continue }
                        let row = src + y * w
                        for x in 0..<w { padded[1 + x] = row[x] * sc }
                        for k in 0..<4 {
                            let p = ph + k * n1
                            for j in 0..<n1 { p[j] = padded[4 * j + k] }
                        }
                    }
                    // Bᵀ over rows, on every phase at once.
                    let len = 4 * n1
                    let d0 = phases, d1 = phases + len, d2 = phases + 2 * len
                    let d3 = phases + 3 * len, d4 = phases + 4 * len, d5 = phases + 5 * len
                    let c0 = comb, c1 = comb + len, c2 = comb + 2 * len
                    let c3 = comb + 3 * len, c4 = comb + 4 * len, c5 = comb + 5 * len
                    for j in 0..<len {
                        (c0[j], c1[j], c2[j], c3[j], c4[j], c5[j]) = bt(d0[j], d1[j], d2[j], d3[j], d4[j], d5[j])
                    }
                    // B over columns.
                    for i in 0..<6 {
                        let p0 = comb + i * len, p1 = p0 + n1, p2 = p0 + 2 * n1, p3 = p0 + 3 * n1
                        @inline(__always) func offset(_ j: Int) -> Int { ((6 * i + j) * ic + c) * nt + r * tw }
                        @inline(__always) func out(_ j: Int) -> UnsafeMutablePointer<Float> {
                            bf16 == nil ? v + offset(j) : rowScratch + j * tw
                        }
                        let o0 = out(0), o1 = out(1), o2 = out(2), o3 = out(3), o4 = out(4), o5 = out(5)
                        for tx in 0..<tw {
                            (o0[tx], o1[tx], o2[tx], o3[tx], o4[tx], o5[tx]) = bt(p0[tx], p1[tx], p2[tx], p3[tx], p0[tx + 1], p1[tx + 1])
                        }
                        if let bf16 {
                            for j in 0..<6 { avz_to_bf16(rowScratch + j * tw, bf16 + offset(j), tw) }
                        }
                    }
                }
            }
        }
    }

    /// Bᵀ times a column of six (one step of the input transform; rows and columns both use it).
    @inline(__always)
    private static func bt(_ a0: Float, _ a1: Float, _ a2: Float, _ a3: Float, _ a4: Float, _ a5: Float)
        -> (Float, Float, Float, Float, Float, Float) {
        (4 * a0 - 5 * a2 + a4, -4 * a1 - 4 * a2 + a3 + a4, 4 * a1 - 4 * a2 - a3 + a4,
         -2 * a1 - a2 + 2 * a3 + a4, 2 * a1 - a2 - 2 * a3 + a4, 4 * a1 - 5 * a3 + a5)
    }

    /// Y = Aᵀ M A per output channel and tile: rows of M first (6 → 4), then columns, 4×4 outputs per tile.
    /// With a phase (py, px), output is [O, 2H, 2W] and pixel (y, x) lands at (2y + py, 2x + px).
    static func outputTransformF4(
        _ m: UnsafePointer<Float>, channels oc: Int, height h: Int, width w: Int,
        tileRow0 ty0: Int, tileRows rows: Int, scale: UnsafePointer<Float>?, phase: (Int, Int)?,
        into output: UnsafeMutablePointer<Float>
    ) {
        let tw = w / 4, nt = rows * tw
        let up = phase == nil ? 1 : 2
        let (py, px) = phase ?? (0, 0)
        let outW = w * up
        Parallel.forChunks(oc) { s, e in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 24 * tw)  // [4 rows][6 columns][tw]
            defer { scratch.deallocate() }
            for o in s..<e {
                let dst = output + o * h * w * up * up + py * outW + px
                let sc = scale?[o] ?? 1
                for r in 0..<rows {
                    for b in 0..<6 {
                        @inline(__always) func row(_ a: Int) -> UnsafePointer<Float> { m + ((6 * a + b) * oc + o) * nt + r * tw }
                        let m0 = row(0), m1 = row(1), m2 = row(2), m3 = row(3), m4 = row(4), m5 = row(5)
                        let r0 = scratch + b * tw, r1 = scratch + (6 + b) * tw
                        let r2 = scratch + (12 + b) * tw, r3 = scratch + (18 + b) * tw
                        for tx in 0..<tw {
                            let a1 = m1[tx], a2 = m2[tx], a3 = m3[tx], a4 = m4[tx]
                            r0[tx] = m0[tx] + a1 + a2 + a3 + a4
                            r1[tx] = a1 - a2 + 2 * a3 - 2 * a4
                            r2[tx] = a1 + a2 + 4 * a3 + 4 * a4
                            r3[tx] = a1 - a2 + 8 * a3 - 8 * a4 + m5[tx]
                        }
                    }
                    for i in 0..<4 {
                        let q = scratch + 6 * i * tw
                        let q0 = q, q1 = q + tw, q2 = q + 2 * tw, q3 = q + 3 * tw, q4 = q + 4 * tw, q5 = q + 5 * tw
                        let d = dst + (4 * (ty0 + r) + i) * up * outW
                        // Output columns 4tx … 4tx + 3, every `up`-th pixel of the output row.
                        for tx in 0..<tw {
                            let a1 = q1[tx], a2 = q2[tx], a3 = q3[tx], a4 = q4[tx]
                            let x = 4 * up * tx
                            d[x] = (q0[tx] + a1 + a2 + a3 + a4) * sc
                            d[x + up] = (a1 - a2 + 2 * a3 - 2 * a4) * sc
                            d[x + 2 * up] = (a1 + a2 + 4 * a3 + 4 * a4) * sc
                            d[x + 3 * up] = (a1 - a2 + 8 * a3 - 8 * a4 + q5[tx]) * sc
                        }
                    }
                }
            }
        }
    }
}
