import Foundation

/// Composites a rendered face square (the avatar, any size) back into the original frame through the
/// inverse of the alignment transform, under a soft mask: the convex hull of the face landmarks, with
/// the eyebrows raised to the hairline so the forehead is included, grown by `dilation` and faded out
/// over `feather` (both as fractions of the crop's side). Every frame pixel inside the quad's bounds is
/// mapped into the crop (exact inverse affine) and the square is sampled bilinearly there.
public struct PasteBack: Sendable, Equatable {
    /// Outward growth of the hull, as a fraction of the quad side.
    public var dilation: Double = 0.03
    /// Width of the fade from opaque to transparent, as a fraction of the quad side.
    public var feather: Double = 0.08

    public init(dilation: Double = 0.03, feather: Double = 0.08) {
        self.dilation = dilation
        self.feather = feather
    }

    /// The mask polygon in frame coordinates: jaw line 0–16 and the eyebrows 17–26 moved up by half the
    /// quad's half-side y. The quad side is about four eye distances, so this lifts the brows by about
    /// one eye distance, roughly to the hairline of an average face.
    public static func maskHull(landmarks lm: [Point2], quad: AlignmentQuad) -> [Point2] {
        var pts = Array(lm[0...16])
        for i in 17...26 { pts.append(lm[i] - 0.5 * quad.y) }
        return convexHull(pts)
    }

    /// Returns `frame` with `rendered` pasted where the face was.
    public func composite(frame: RGBImage, rendered: RGBImage, quad: AlignmentQuad, landmarks: [Point2]) -> RGBImage {
        var out = frame
        let t = quad.transform
        let side = quad.size
        let grow = dilation * side, fade = max(feather * side, 1e-6)
        let hull = Self.maskHull(landmarks: landmarks, quad: quad)
        let corners = quad.corners
        // Int() traps on NaN and on values past ±2⁶³: a quad that is not finite has nothing to paste.
        guard corners.allSatisfy({ $0.x.isFinite && $0.y.isFinite }), side.isFinite else { return out }
        let minX = max(0, Int(corners.map { $0.x }.min()!.rounded(.down).clamped(to: -1e9...1e9)) - 1)
        let maxX = min(frame.width - 1, Int(corners.map { $0.x }.max()!.rounded(.up).clamped(to: -1e9...1e9)) + 1)
        let minY = max(0, Int(corners.map { $0.y }.min()!.rounded(.down).clamped(to: -1e9...1e9)) - 1)
        let maxY = min(frame.height - 1, Int(corners.map { $0.y }.max()!.rounded(.up).clamped(to: -1e9...1e9)) + 1)
        guard minX <= maxX, minY <= maxY, hull.count >= 3 else { return out }
        let rw = rendered.width, rh = rendered.height
        rendered.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for y in minY...maxY {
                    for x in minX...maxX {
                        let p = Point2(x: Double(x) + 0.5, y: Double(y) + 0.5)
                        let d = Self.signedDistance(p, hull) + grow
                        if d <= 0 { continue }
                        let a = Self.smoothstep(min(d / fade, 1))
                        let c = t.toCrop(p)
                        if c.x < 0 || c.y < 0 || c.x > 1 || c.y > 1 { continue }
                        let s = AlignedCrop.bilinear(src, rw, rh, c.x * Double(rw) - 0.5, c.y * Double(rh) - 0.5)
                        let o = 3 * (y * frame.width + x)
                        dst[o] = UInt8(max(0, min(255, (Double(dst[o]) * (1 - a) + s.0 * a).rounded())))
                        dst[o + 1] = UInt8(max(0, min(255, (Double(dst[o + 1]) * (1 - a) + s.1 * a).rounded())))
                        dst[o + 2] = UInt8(max(0, min(255, (Double(dst[o + 2]) * (1 - a) + s.2 * a).rounded())))
                    }
                }
            }
        }
        return out
    }

    @inline(__always) static func smoothstep(_ t: Double) -> Double { t * t * (3 - 2 * t) }

    /// Distance from `p` to the convex polygon's boundary, positive inside, negative outside.
    static func signedDistance(_ p: Point2, _ poly: [Point2]) -> Double {
        var minDist = Double.infinity
        var inside = true
        let n = poly.count
        for i in 0..<n {
            let a = poly[i], b = poly[(i + 1) % n]
            let e = b - a, w = p - a
            // Counter-clockwise hull (y down: clockwise on screen): inside when the cross product ≥ 0.
            if e.x * w.y - e.y * w.x < 0 { inside = false }
            let tt = max(0, min(1, (w.x * e.x + w.y * e.y) / (e.x * e.x + e.y * e.y)))
            let q = Point2(x: a.x + tt * e.x, y: a.y + tt * e.y)
            minDist = min(minDist, (p - q).length)
        }
        return inside ? minDist : -minDist
    }

    /// Andrew's monotone chain; counter-clockwise in (x, y) coordinates, no repeated end point.
    static func convexHull(_ points: [Point2]) -> [Point2] {
        let pts = points.sorted { $0.x != $1.x ? $0.x < $1.x : $0.y < $1.y }
        if pts.count < 3 { return pts }
        func cross(_ o: Point2, _ a: Point2, _ b: Point2) -> Double { (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x) }
        var lower: [Point2] = [], upper: [Point2] = []
        for p in pts {
            while lower.count >= 2 && cross(lower[lower.count - 2], lower[lower.count - 1], p) <= 0 { lower.removeLast() }
            lower.append(p)
        }
        for p in pts.reversed() {
            while upper.count >= 2 && cross(upper[upper.count - 2], upper[upper.count - 1], p) <= 0 { upper.removeLast() }
            upper.append(p)
        }
        return Array(lower.dropLast() + upper.dropLast())
    }
}
