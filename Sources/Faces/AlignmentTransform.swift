/// The affine map between an aligned crop and its source frame: normalised crop coordinates (a, b),
/// with (0, 0) the crop's top-left corner and (1, 1) its bottom-right, go to frame position
/// `origin + a·u + b·v`. Its inverse is exact (a 2×2 inverse, no resampling), so landmarks and pixels
/// can go both ways: `AlignedCrop` samples the frame through `toFrame`, `PasteBack` samples the crop
/// through `toCrop`.
public struct AlignmentTransform: Sendable, Equatable, Codable {
    public var origin: Point2
    public var u: Point2
    public var v: Point2

    public init(origin: Point2, u: Point2, v: Point2) {
        self.origin = origin
        self.u = u
        self.v = v
    }

    @inline(__always)
    public func toFrame(_ p: Point2) -> Point2 {
        Point2(x: origin.x + p.x * u.x + p.y * v.x, y: origin.y + p.x * u.y + p.y * v.y)
    }

    public var determinant: Double { u.x * v.y - v.x * u.y }

    @inline(__always)
    public func toCrop(_ q: Point2) -> Point2 {
        let det = determinant
        let dx = q.x - origin.x, dy = q.y - origin.y
        return Point2(x: (v.y * dx - v.x * dy) / det, y: (-u.y * dx + u.x * dy) / det)
    }

    /// Frame pixels per crop pixel for a crop of `size` pixels (the larger side's stretch).
    public func sourcePixelsPerCropPixel(size: Int) -> Double {
        max(u.length, v.length) / Double(size)
    }
}
