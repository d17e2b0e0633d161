import Faces
import Foundation

/// One frame as the renderer made it, handed to an observer (the per-clip report, the identity figure)
/// so that what watches a render does not have to re-implement the render loop.
public struct RenderedFrame {
    /// The frame's index in the track (and in the source clip's decoded frames).
    public var index: Int
    /// Seconds from the track's first frame.
    public var seconds: Double
    /// The track's frame before smoothing: code, camera, quad, landmarks, face flag.
    public var raw: TrackFrame
    /// The same frame after smoothing (what was rendered).
    public var smoothed: TrackFrame
    /// The camera the style generator rendered from (25 numbers: cam2world row-major, intrinsics).
    public var camera: [Float]
    /// The style generator's picture (square, the generator's resolution).
    public var avatar: RGBImage
    /// The source frame, when the renderer read it (any layout but `avatar`, or `observerNeedsSource`).
    public var source: RGBImage?
}
