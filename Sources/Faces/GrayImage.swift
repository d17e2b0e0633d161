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

    /// Bilinear resize with OpenCV's `resize(..., INTER_LINEAR)` conventions for 8-bit images: pixel
    /// centres aligned (`src = (dst + 0.5) · scale − 0.5`), coordinates clamped at the borders, weights
    /// in 11-bit fixed point (OpenCV's INTER_RESIZE_COEF_BITS) and the two passes combined with one
    /// rounding at 22 bits. The cascade detector builds its pyramid this way, as `detectMultiScale` does.
    public func resizedBilinear(width dw: Int, height dh: Int) -> GrayImage {
        let sw = width, sh = height
        if dw == sw && dh == sh { return self }
        let coefScale = 2048  // 1 << INTER_RESIZE_COEF_BITS (11)
        let scaleX = Double(sw) / Double(dw), scaleY = Double(sh) / Double(dh)
        var xofs = [Int](repeating: 0, count: dw), xa = [Int32](repeating: 0, count: dw * 2)
        for dx in 0..<dw {
            var fx = (Double(dx) + 0.5) * scaleX - 0.5
            var sx = Int(fx.rounded(.down))
            fx -= Double(sx)
            if sx < 0 { fx = 0; sx = 0 }
            if sx >= sw - 1 { fx = 0; sx = max(sw - 1, 0) }
            xofs[dx] = sx
            let c0 = Int32((1 - fx) * Double(coefScale) + 0.5)  // saturate_cast rounds to nearest
            xa[2 * dx] = c0
            xa[2 * dx + 1] = Int32(coefScale) - c0
        }
        var yofs = [Int](repeating: 0, count: dh), ya = [Int32](repeating: 0, count: dh * 2)
        for dy in 0..<dh {
            var fy = (Double(dy) + 0.5) * scaleY - 0.5
            var sy = Int(fy.rounded(.down))
            fy -= Double(sy)
            if sy < 0 { fy = 0; sy = 0 }
            if sy >= sh - 1 { fy = 0; sy = max(sh - 1, 0) }
            yofs[dy] = sy
            let c0 = Int32((1 - fy) * Double(coefScale) + 0.5)
            ya[2 * dy] = c0
            ya[2 * dy + 1] = Int32(coefScale) - c0
        }
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
                    let b0 = Int64(ya[2 * dy]), b1 = Int64(ya[2 * dy + 1])
                    let o = dy * dw
                    for dx in 0..<dw {
                        let v = (b0 * Int64(row0[dx]) + b1 * Int64(row1[dx]) + (1 << 21)) >> 22
                        dst[o + dx] = UInt8(clamping: v)
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
