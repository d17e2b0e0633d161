/// A point in pixel coordinates (x right, y down), double precision.
public struct Point2: Sendable, Equatable, Hashable, Codable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }

    public static func + (a: Point2, b: Point2) -> Point2 { Point2(x: a.x + b.x, y: a.y + b.y) }
    public static func - (a: Point2, b: Point2) -> Point2 { Point2(x: a.x - b.x, y: a.y - b.y) }
    public static func * (s: Double, a: Point2) -> Point2 { Point2(x: s * a.x, y: s * a.y) }
    public var length: Double { (x * x + y * y).squareRoot() }

    /// dlib's integer `point`: each coordinate rounded as floor(v + 0.5).
    public var rounded: Point2 { Point2(x: (x + 0.5).rounded(.down), y: (y + 0.5).rounded(.down)) }
}
