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
    /// How the subject was found in this frame: "auto", "largest", "center", "index", "point" (chosen
    /// among verified candidates by that rule), "identity" or "position" (re-acquired after it was lost),
    /// "tracked"; nil when filled.
    public var choice: String?
    /// 0…1: how sure the detector is that this is a face (from dlib's HOG score at the last check).
    public var confidence: Double?
    /// Which subject this is: 1 for the first, a new number when a face that is not the earlier
    /// subject is acquired.
    public var subject: Int?
    /// The candidates the verifier rejected in this frame (full-frame detections only).
    public var rejected: [FaceRect] = []

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
