/// One decoded picture as every later stage sees it: interleaved 8-bit RGB, row-major, no row padding,
/// already turned upright, with its presentation time.
public struct VideoFrame: Sendable {
    public var width: Int
    public var height: Int
    /// `width * height * 3` bytes: R, G, B for each pixel, rows top to bottom.
    public var rgb: [UInt8]
    /// Presentation timestamp in `timeBase` units.
    public var pts: Int64
    public var timeBase: Rational
    /// Zero-based index among the frames the reader delivered.
    public var index: Int

    public init(width: Int, height: Int, rgb: [UInt8], pts: Int64, timeBase: Rational, index: Int) {
        precondition(rgb.count == width * height * 3, "RGB buffer size does not match \(width)x\(height)")
        self.width = width; self.height = height; self.rgb = rgb
        self.pts = pts; self.timeBase = timeBase; self.index = index
    }

    /// Presentation time in seconds.
    public var seconds: Double { Double(pts) * timeBase.value }
}
