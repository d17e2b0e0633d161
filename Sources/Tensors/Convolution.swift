// 2-D convolutions as GEMMs on planar [C, H, W] images (batch 1).
// conv2d: tiled im2col + one sgemm per band of output rows, so the column buffer stays small.
// convTranspose2dStride2: one sgemm per band of input rows into a column buffer, then col2im.

public enum Convolution {
    /// Column-buffer budget in floats (16 MiB) for the tiled GEMM convolutions.
    public static let columnBudget = 4 << 20

    /// Cross-correlation like torch.nn.functional.conv2d, stride 1, zero padding `padding` on all sides.
    /// - input: [inC, height, width]; weight: [outC, inC, k, k] (row-major, i.e. a [outC, inC·k·k] matrix);
    /// - output: [outC, height + 2p − k + 1, width + 2p − k + 1]. Adds into output when `accumulate`.
    /// 3×3 'same' convolutions on even-sized planes of at least 16×16 use Winograd (see Winograd.tile).
    public static func conv2d(
        input: UnsafePointer<Float>, inChannels: Int, height: Int, width: Int,
        weight: UnsafePointer<Float>, outChannels: Int, kernel k: Int, padding p: Int,
        output: UnsafeMutablePointer<Float>, accumulate: Bool = false, allowWinograd: Bool = true,
        precision: Precision = .fp32
    ) {
        let ho = height + 2 * p - k + 1, wo = width + 2 * p - k + 1
        let kk = inChannels * k * k
        if allowWinograd && !accumulate, let tile = Winograd.tile(height: height, width: width, kernel: k, padding: p) {
            let u = Winograd.transformWeights(weight, outChannels: outChannels, inChannels: inChannels, tile: tile)
            u.withUnsafeBufferPointer { up in
                Winograd.conv3x3(input: input, inChannels: inChannels, height: height, width: width,
                                 transformedWeights: up.baseAddress!, outChannels: outChannels, tile: tile, output: output,
                                 precision: precision)
            }
            return
        }
        if k == 1 && p == 0 {
            Gemm.sgemm(m: outChannels, n: ho * wo, k: inChannels, a: weight, lda: inChannels,
                       b: input, ldb: height * width, beta: accumulate ? 1 : 0, c: output, ldc: ho * wo,
                       precision: precision)
            return
        }
        let rowsPerTile = Swift.max(1, Swift.min(ho, columnBudget / Swift.max(1, kk * wo)))
        let col = UnsafeMutablePointer<Float>.allocate(capacity: kk * rowsPerTile * wo)
        defer { col.deallocate() }
        var y0 = 0
        while y0 < ho {
            let rows = Swift.min(rowsPerTile, ho - y0)
            let n = rows * wo
            Parallel.forChunks(kk, grain: 4) { s, e in
                for r in s..<e {
                    let i = r / (k * k), ky = (r / k) % k, kx = r % k
                    let src = input + i * height * width
                    let dst = col + r * n
                    // Columns x with 0 <= x + kx − p < width are copied; the rest are zero padding.
                    let xLo = Swift.max(0, p - kx), xHi = Swift.min(wo, width + p - kx)
                    for ty in 0..<rows {
                        let sy = y0 + ty + ky - p
                        let d = dst + ty * wo
                        if sy < 0 || sy >= height || xLo >= xHi {
                            d.update(repeating: 0, count: wo)
                            continue
                        }
                        if xLo > 0 { d.update(repeating: 0, count: xLo) }
                        (d + xLo).update(from: src + sy * width + xLo + kx - p, count: xHi - xLo)
                        if xHi < wo { (d + xHi).update(repeating: 0, count: wo - xHi) }
                    }
                }
            }
            Gemm.sgemm(m: outChannels, n: n, k: kk, a: weight, lda: kk, b: col, ldb: n,
                       beta: accumulate ? 1 : 0, c: output + y0 * wo, ldc: ho * wo, precision: precision)
            y0 += rows
        }
    }

    /// Transposed convolution with stride 2 and no padding, like torch conv_transpose2d(x, wᵀ, stride=2)
    /// where `weight` is [outC, inC, k, k]: out[o, 2y+ky, 2x+kx] += Σᵢ w[o, i, ky, kx] · x[i, y, x].
    /// Output: [outC, 2(height−1)+k, 2(width−1)+k], overwritten.
    public static func convTranspose2dStride2(
        input: UnsafePointer<Float>, inChannels: Int, height: Int, width: Int,
        weight: UnsafePointer<Float>, outChannels: Int, kernel k: Int,
        output: UnsafeMutablePointer<Float>, precision: Precision = .fp32
    ) {
        let a = arrangeTransposed(weight: weight, outChannels: outChannels, inChannels: inChannels, kernel: k)
        a.withUnsafeBufferPointer { ap in
            convTranspose2dStride2(input: input, inChannels: inChannels, height: height, width: width,
                                   arrangedWeight: ap.baseAddress!, outChannels: outChannels, kernel: k, output: output,
                                   precision: precision)
        }
    }

    /// A[(o, tap), i] = w[o, i, tap]: weight [O, I, k, k] as the [O·k², I] matrix the transposed
    /// convolution multiplies by.
    public static func arrangeTransposed(weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int, kernel k: Int) -> [Float] {
        let taps = k * k
        var a = [Float](repeating: 0, count: outChannels * taps * inChannels)
        a.withUnsafeMutableBufferPointer { ap in
            let a = ap.baseAddress!
            Parallel.forChunks(outChannels) { s, e in
                for o in s..<e {
                    for i in 0..<inChannels {
                        for t in 0..<taps { a[(o * taps + t) * inChannels + i] = weight[(o * inChannels + i) * taps + t] }
                    }
                }
            }
        }
        return a
    }

    /// convTranspose2dStride2 with the weight already arranged by `arrangeTransposed`.
    public static func convTranspose2dStride2(
        input: UnsafePointer<Float>, inChannels: Int, height: Int, width: Int,
        arrangedWeight a: UnsafePointer<Float>, outChannels: Int, kernel k: Int,
        output: UnsafeMutablePointer<Float>, precision: Precision = .fp32
    ) {
        let ho = 2 * (height - 1) + k, wo = 2 * (width - 1) + k
        let taps = k * k
        let m = outChannels * taps
        output.update(repeating: 0, count: outChannels * ho * wo)
        let rowsPerTile = Swift.max(1, Swift.min(height, columnBudget / Swift.max(1, m * width)))
        let col = UnsafeMutablePointer<Float>.allocate(capacity: m * rowsPerTile * width)
        defer { col.deallocate() }
        var y0 = 0
        while y0 < height {
            let rows = Swift.min(rowsPerTile, height - y0)
            let n = rows * width
            Gemm.sgemm(m: m, n: n, k: inChannels, a: a, lda: inChannels, b: input + y0 * width,
                       ldb: height * width, c: col, ldc: n, precision: precision)
            Parallel.forChunks(outChannels) { s, e in
                for o in s..<e {
                    let plane = output + o * ho * wo
                    for ky in 0..<k {
                        for kx in 0..<k {
                            let src = col + (o * taps + ky * k + kx) * n
                            for ty in 0..<rows {
                                let drow = plane + (2 * (y0 + ty) + ky) * wo + kx
                                let srow = src + ty * width
                                for x in 0..<width { drow[2 * x] += srow[x] }
                            }
                        }
                    }
                }
            }
            y0 += rows
        }
    }
}
