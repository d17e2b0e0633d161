/// What Faces knows about one video frame: the raw measurement (box, landmarks, quad, pose) when a
/// face was found, and the values to use (smoothed, or filled in from neighbours when it was not).
public struct FaceFrame: Sendable, Equatable, Codable {
    /// How the frame's face was obtained.
    public enum Source: String, Sendable, Codable {
        /// Full-frame (or region) Haar detection, then landmarks.
        case detected
        /// Landmarks seeded from the previous frame's, no detection needed.
        case tracked
        /// No face found in this frame; values come from the neighbouring frames.
        case filled
    }

    public var index: Int
    /// Presentation time in seconds (from the decoder), when known.
    public var time: Double?
    public var source: Source
    /// The box the landmarks were predicted in (dlib convention), when a face was measured.
    public var box: DlibRect?
    /// Raw landmarks (68, pixel coordinates), when measured; interpolated ones for filled frames.
    public var landmarks: [Point2]
    public var rawQuad: AlignmentQuad
    public var rawPose: HeadPose
    /// Smoothed (or filled) values: what the crop, the camera and the paste-back use.
    public var quad: AlignmentQuad
    public var pose: HeadPose

    public init(index: Int, time: Double?, source: Source, box: DlibRect?, landmarks: [Point2],
                rawQuad: AlignmentQuad, rawPose: HeadPose) {
        self.index = index
        self.time = time
        self.source = source
        self.box = box
        self.landmarks = landmarks
        self.rawQuad = rawQuad
        self.rawPose = rawPose
        self.quad = rawQuad
        self.pose = rawPose
    }

    public var isFilled: Bool { source == .filled }
    public var camera: EG3DCamera { pose.camera }
    public var rawCamera: EG3DCamera { rawPose.camera }
}
