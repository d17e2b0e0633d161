/// The FFHQ alignment quad (the recipe of NVlabs/ffhq-dataset `recreate_aligned_images`,
/// which STIT and e4e reuse): an oriented square given by its centre `c` and two half-side vectors `x`
/// (towards the face's right edge in the image, i.e. image right for an upright face) and `y` (towards
/// the chin). Corners, in FFHQ's order: c − x − y (top left), c − x + y (bottom left), c + x + y (bottom
/// right), c + x − y (top right).
///
/// Coordinates are the landmark values taken as continuous image positions, as the recipe does when it
/// hands the quad to PIL's QUAD transform.
public struct AlignmentQuad: Sendable, Equatable, Codable {
    public var center: Point2
    public var x: Point2
    public var y: Point2

    public init(center: Point2, x: Point2, y: Point2) {
        self.center = center
        self.x = x
        self.y = y
    }

    /// The quad for 68 iBUG/dlib landmarks:
    /// eyes = means of 36–41 and 42–47, mouth = mean of the corners 48 and 54;
    /// x = eye_to_eye − flipud(eye_to_mouth)·[−1, 1], normalised, scaled by max(2·|eye_to_eye|,
    /// 1.8·|eye_to_mouth|); y = flipud(x)·[−1, 1]; c = eye_avg + 0.1·eye_to_mouth.
    public static func ffhq(landmarks lm: [Point2]) -> AlignmentQuad {
        precondition(lm.count == 68, "FFHQ alignment needs the 68 iBUG landmarks")
        func mean(_ r: ClosedRange<Int>) -> Point2 {
            var s = Point2(x: 0, y: 0)
            for i in r { s = s + lm[i] }
            return (1.0 / Double(r.count)) * s
        }
        let eyeLeft = mean(36...41), eyeRight = mean(42...47)
        let eyeAvg = 0.5 * (eyeLeft + eyeRight)
        let eyeToEye = eyeRight - eyeLeft
        let mouthAvg = 0.5 * (lm[48] + lm[54])
        let eyeToMouth = mouthAvg - eyeAvg
        // flipud swaps the two components; ·[−1, 1] negates the first: (a, b) → (−b, a).
        var x = eyeToEye - Point2(x: -eyeToMouth.y, y: eyeToMouth.x)
        x = (1.0 / x.length) * x
        x = max(eyeToEye.length * 2.0, eyeToMouth.length * 1.8) * x
        let y = Point2(x: -x.y, y: x.x)
        let c = eyeAvg + 0.1 * eyeToMouth
        return AlignmentQuad(center: c, x: x, y: y)
    }

    public var corners: [Point2] { [center - x - y, center - x + y, center + x + y, center + x - y] }

    /// Side length of the quad in image pixels (2·|x|).
    public var size: Double { 2 * x.length }

    /// The map from normalised crop coordinates (a, b) ∈ [0, 1]² — (0, 0) the crop's top-left corner,
    /// (1, 1) its bottom-right, continuous — to image positions, and back.
    public var transform: AlignmentTransform {
        let tl = center - x - y
        return AlignmentTransform(origin: tl, u: 2.0 * x, v: 2.0 * y)
    }
}
