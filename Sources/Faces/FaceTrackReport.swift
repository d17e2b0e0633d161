/// The JSON form of a face track (what `avatarize faces --json` writes): per frame the raw measurement
/// and the smoothed values, with cameras as EG3D's 25 numbers, plus counts for the run report.
public struct FaceTrackReport: Sendable, Codable {
    public struct Quad: Sendable, Codable {
        public var center: [Double]
        public var x: [Double]
        public var y: [Double]
        /// Corners in FFHQ order: top-left, bottom-left, bottom-right, top-right.
        public var corners: [[Double]]

        public init(_ q: AlignmentQuad) {
            center = [q.center.x, q.center.y]
            x = [q.x.x, q.x.y]
            y = [q.y.x, q.y.y]
            corners = q.corners.map { [$0.x, $0.y] }
        }
    }

    public struct Pose: Sendable, Codable {
        public var yaw: Double
        public var pitch: Double
        public var roll: Double

        public init(_ p: HeadPose) {
            yaw = p.yaw
            pitch = p.pitch
            roll = p.roll
        }
    }

    public struct Frame: Sendable, Codable {
        public var index: Int
        public var time: Double?
        /// "detected", "tracked" or "filled".
        public var source: String
        /// Landmark box, dlib convention [left, top, right, bottom]; absent on filled frames.
        public var box: [Int]?
        public var landmarks: [[Double]]
        public var quadRaw: Quad
        public var quad: Quad
        public var poseRaw: Pose
        public var pose: Pose
        public var cameraRaw: [Double]
        public var camera: [Double]
        /// How the subject was found ("auto", "largest", "center", "index", "point", "identity",
        /// "position", "tracked"); absent on filled frames.
        public var choice: String?
        /// 0…1, from dlib's HOG score at the subject's last check; absent on filled frames.
        public var confidence: Double?
        /// Which subject (1 for the first; a new number when another face was acquired).
        public var subject: Int?
        /// Candidates the verifier rejected in this frame, [x, y, width, height].
        public var rejected: [[Int]]?
        /// The shot begins here (a cut was detected).
        public var shotStart: Bool?
        /// dlib's 128-d face descriptor (with `--identity`), on frames with a measured face.
        public var identity: [Float]?

        public init(_ f: FaceFrame) {
            index = f.index
            time = f.time
            source = f.source.rawValue
            box = f.box.map { [$0.left, $0.top, $0.right, $0.bottom] }
            landmarks = f.landmarks.map { [$0.x, $0.y] }
            quadRaw = Quad(f.rawQuad)
            quad = Quad(f.quad)
            poseRaw = Pose(f.rawPose)
            pose = Pose(f.pose)
            cameraRaw = f.rawCamera.vector
            camera = f.camera.vector
            choice = f.isFilled ? nil : f.choice
            confidence = f.isFilled ? nil : f.confidence
            subject = f.isFilled ? nil : f.subject
            rejected = f.rejected.isEmpty ? nil : f.rejected.map { [$0.x, $0.y, $0.width, $0.height] }
        }
    }

    public var source: String
    public var width: Int
    public var height: Int
    public var frames: Int
    public var facesFound: Int
    public var framesFilled: Int
    public var centerSigma: Double
    public var xySigma: Double
    public var poseSigma: Double
    /// Frames where a shot cut was detected (the track is reset and not smoothed across them).
    public var shotStarts: [Int]?
    public var track: [Frame]

    public init(source: String, width: Int, height: Int, frames: [FaceFrame], smoothing: FaceTrackSmoothing) {
        self.source = source
        self.width = width
        self.height = height
        self.frames = frames.count
        self.framesFilled = frames.filter { $0.isFilled }.count
        self.facesFound = frames.count - framesFilled
        self.centerSigma = smoothing.centerSigma
        self.xySigma = smoothing.xySigma
        self.poseSigma = smoothing.poseSigma
        self.track = frames.map(Frame.init)
    }

    /// Marks the shot starts and attaches descriptors (frame index → descriptor).
    public mutating func annotate(shotStarts: [Int], identities: [Int: [Float]]) {
        self.shotStarts = shotStarts
        for s in shotStarts where s < track.count { track[s].shotStart = true }
        for (i, d) in identities where i < track.count { track[i].identity = d }
    }
}
