// 3×3, stride-1, padding-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray 2016):
// weights and 4×4 input tiles are transformed, 16 GEMMs replace 36 multiply-adds per output pair with 16,
// and the 2×2 output tiles are transformed back. Same result as conv2d up to float32 rounding.
import Foundation

public enum Winograd {
    /// Off when AVATARIZE_NO_WINOGRAD is set (for A/B timing against plain im2col + GEMM).
    public static let enabled = ProcessInfo.processInfo.environment["AVATARIZE_NO_WINOGRAD"] == nil

    /// Applies when the plane splits into 2×2 tiles and is large enough to pay for the transforms.
    public static func applies(height: Int, width: Int, kernel: Int, padding: Int) -> Bool {
        kernel == 3 && padding == 1 && height % 2 == 0 && width % 2 == 0 && height * width >= 256
    }

    /// U[ξ][o][i] = (G g Gᵀ)[ξ] for weight [O, I, 3, 3]; 16·O·I floats.
    public static func transformWeights(_ w: UnsafePointer<Float>, outChannels o: Int, inChannels i: Int) -> [Float] {
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

    /// output [O, H, W] = conv3×3(input [I, H, W], padding 1) with transformed weights `u`.
    public static func conv3x3(
        input: UnsafePointer<Float>, inChannels ic: Int, height h: Int, width w: Int,
        transformedWeights u: UnsafePointer<Float>, outChannels oc: Int,
        output: UnsafeMutablePointer<Float>, budget: Int = Convolution.columnBudget
    ) {
        let tw = w / 2, th = h / 2
        // Tile rows per band so that V [16, I, Tb] and M [16, O, Tb] fit the budget.
        let rowsPerBand = Swift.max(1, Swift.min(th, budget / Swift.max(1, 16 * (ic + oc) * tw)))
        let maxTiles = rowsPerBand * tw
        let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * ic * maxTiles)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: 16 * oc * maxTiles)
        defer { v.deallocate(); m.deallocate() }
        var ty0 = 0
        while ty0 < th {
            let rows = Swift.min(rowsPerBand, th - ty0)
            let nt = rows * tw
            // Input transform V = Bᵀ d B per channel and tile.
            Parallel.forChunks(ic) { s, e in
                let d = UnsafeMutablePointer<Float>.allocate(capacity: 32)
                let t = d + 16
                defer { d.deallocate() }
                for c in s..<e {
                    let src = input + c * h * w
                    for r in 0..<rows {
                        let y0 = 2 * (ty0 + r) - 1
                        for tx in 0..<tw {
                            let x0 = 2 * tx - 1
                            if y0 >= 0 && y0 + 3 < h && x0 >= 0 && x0 + 3 < w {
                                for a in 0..<4 { let row = src + (y0 + a) * w + x0; for b in 0..<4 { d[4 * a + b] = row[b] } }
                            } else {
                                for a in 0..<4 {
                                    let y = y0 + a
                                    for b in 0..<4 {
                                        let x = x0 + b
                                        d[4 * a + b] = (y >= 0 && y < h && x >= 0 && x < w) ? src[y * w + x] : 0
                                    }
                                }
                            }
                            // Bᵀ d (rows), then · B (columns).
                            for b in 0..<4 {
                                let d0 = d[b], d1 = d[4 + b], d2 = d[8 + b], d3 = d[12 + b]
                                t[b] = d0 - d2; t[4 + b] = d1 + d2; t[8 + b] = d2 - d1; t[12 + b] = d1 - d3
                            }
                            let col = r * tw + tx
                            for a in 0..<4 {
                                let t0 = t[4 * a], t1 = t[4 * a + 1], t2 = t[4 * a + 2], t3 = t[4 * a + 3]
                                v[((4 * a + 0) * ic + c) * nt + col] = t0 - t2
                                v[((4 * a + 1) * ic + c) * nt + col] = t1 + t2
                                v[((4 * a + 2) * ic + c) * nt + col] = t2 - t1
                                v[((4 * a + 3) * ic + c) * nt + col] = t1 - t3
                            }
                        }
                    }
                }
            }
            for xi in 0..<16 {
                Gemm.sgemm(m: oc, n: nt, k: ic, a: u + xi * oc * ic, lda: ic, b: v + xi * ic * nt, ldb: nt,
                           c: m + xi * oc * nt, ldc: nt)
            }
            // Output transform Y = Aᵀ M A per output channel and tile.
            Parallel.forChunks(oc) { s, e in
                for o in s..<e {
                    let dst = output + o * h * w
                    for col in 0..<nt {
                        var q = (Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0))
                        // Aᵀ M: rows s0 = m0 + m1 + m2, s1 = m1 − m2 − m3 (over the first index).
                        @inline(__always) func at(_ a: Int, _ b: Int) -> Float { m[((4 * a + b) * oc + o) * nt + col] }
                        let r0 = (at(0, 0) + at(1, 0) + at(2, 0), at(0, 1) + at(1, 1) + at(2, 1),
                                  at(0, 2) + at(1, 2) + at(2, 2), at(0, 3) + at(1, 3) + at(2, 3))
                        let r1 = (at(1, 0) - at(2, 0) - at(3, 0), at(1, 1) - at(2, 1) - at(3, 1),
                                  at(1, 2) - at(2, 2) - at(3, 2), at(1, 3) - at(2, 3) - at(3, 3))
                        q.0 = r0.0 + r0.1 + r0.2; q.1 = r0.1 - r0.2 - r0.3
                        q.2 = r1.0 + r1.1 + r1.2; q.3 = r1.1 - r1.2 - r1.3
                        let ty = ty0 + col / tw, tx = col % tw
                        let p = dst + (2 * ty) * w + 2 * tx
                        p[0] = q.0; p[1] = q.1; p[w] = q.2; p[w + 1] = q.3
                    }
                }
            }
            ty0 += rows
        }
    }
}
