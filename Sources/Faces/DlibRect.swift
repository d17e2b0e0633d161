/// dlib's `rectangle`: inclusive pixel bounds, so a w×h box at (x, y) is (x, y, x + w − 1, y + h − 1).
public struct DlibRect: Sendable, Equatable, Hashable, Codable {
    public var left: Int
    public var top: Int
    public var right: Int
    public var bottom: Int

    public init(left: Int, top: Int, right: Int, bottom: Int) {
        self.left = left
        self.top = top
        self.right = right
        self.bottom = bottom
    }

    /// The dlib rectangle covering the same pixels as an OpenCV-style detection.
    public init(_ r: FaceRect) {
        self.init(left: r.x, top: r.y, right: r.x + r.width - 1, bottom: r.y + r.height - 1)
    }

    public var width: Int { right - left + 1 }
    public var height: Int { bottom - top + 1 }
}
