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
        let nt = rows * (w / 4)
        Parallel.forChunks(ic) { s, e in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: avz_winograd_f4_input_scratch(w))
            defer { scratch.deallocate() }
            for c in s..<e {
                avz_winograd_f4_input(input + c * h * w, h, w, ty0, rows, scale?[c] ?? 1, scratch,
                                      bf16 == nil ? v + c * nt : nil, bf16.map { $0 + c * nt }, ic * nt)
            }
        }
    }

    /// Y = Aᵀ M A per output channel and tile: rows of M first (6 → 4), then columns, 4×4 outputs per tile.
    /// With a phase (py, px), output is [O, 2H, 2W] and pixel (y, x) lands at (2y + py, 2x + px).
    static func outputTransformF4(
        _ m: UnsafePointer<Float>, channels oc: Int, height h: Int, width w: Int,
        tileRow0 ty0: Int, tileRows rows: Int, scale: UnsafePointer<Float>?, phase: (Int, Int)?,
        into output: UnsafeMutablePointer<Float>
    ) {
        let nt = rows * (w / 4)
        let up = phase == nil ? 1 : 2
        let (py, px) = phase ?? (0, 0)
        let outW = w * up
        Parallel.forChunks(oc) { s, e in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: avz_winograd_f4_output_scratch(w))
            defer { scratch.deallocate() }
            for o in s..<e {
                avz_winograd_f4_output(m + o * nt, oc * nt, w, ty0, rows, scale?[o] ?? 1, up, outW, scratch,
                                       output + o * h * w * up * up + py * outW + px)
            }
        }
    }
}
