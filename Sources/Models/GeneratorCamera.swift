// Cameras as EG3D encodes them (camera_utils.py: LookAtPoseSampler, create_cam2world_matrix): 25
// numbers, a cam2world 4×4 (OpenCV axes: x right, y down, z forward) row-major and normalised 3×3
// intrinsics. Yaw/pitch are measured from π/2; the camera sits on a sphere of `radius` about the world
// origin and looks at `lookAt`.
import Foundation

/// The camera a generator is conditioned on and renders from, built from a bundle's own focal length,
/// radius and pivot (`CameraDefaults`). Faces has its own `EG3DCamera`, the same 25-number convention in
/// double precision with FFHQ's fixed constants and a roll, for the pose measured from a face: Faces may
/// not import Models, and Pipeline turns one into the other.
public struct GeneratorCamera: Sendable, Equatable {
    public var cam2world: [Float]   // 16, row-major
    public var intrinsics: [Float]  // 9, row-major

    /// The 25-number conditioning/rendering vector.
    public var vector: [Float] { cam2world + intrinsics }

    public init(vector c: [Float]) {
        precondition(c.count == 25, "a camera has 25 numbers")
        cam2world = Array(c[0..<16])
        intrinsics = Array(c[16..<25])
    }

    /// LookAtPoseSampler.sample(π/2 + yaw, π/2 + pitch, lookAt, radius) with intrinsics [[f,0,.5],[0,f,.5],[0,0,1]].
    public static func lookAt(yaw: Double = 0, pitch: Double = 0, radius: Double = 2.7,
                              lookAt target: (Double, Double, Double) = (0, 0, 0.2), focal: Double = 4.2647) -> GeneratorCamera {
        let theta = Double.pi / 2 + yaw
        var v = Double.pi / 2 + pitch
        v = min(max(v, 1e-5), Double.pi - 1e-5) / Double.pi
        let phi = acos(1 - 2 * v)
        let origin = (radius * sin(phi) * cos(Double.pi - theta), radius * cos(phi), radius * sin(phi) * sin(Double.pi - theta))
        func normalize(_ a: (Double, Double, Double)) -> (Double, Double, Double) {
            let n = (a.0 * a.0 + a.1 * a.1 + a.2 * a.2).squareRoot()
            return (a.0 / n, a.1 / n, a.2 / n)
        }
        func cross(_ a: (Double, Double, Double), _ b: (Double, Double, Double)) -> (Double, Double, Double) {
            (a.1 * b.2 - a.2 * b.1, a.2 * b.0 - a.0 * b.2, a.0 * b.1 - a.1 * b.0)
        }
        let forward = normalize((target.0 - origin.0, target.1 - origin.1, target.2 - origin.2))
        var right = normalize(cross((0, 1, 0), forward))
        right = (-right.0, -right.1, -right.2)
        let up = normalize(cross(forward, right))
        let m: [Double] = [right.0, up.0, forward.0, origin.0,
                           right.1, up.1, forward.1, origin.1,
                           right.2, up.2, forward.2, origin.2,
                           0, 0, 0, 1]
        return GeneratorCamera(vector: m.map { Float($0) } + [Float(focal), 0, 0.5, 0, Float(focal), 0.5, 0, 0, 1])
    }
}
