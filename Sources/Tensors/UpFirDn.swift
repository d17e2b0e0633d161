// FIR resampling with the semantics of StyleGAN2's upfirdn2d (torch_utils/ops/upfirdn2d.py, reference
// path): zero-insertion upsampling, zero padding, then a true convolution with the filter scaled by
// gain^(ndim/2) (= gain for a 2-D filter; flip_filter = false). No downsampling is needed here.

public enum UpFirDn {
    /// input [C, H, W] → output [C, H·up + py0 + py1 − fh + 1, W·up + px0 + px1 − fw + 1].
    /// - filter: [fh, fw] row-major (e.g. the normalised outer product of [1, 3, 3, 1]).
    public static func upfirdn2d(
        input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        filter: [Float], filterHeight fh: Int, filterWidth fw: Int,
        up: Int, padX0: Int, padX1: Int, padY0: Int, padY1: Int, gain: Float,
        output: UnsafeMutablePointer<Float>
    ) {
        precondition(filter.count == fh * fw && up >= 1 && min(padX0, padX1, padY0, padY1) >= 0)
        let uh = height * up, uw = width * up
        let ph = uh + padY0 + padY1, pw = uw + padX0 + padX1
        let ho = ph - fh + 1, wo = pw - fw + 1
        // Convolution = correlation with the flipped filter.
        var taps = [Float](repeating: 0, count: fh * fw)
        for i in 0..<fh { for j in 0..<fw { taps[i * fw + j] = filter[(fh - 1 - i) * fw + (fw - 1 - j)] * gain } }
        let separable = Self.separate(taps, fh, fw)
        Parallel.forChunks(channels) { s, e in
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: separable == nil ? ph * pw : 1)
            let tmp = UnsafeMutablePointer<Float>.allocate(capacity: ho * width)
            defer { padded.deallocate(); tmp.deallocate() }
            for c in s..<e {
                let src = input + c * height * width
                let dst = output + c * ho * wo
                if let (colTaps, rowTaps) = separable {
                    // Only every up-th row and column of the zero-inserted, padded plane holds data, so the
                    // passes read the source directly and skip the inserted zeros (adding a zero product
                    // changes no sum): vertical pass into tmp [ho, width], then horizontal into dst.
                    for y in 0..<ho {
                        let t = tmp + y * width
                        t.update(repeating: 0, count: width)
                        for i in 0..<fh {
                            let r = y + i - padY0
                            guard r >= 0, r % up == 0, r / up < height else { continue }
                            let f = colTaps[i]
                            let p = src + (r / up) * width
                            for x in 0..<width { t[x] += f * p[x] }
                        }
                    }
                    for y in 0..<ho {
                        let d = dst + y * wo
                        let t = tmp + y * width
                        d.update(repeating: 0, count: wo)
                        for j in 0..<fw {
                            let f = rowTaps[j]
                            // Output x reads source column k where x + j − padX0 = up·k.
                            var x = Swift.max(0, padX0 - j)
                            x += ((padX0 - j - x) % up + up) % up
                            var k = (x + j - padX0) / up
                            while x < wo && k < width {
                                d[x] += f * t[k]
                                x += up
                                k += 1
                            }
                        }
                    }
                } else {
                    padded.update(repeating: 0, count: ph * pw)
                    for y in 0..<height {
                        let row = padded + (padY0 + y * up) * pw + padX0
                        for x in 0..<width { row[x * up] = src[y * width + x] }
                    }
                    for y in 0..<ho {
                        let d = dst + y * wo
                        d.update(repeating: 0, count: wo)
                        for i in 0..<fh {
                            let p = padded + (y + i) * pw
                            for j in 0..<fw {
                                let f = taps[i * fw + j]
                                for x in 0..<wo { d[x] += f * p[x + j] }
                            }
                        }
                    }
                }
            }
        }
    }

    public static func upsample2x(
        input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        filter: [Float], filterSize f: Int, output: UnsafeMutablePointer<Float>
    ) {
        upfirdn2d(input: input, channels: channels, height: height, width: width, filter: filter,
                  filterHeight: f, filterWidth: f, up: 2,
                  padX0: (f + 1) / 2, padX1: (f - 2) / 2, padY0: (f + 1) / 2, padY1: (f - 2) / 2,
                  gain: 4, output: output)
    }

    /// Splits a rank-1 2-D filter into column and row taps (f[i][j] = a[i]·b[j]); nil if not rank 1.
    static func separate(_ f: [Float], _ fh: Int, _ fw: Int) -> ([Float], [Float])? {
        var total: Float = 0
        var rows = [Float](repeating: 0, count: fh), cols = [Float](repeating: 0, count: fw)
        for i in 0..<fh { for j in 0..<fw { rows[i] += f[i * fw + j]; cols[j] += f[i * fw + j]; total += f[i * fw + j] } }
        guard abs(total) > 1e-12 else { return nil }
        let scale = f.reduce(0) { max($0, abs($1)) }
        for i in 0..<fh { for j in 0..<fw where abs(rows[i] * cols[j] / total - f[i * fw + j]) > 1e-6 * scale { return nil } }
        return (rows, cols.map { $0 / total })
    }
}
