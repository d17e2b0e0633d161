/// Cropping an aligned face out of a frame: every crop pixel centre is mapped through the quad's
/// transform into the frame and the frame is sampled there, bilinearly, with the pixel centres at
/// +0.5 (the convention of PIL's transform, which FFHQ's recipe uses). When the crop is smaller than
/// the quad (more than one frame pixel per crop pixel), each crop pixel averages a k×k grid of
/// bilinear samples spread over its footprint, k = ⌈frame pixels per crop pixel⌉ — a box prefilter,
/// standing in for the recipe's antialiased shrink. Outside the frame the image is mirrored, like
/// the recipe's reflect padding.
public enum AlignedCrop {
    /// The crop of `image` under `transform`, `size`×`size` pixels.
    public static func crop(_ image: RGBImage, transform t: AlignmentTransform, size: Int) -> RGBImage {
        precondition(size > 0 && image.width > 0 && image.height > 0)
        let ratio = t.sourcePixelsPerCropPixel(size: size)
        // Capped: a degenerate transform (a quad collapsed by bad landmarks) must not ask for 10⁹ samples a pixel.
        let k = ratio.isFinite ? Int(ratio.rounded(.up).clamped(to: 1...64)) : 1
        var out = [UInt8](repeating: 0, count: size * size * 3)
        let inv = 1.0 / Double(size)
        let w = image.width, h = image.height
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for j in 0..<size {
                    for i in 0..<size {
                        var r = 0.0, g = 0.0, b = 0.0
                        for sj in 0..<k {
                            for si in 0..<k {
                                let a = (Double(i) + (Double(si) + 0.5) / Double(k)) * inv
                                let bb = (Double(j) + (Double(sj) + 0.5) / Double(k)) * inv
                                let p = t.toFrame(Point2(x: a, y: bb))
                                let s = bilinear(src, w, h, p.x - 0.5, p.y - 0.5)
                                r += s.0; g += s.1; b += s.2
                            }
                        }
                        let n = Double(k * k)
                        let o = 3 * (j * size + i)
                        dst[o] = UInt8(max(0, min(255, (r / n).rounded())))
                        dst[o + 1] = UInt8(max(0, min(255, (g / n).rounded())))
                        dst[o + 2] = UInt8(max(0, min(255, (b / n).rounded())))
                    }
                }
            }
        }
        return RGBImage(width: size, height: size, pixels: out)
    }

    /// Mirror an index into 0..<n (reflect without repeating the edge, as numpy's 'reflect').
    @inline(__always)
    static func reflect(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        var i = i
        let period = 2 * (n - 1)
        i %= period
        if i < 0 { i += period }
        return i < n ? i : period - i
    }

    /// Bilinear sample at index coordinates (x, y) (pixel centres at integers).
    @inline(__always)
    static func bilinear(_ src: UnsafeBufferPointer<UInt8>, _ w: Int, _ h: Int, _ x: Double, _ y: Double) -> (Double, Double, Double) {
        // Int() traps on NaN and beyond ±2⁶³; a point that far out is mirrored anyway, so bound it first.
        guard x.isFinite, y.isFinite else { return (0, 0, 0) }
        let x = x.clamped(to: -1e9...1e9), y = y.clamped(to: -1e9...1e9)
        let x0f = x.rounded(.down), y0f = y.rounded(.down)
        let fx = x - x0f, fy = y - y0f
        let x0 = Int(x0f), y0 = Int(y0f)
        let xa = reflect(x0, w), xb = reflect(x0 + 1, w)
        let ya = reflect(y0, h), yb = reflect(y0 + 1, h)
        let w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy
        let o00 = 3 * (ya * w + xa), o10 = 3 * (ya * w + xb), o01 = 3 * (yb * w + xa), o11 = 3 * (yb * w + xb)
        return (
            w00 * Double(src[o00]) + w10 * Double(src[o10]) + w01 * Double(src[o01]) + w11 * Double(src[o11]),
            w00 * Double(src[o00 + 1]) + w10 * Double(src[o10 + 1]) + w01 * Double(src[o01 + 1]) + w11 * Double(src[o11 + 1]),
            w00 * Double(src[o00 + 2]) + w10 * Double(src[o10 + 2]) + w01 * Double(src[o01 + 2]) + w11 * Double(src[o11 + 2])
        )
    }
}

extension Comparable {
    @inline(__always) func clamped(to r: ClosedRange<Self>) -> Self { min(max(self, r.lowerBound), r.upperBound) }
}
