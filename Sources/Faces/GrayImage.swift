/// An 8-bit single-channel image, row-major, no padding. The Haar detector and the shape predictor
/// both work on these.
public struct GrayImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height,
                     "GrayImage: \(pixels.count) bytes for \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    @inline(__always)
    public subscript(x: Int, y: Int) -> UInt8 { pixels[y * width + x] }

    /// The sub-image `x..<x+w`, `y..<y+h` (clipped to the image).
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> GrayImage {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(width, x + w), y1 = min(height, y + h)
        let cw = max(0, x1 - x0), ch = max(0, y1 - y0)
        var out = [UInt8](repeating: 0, count: cw * ch)
        for row in 0..<ch {
            let s = (y0 + row) * width + x0
            for col in 0..<cw { out[row * cw + col] = pixels[s + col] }
        }
        return GrayImage(width: cw, height: ch, pixels: out)
    }

    /// Bilinear resize reproducing OpenCV's bit-exact `resize(..., INTER_LINEAR_EXACT)` on 8-bit
    /// images, which current OpenCV 4 (checked: 4.14) uses to build the cascade detector's pyramid:
    /// pixel centres aligned (`src = (dst + 0.5) · scale − 0.5`), coordinates clamped at the borders,
    /// weights in 8-bit fixed point (w₁ = round(frac · 256), w₀ = 256 − w₁), the horizontal pass kept
    /// exact in 16 fractional bits and one rounding at the end. Identical to cv2's output on the test
    /// images and on random ones.
    public func resizedBilinear(width dw: Int, height dh: Int) -> GrayImage {
        let sw = width, sh = height
        if dw == sw && dh == sh { return self }
        func coefficients(_ n: Int, _ srcN: Int) -> ([Int], [Int32]) {
            let scale = Double(srcN) / Double(n)
            var ofs = [Int](repeating: 0, count: n), a = [Int32](repeating: 0, count: 2 * n)
            for d in 0..<n {
                var f = (Double(d) + 0.5) * scale - 0.5
                var s = Int(f.rounded(.down))
                f -= Double(s)
                if s < 0 { f = 0; s = 0 }
                if s >= srcN - 1 { f = 0; s = max(srcN - 1, 0) }
                ofs[d] = s
                let c1 = Int32((f * 256).rounded(.toNearestOrEven))
                a[2 * d] = 256 - c1
                a[2 * d + 1] = c1
            }
            return (ofs, a)
        }
        let (xofs, xa) = coefficients(dw, sw)
        let (yofs, ya) = coefficients(dh, sh)
        var out = [UInt8](repeating: 0, count: dw * dh)
        var row0 = [Int32](repeating: 0, count: dw), row1 = [Int32](repeating: 0, count: dw)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                func hresize(_ sy: Int, into row: inout [Int32]) {
                    let base = sy * sw
                    for dx in 0..<dw {
                        let sx = xofs[dx]
                        let s1 = sx + 1 < sw ? sx + 1 : sx
                        row[dx] = Int32(src[base + sx]) * xa[2 * dx] + Int32(src[base + s1]) * xa[2 * dx + 1]
                    }
                }
                var cached0 = -1, cached1 = -1
                for dy in 0..<dh {
                    let sy0 = yofs[dy], sy1 = min(sy0 + 1, sh - 1)
                    if cached0 != sy0 {
                        if cached1 == sy0 { swap(&row0, &row1); cached0 = sy0; cached1 = -1 } else { hresize(sy0, into: &row0); cached0 = sy0 }
                    }
                    if cached1 != sy1 { hresize(sy1, into: &row1); cached1 = sy1 }
                    let b0 = ya[2 * dy], b1 = ya[2 * dy + 1]
                    let o = dy * dw
                    for dx in 0..<dw {
                        let v = row0[dx] &* b0 &+ row1[dx] &* b1
                        dst[o + dx] = UInt8(clamping: (v &+ (1 << 15)) >> 16)
                    }
                }
            }
        }
        return GrayImage(width: dw, height: dh, pixels: out)
    }
}

extension GrayImage {
    /// Left–right mirror image (the profile cascade only knows one side; the other is found mirrored).
    public func mirrored() -> GrayImage {
        var out = pixels
        for y in 0..<height {
            let o = y * width
            for x in 0..<width { out[o + x] = pixels[o + width - 1 - x] }
        }
        return GrayImage(width: width, height: height, pixels: out)
    }
}
