import Foundation

/// Draws what Faces found onto a frame, for the preview video: the 68 landmarks, the alignment quad
/// (its top edge highlighted so the orientation shows), and the head-pose axes from the nose tip
/// (x red towards image right of the face, y green up, z blue out of the face). Candidates the verifier
/// rejected in that frame are outlined in magenta, so a user can see what was not taken for a face.
public enum FaceOverlay {
    public static let rejectedColour: (UInt8, UInt8, UInt8) = (255, 0, 255)

    public static func draw(on image: inout RGBImage, frame: FaceFrame) {
        for r in frame.rejected {
            let a = Point2(x: Double(r.x), y: Double(r.y)), b = Point2(x: Double(r.x + r.width), y: Double(r.y + r.height))
            let corners = [a, Point2(x: b.x, y: a.y), b, Point2(x: a.x, y: b.y)]
            for k in 0..<4 { line(&image, corners[k], corners[(k + 1) % 4], rejectedColour, width: 2) }
        }
        let filled = frame.isFilled
        let quadColour: (UInt8, UInt8, UInt8) = filled ? (255, 200, 0) : (0, 220, 255)
        let c = frame.quad.corners
        for k in 0..<4 { line(&image, c[k], c[(k + 1) % 4], quadColour, width: 1) }
        line(&image, c[3], c[0], (255, 255, 255), width: 2)  // the top edge
        let dot: (UInt8, UInt8, UInt8) = filled ? (160, 160, 160) : (0, 255, 0)
        for p in frame.landmarks { disc(&image, p, radius: max(1, frame.quad.size / 200), dot) }
        // Pose axes: the head's world axes carried through the pose rotation (world→camera), drawn
        // orthographically from the nose tip with half the quad's half-side as length.
        guard frame.landmarks.count == 68 else { return }
        let r = HeadPose.rotation(for: frame.pose)
        let origin = frame.landmarks[30]
        let length = 0.5 * frame.quad.x.length
        let axes: [([Double], (UInt8, UInt8, UInt8))] = [([1, 0, 0], (255, 40, 40)), ([0, 1, 0], (40, 255, 40)), ([0, 0, 1], (60, 120, 255))]
        // Image axes of the crop: the quad's x and y directions, so the drawing follows the face's roll.
        let ux = (1 / frame.quad.x.length) * frame.quad.x, uy = (1 / frame.quad.y.length) * frame.quad.y
        for (a, colour) in axes {
            let xc = r[0] * a[0] + r[1] * a[1] + r[2] * a[2]
            let yc = r[3] * a[0] + r[4] * a[1] + r[5] * a[2]
            let tip = origin + (length * xc) * ux + (length * yc) * uy
            line(&image, origin, tip, colour, width: 2)
        }
    }

    public static func disc(_ img: inout RGBImage, _ p: Point2, radius: Double, _ c: (UInt8, UInt8, UInt8)) {
        let r = Int(radius.rounded(.up))
        let cx = Int(p.x.rounded()), cy = Int(p.y.rounded())
        for y in (cy - r)...(cy + r) {
            for x in (cx - r)...(cx + r) where Double((x - cx) * (x - cx) + (y - cy) * (y - cy)) <= radius * radius + 0.5 {
                img.setPixel(x, y, c)
            }
        }
    }

    public static func line(_ img: inout RGBImage, _ a: Point2, _ b: Point2, _ c: (UInt8, UInt8, UInt8), width: Int) {
        let d = b - a
        let steps = max(1, Int(max(abs(d.x), abs(d.y)).rounded(.up)))
        if steps > 100_000 { return }
        for k in 0...steps {
            let t = Double(k) / Double(steps)
            let x = Int((a.x + t * d.x).rounded()), y = Int((a.y + t * d.y).rounded())
            for oy in 0..<width { for ox in 0..<width { img.setPixel(x + ox, y + oy, c) } }
        }
    }
}
