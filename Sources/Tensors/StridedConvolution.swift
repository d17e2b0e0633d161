// Strided 2-D convolution as im2col + sgemm on planar [C, H, W] images (batch 1), and the stride-s
// subsampling that torch.nn.MaxPool2d(kernel_size=1, stride=s) performs.
// Semantics follow torch.nn.functional.conv2d(x, w, stride=s, padding=p) (cross-correlation, zero
// padding); stride 1 is handed to Convolution.conv2d.

extension Convolution {
    /// Output side length of a convolution or pooling window: ⌊(n + 2p − k) / s⌋ + 1.
    @inline(__always)
    public static func outputSize(_ n: Int, kernel k: Int, stride s: Int, padding p: Int) -> Int {
        (n + 2 * p - k) / s + 1
    }

    /// Cross-correlation with stride `s` and zero padding `p` on all sides.
    /// - input: [inC, height, width]; weight: [outC, inC, k, k] (a [outC, inC·k·k] matrix, row-major);
    /// - output: [outC, ho, wo] with ho = ⌊(height + 2p − k)/s⌋ + 1 (likewise wo), written with row
    ///   stride `outputChannelStride` between channels (ho·wo by default), so several convolutions of one
    ///   input can share a stacked weight and write one stacked output. Adds into output when `accumulate`.
    public static func conv2d(
        input: UnsafePointer<Float>, inChannels: Int, height: Int, width: Int,
        weight: UnsafePointer<Float>, outChannels: Int, kernel k: Int, stride s: Int, padding p: Int,
        output: UnsafeMutablePointer<Float>, accumulate: Bool = false, precision: Precision = .fp32
    ) {
        precondition(s >= 1 && k >= 1 && p >= 0, "conv2d: stride \(s), kernel \(k), padding \(p)")
        if s == 1 {
            conv2d(input: input, inChannels: inChannels, height: height, width: width, weight: weight,
                   outChannels: outChannels, kernel: k, padding: p, output: output, accumulate: accumulate,
                   precision: precision)
            return
        }
        let kk = inChannels * k * k
        im2colBands(input: input, inChannels: inChannels, height: height, width: width, kernel: k, stride: s, padding: p) {
            col, n, firstRow, ldc in
            Gemm.sgemm(m: outChannels, n: n, k: kk, a: weight, lda: kk, b: col, ldb: n,
                       beta: accumulate ? 1 : 0, c: output + firstRow, ldc: ldc, precision: precision)
        }
    }

    /// The same convolution (always im2col + GEMM) with the weight [outC, inC·k·k] stored at load in its
    /// layer's precision: bf16 weights go to the bf16 products as they are.
    public static func conv2d(
        input: UnsafePointer<Float>, inChannels: Int, height: Int, width: Int,
        weights: PackedWeights, outChannels: Int, kernel k: Int, stride s: Int, padding p: Int,
        output: UnsafeMutablePointer<Float>
    ) {
        guard let w16 = weights.bfloat16 else {
            return conv2d(input: input, inChannels: inChannels, height: height, width: width, weight: weights.float32!,
                          outChannels: outChannels, kernel: k, stride: s, padding: p, output: output)
        }
        let kk = inChannels * k * k
        im2colBands(input: input, inChannels: inChannels, height: height, width: width, kernel: k, stride: s, padding: p) {
            col, n, firstRow, ldc in
            Gemm.sgemmBF16(m: outChannels, n: n, k: kk, a: w16, b: col, ldb: n, c: output + firstRow, ldc: ldc)
        }
    }

