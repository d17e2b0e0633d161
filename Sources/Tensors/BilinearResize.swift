// torch.nn.functional.interpolate(x, size=(H, W), mode='bilinear', align_corners=True) on planar
// [C, h, w] maps, with PyTorch's index arithmetic: src = dst · (in − 1)/(out − 1) (0 when out = 1),
// i0 = ⌊src⌋, i1 = min(i0 + 1, in − 1), λ = src − i0; rows blended after columns.

public enum BilinearResize {
    /// Resizes input [channels, height, width] to [channels, outHeight, outWidth] with align_corners=True.
    /// Adds into `output` when `accumulate` (the FPN's upsample-and-add), otherwise overwrites it.
    public static func alignCorners(
        input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        outHeight: Int, outWidth: Int, output: UnsafeMutablePointer<Float>, accumulate: Bool = false
    ) {
        let ys = taps(inSize: height, outSize: outHeight)
        let xs = taps(inSize: width, outSize: outWidth)
        Parallel.forChunks(channels) { s, e in
            for c in s..<e {
                let src = input + c * height * width
                let dst = output + c * outHeight * outWidth
                for oy in 0..<outHeight {
                    let ty = ys[oy]
                    let r0 = src + ty.i0 * width, r1 = src + ty.i1 * width
                    let d = dst + oy * outWidth
                    for ox in 0..<outWidth {
                        let tx = xs[ox]
                        let top = tx.w0 * r0[tx.i0] + tx.w1 * r0[tx.i1]
                        let bottom = tx.w0 * r1[tx.i0] + tx.w1 * r1[tx.i1]
                        let v = ty.w0 * top + ty.w1 * bottom
                        d[ox] = accumulate ? d[ox] + v : v
                    }
                }
            }
        }
    }

    struct Tap { var i0: Int; var i1: Int; var w0: Float; var w1: Float }

    static func taps(inSize: Int, outSize: Int) -> [Tap] {
        let scale: Float = outSize > 1 ? Float(inSize - 1) / Float(outSize - 1) : 0
        return (0..<outSize).map { o in
            let src = scale * Float(o)
            let i0 = Swift.min(Int(src), inSize - 1)
            let i1 = Swift.min(i0 + 1, inSize - 1)
            let l1 = src - Float(i0)
            return Tap(i0: i0, i1: i1, w0: 1 - l1, w1: l1)
        }
    }
}
