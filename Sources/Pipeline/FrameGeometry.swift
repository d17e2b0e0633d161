import Faces
import Foundation

/// The renderer's readings of a track frame's geometry, for observers of a render (the clip report): the same
/// conversions the renderer itself uses, so a report plots exactly what was rendered.
public enum FrameGeometry {
    /// Yaw and pitch (radians) of an EG3D camera (25 numbers: cam2world row-major, then intrinsics).
    public static func yawPitch(camera: [Float]) -> (yaw: Double, pitch: Double) {
        let (yaw, pitch) = AvatarRenderer.yawPitch(camera)
        return (yaw, pitch)
    }

    /// A track frame's alignment quad (8 numbers: its corners) as an `AlignmentQuad`.
    public static func quad(_ corners: [Float]) -> AlignmentQuad { AvatarRenderer.quad(corners) }

    /// Head roll (radians): the tilt of the alignment quad's horizontal axis in the picture, which the FFHQ
    /// alignment takes from the line between the eyes (positive = clockwise in the picture, y down).
    public static func roll(quadCorners corners: [Float]) -> Double {
        let q = quad(corners)
        return atan2(q.x.y, q.x.x)
    }
}
