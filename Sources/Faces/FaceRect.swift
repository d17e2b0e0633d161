/// An axis-aligned integer rectangle in pixel units, OpenCV's `cv::Rect` convention: covers columns
/// `x ..< x + width` and rows `y ..< y + height`.
public struct FaceRect: Sendable, Equatable, Hashable, Codable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var area: Int { max(0, width) * max(0, height) }
    public var centerX: Double { Double(x) + Double(width) / 2 }
    public var centerY: Double { Double(y) + Double(height) / 2 }

    /// Intersection with another rectangle (empty rectangles have zero size).
    public func intersection(_ o: FaceRect) -> FaceRect {
        let x0 = max(x, o.x), y0 = max(y, o.y)
        let x1 = min(x + width, o.x + o.width), y1 = min(y + height, o.y + o.height)
        if x1 <= x0 || y1 <= y0 { return FaceRect(x: x0, y: y0, width: 0, height: 0) }
        return FaceRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    /// Intersection over union: 1 for identical rectangles, 0 for disjoint ones.
    public func iou(_ o: FaceRect) -> Double {
        let i = intersection(o).area
        let u = area + o.area - i
        return u > 0 ? Double(i) / Double(u) : 0
    }
}

extension FaceRect {
    /// The OpenCV-style rectangle covering the same pixels as a dlib rectangle.
    public init(_ r: DlibRect) {
        self.init(x: r.left, y: r.top, width: r.width, height: r.height)
    }
}
