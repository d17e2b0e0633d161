/// An 8-bit interleaved RGB image, row-major, no row padding: the layout `Video` decodes frames into
/// (RGB24) and the layout the aligned crops are handed to the encoder in.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes, R G B per pixel.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3,
                     "RGBImage: \(pixels.count) bytes for \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A black image.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height * 3))
    }

    /// Luma as OpenCV 4's `cvtColor(COLOR_RGB2GRAY)` computes it for 8-bit images: BT.601 weights
    /// (0.299, 0.587, 0.114) in 15-bit fixed point (9798, 19235, 3735 / 2^15, rounded) — checked
    /// against cv2 to be identical — so the Haar detector sees the very bytes `detectMultiScale` sees
    /// when handed a colour image.
    public func luma() -> GrayImage {
        var out = [UInt8](repeating: 0, count: width * height)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<(width * height) {
                    let r = Int(src[3 * i]), g = Int(src[3 * i + 1]), b = Int(src[3 * i + 2])
                    dst[i] = UInt8((r * 9798 + g * 19235 + b * 3735 + (1 << 14)) >> 15)
                }
            }
        }
        return GrayImage(width: width, height: height, pixels: out)
    }

    /// Intensity as dlib's `get_pixel_intensity` takes it from an `rgb_pixel`: the integer mean
    /// (r + g + b) / 3. The shape predictor samples this, so landmarks match dlib's on a colour image.
    public func meanIntensity() -> GrayImage {
        var out = [UInt8](repeating: 0, count: width * height)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<(width * height) {
                    dst[i] = UInt8((Int(src[3 * i]) + Int(src[3 * i + 1]) + Int(src[3 * i + 2])) / 3)
                }
            }
        }
        return GrayImage(width: width, height: height, pixels: out)
    }

    /// The pixels inside `r` (clipped to the image).
    public func cropped(_ r: FaceRect) -> RGBImage {
        let c = r.intersection(FaceRect(x: 0, y: 0, width: width, height: height))
        var out = [UInt8](repeating: 0, count: c.area * 3)
        for row in 0..<c.height {
            let s = 3 * ((c.y + row) * width + c.x), d = 3 * row * c.width
            for k in 0..<(3 * c.width) { out[d + k] = pixels[s + k] }
        }
        return RGBImage(width: c.width, height: c.height, pixels: out)
    }

    @inline(__always)
    public func pixel(_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8) {
        let o = 3 * (y * width + x)
        return (pixels[o], pixels[o + 1], pixels[o + 2])
    }

    @inline(__always)
    public mutating func setPixel(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let o = 3 * (y * width + x)
        pixels[o] = c.0
        pixels[o + 1] = c.1
        pixels[o + 2] = c.2
    }

    /// Planar (C, H, W) floats with 0…255 mapped linearly onto `range` — the encoder's input layout
    /// (e4e and EG3D use [−1, 1]).
    public func planarFloats(range: ClosedRange<Float> = -1...1) -> [Float] {
        let n = width * height
        let scale = (range.upperBound - range.lowerBound) / 255
        var out = [Float](repeating: 0, count: 3 * n)
        for i in 0..<n {
            for c in 0..<3 { out[c * n + i] = range.lowerBound + Float(pixels[3 * i + c]) * scale }
        }
        return out
    }

    /// The inverse of `planarFloats`: a generator's (C, H, W) output in `range` back to 8-bit RGB,
    /// rounded and clamped.
    public init(planar: [Float], width: Int, height: Int, range: ClosedRange<Float> = -1...1) {
        let n = width * height
        precondition(planar.count == 3 * n, "planar image: \(planar.count) values for 3x\(width)x\(height)")
        let scale = 255 / (range.upperBound - range.lowerBound)
        var px = [UInt8](repeating: 0, count: 3 * n)
        for i in 0..<n {
            for c in 0..<3 {
                let v = ((planar[c * n + i] - range.lowerBound) * scale).rounded()
                px[3 * i + c] = UInt8(max(0, min(255, v.isFinite ? v : 0)))
            }
        }
        self.init(width: width, height: height, pixels: px)
    }
}
