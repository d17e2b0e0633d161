import Foundation

/// EG3D's camera conditioning: 25 numbers, the 4×4 cam2world matrix (OpenCV camera axes: x right,
/// y down, z forward) flattened row-major, then the normalised 3×3 intrinsics
/// [[f, 0, 0.5], [0, f, 0.5], [0, 0, 1]] (NVlabs/eg3d camera_utils.py and its FFHQ dataset.json). World axes are EG3D's: y up, the face looking
/// down +z towards the frontal camera at (0, 0, 2.7).
public struct EG3DCamera: Sendable, Equatable, Codable {
    /// EG3D ffhq512-128's focal length in units of the image size (its `intrinsics` 4.2647).
    public static let focal = 4.2647
    /// `avg_camera_radius` and `avg_camera_pivot` of EG3D's FFHQ models.
    public static let radius = 2.7
    public static let pivot = (x: 0.0, y: 0.0, z: 0.2)

    /// Row-major 4×4 cam2world.
    public var cam2world: [Double]

    public init(cam2world: [Double]) {
        precondition(cam2world.count == 16)
        self.cam2world = cam2world
    }

    /// The 25-number conditioning vector.
    public var vector: [Double] {
        cam2world + [Self.focal, 0, 0.5, 0, Self.focal, 0.5, 0, 0, 1]
    }

    /// EG3D's `LookAtPoseSampler.sample(h, v, pivot, radius)` followed by a roll of the camera about
    /// its own viewing axis: the camera sits at `radius` from the world origin, at azimuth `h` and
    /// polar parameter `v` (frontal is h = v = π/2), looks at the pivot with world y up
    /// (`create_cam2world_matrix`), then turns by `roll` radians (positive turns the image
    /// counter-clockwise as seen).
    public static func lookAt(horizontal h: Double, vertical v: Double, roll: Double = 0) -> EG3DCamera {
        let vc = min(max(v, 1e-5), Double.pi - 1e-5)
        let phi = acos(1 - 2 * vc / Double.pi)
        let o = [radius * sin(phi) * cos(Double.pi - h), radius * cos(phi), radius * sin(phi) * sin(Double.pi - h)]
        var f = [pivot.x - o[0], pivot.y - o[1], pivot.z - o[2]]
        f = normalize(f)
        let up = [0.0, 1.0, 0.0]
        let right = normalize(cross(up, f)).map { -$0 }
        let up2 = normalize(cross(f, right))
        // Roll about the forward axis: new x = cos·right + sin·up2, new y = −sin·right + cos·up2.
        let c = cos(roll), s = sin(roll)
        let xr = (0..<3).map { c * right[$0] + s * up2[$0] }
        let yr = (0..<3).map { -s * right[$0] + c * up2[$0] }
        return EG3DCamera(cam2world: [
            xr[0], yr[0], f[0], o[0],
            xr[1], yr[1], f[1], o[1],
            xr[2], yr[2], f[2], o[2],
            0, 0, 0, 1,
        ])
    }

    /// The frontal camera: `lookAt(π/2, π/2)`, i.e. position (0, 0, 2.7) looking down −z.
    public static var frontal: EG3DCamera { lookAt(horizontal: Double.pi / 2, vertical: Double.pi / 2) }

    /// Camera position in world coordinates.
    public var position: (Double, Double, Double) { (cam2world[3], cam2world[7], cam2world[11]) }

    static func cross(_ a: [Double], _ b: [Double]) -> [Double] {
        [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    }

    static func normalize(_ a: [Double]) -> [Double] {
        let n = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).squareRoot()
        return n > 0 ? a.map { $0 / n } : a
    }
}
