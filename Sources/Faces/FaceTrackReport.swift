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
}