    /// Runs `product(col, n, offset, ldc)` for bands of output rows: col is the band's im2col matrix
    /// [inC·k·k, n], offset the band's first output element within a channel, ldc = ho·wo.
    private static func im2colBands(
        input: UnsafePointer<Float>, inChannels: Int, height: Int, width: Int, kernel k: Int, stride s: Int, padding p: Int,
        product: (UnsafePointer<Float>, Int, Int, Int) -> Void
    ) {
        let ho = outputSize(height, kernel: k, stride: s, padding: p)
        let wo = outputSize(width, kernel: k, stride: s, padding: p)
        guard ho > 0, wo > 0 else { return }
        let kk = inChannels * k * k
        // Bands of output rows whose column buffer fits the budget, split evenly so that no band is a
        // thin remainder (a GEMM with a small N runs far below the BLAS's rate).
        let maxRows = Swift.max(1, Swift.min(ho, columnBudget / Swift.max(1, kk * wo)))
        let bands = (ho + maxRows - 1) / maxRows
        let rowsPerTile = (ho + bands - 1) / bands
        let col = UnsafeMutablePointer<Float>.allocate(capacity: kk * rowsPerTile * wo)
        defer { col.deallocate() }
        var y0 = 0
        while y0 < ho {
            let rows = Swift.min(rowsPerTile, ho - y0)
            im2colStrided(input: input, height: height, width: width, kernel: k, stride: s, padding: p,
                          rowCount: kk, firstOutputRow: y0, outputRows: rows, outputWidth: wo, col: col)
            product(col, rows * wo, y0 * wo, ho * wo)
            y0 += rows
        }
    }

    /// Fills col[r, ty·wo + x] = input[i, (y0+ty)·s + ky − p, x·s + kx − p] (0 outside the image) for
    /// r = (i, ky, kx) in 0..<rowCount, the im2col layout matching a [outC, inC·k·k] weight matrix.
    static func im2colStrided(
        input: UnsafePointer<Float>, height: Int, width: Int, kernel k: Int, stride s: Int, padding p: Int,
        rowCount: Int, firstOutputRow y0: Int, outputRows rows: Int, outputWidth wo: Int,
        col: UnsafeMutablePointer<Float>
    ) {
        let n = rows * wo
        Parallel.forChunks(rowCount, grain: 4) { start, end in
            for r in start..<end {
                let i = r / (k * k), ky = (r / k) % k, kx = r % k
                let src = input + i * height * width
                let dst = col + r * n
                // Output columns x with 0 <= x·s + kx − p < width read the image; the rest are padding.
                let off = kx - p
                let xLo = off >= 0 ? 0 : Swift.min(wo, (-off + s - 1) / s)
                let last = width - 1 - off  // x·s <= last
                let xHi = last < 0 ? 0 : Swift.min(wo, last / s + 1)
                for ty in 0..<rows {
                    let sy = (y0 + ty) * s + ky - p
                    let d = dst + ty * wo
                    if sy < 0 || sy >= height || xLo >= xHi {
                        d.update(repeating: 0, count: wo)
                        continue
                    }
                    if xLo > 0 { d.update(repeating: 0, count: xLo) }
                    let srow = src + sy * width + off
                    for x in xLo..<xHi { d[x] = srow[x * s] }
                    if xHi < wo { (d + xHi).update(repeating: 0, count: wo - xHi) }
                }
            }
        }
    }
}

public enum Pooling {
    /// torch.nn.MaxPool2d(kernel_size=1, stride=s): keeps every s-th row and column, starting at 0.
    /// input [channels, height, width] → output [channels, ⌊(height−1)/s⌋+1, ⌊(width−1)/s⌋+1].
    public static func subsample(
        input: UnsafePointer<Float>, channels: Int, height: Int, width: Int, stride s: Int,
        output: UnsafeMutablePointer<Float>
    ) {
        precondition(s >= 1, "subsample: stride \(s)")
        let ho = (height - 1) / s + 1, wo = (width - 1) / s + 1
        Parallel.forChunks(channels) { start, end in
            for c in start..<end {
                let src = input + c * height * width
                let dst = output + c * ho * wo
                for y in 0..<ho {
                    let srow = src + y * s * width
                    let drow = dst + y * wo
                    for x in 0..<wo { drow[x] = srow[x * s] }
                }
            }
        }
    }
}
