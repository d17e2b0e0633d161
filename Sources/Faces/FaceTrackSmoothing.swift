/// Turns per-frame measurements (some frames without a face) into a complete, smooth track:
/// faceless frames are filled from their neighbours (linear interpolation between the nearest measured
/// frames, held at the ends of the clip) and flagged; then the quad's centre, its x and y vectors, and
/// the pose angles are smoothed over time with Gaussians.
public struct FaceTrackSmoothing: Sendable, Equatable {
    /// σ in frames for the quad centre, STIT's default 1 (`center_sigma`).
    public var centerSigma: Double = 1
    /// σ in frames for the quad's x and y vectors, STIT's default 3 (`xy_sigma`).
    public var xySigma: Double = 3
    /// σ in frames for yaw, pitch and roll. The orientation of the crop lives in the x/y vectors, which
    /// STIT smooths with σ = 3; the head pose is the same orientation seen in 3-D, so it gets the same.
    public var poseSigma: Double = 3

    public init(centerSigma: Double = 1, xySigma: Double = 3, poseSigma: Double = 3) {
        self.centerSigma = centerSigma
        self.xySigma = xySigma
        self.poseSigma = poseSigma
    }

    public static let none = FaceTrackSmoothing(centerSigma: 0, xySigma: 0, poseSigma: 0)

    /// Frames with measurements (`nil` = no face) → complete frames. Throws `noFaceInClip` when no
    /// frame has a face. `times[i]` is the time given to frame i when it is filled.
    public func apply(_ measured: [FaceFrame?], times: [Double?]? = nil) throws -> [FaceFrame] {
        let track = try SmoothedFaceTrack(source: MeasuredFaceList(frames: measured, times: times), smoothing: self)
        return try (0..<track.count).map { try track.frame($0) }
    }

    /// As `apply`, with the clip cut into shots at `shotStarts` (frame indices where a new shot begins):
    /// each shot is filled and smoothed on its own, so no value is carried or blurred across a cut.
    public func apply(_ measured: [FaceFrame?], times: [Double?]? = nil, shotStarts: [Int]) throws -> [FaceFrame] {
        let track = try SmoothedFaceTrack(source: MeasuredFaceList(frames: measured, times: times), smoothing: self,
                                          shotStarts: shotStarts)
        return try (0..<track.count).map { try track.frame($0) }
    }

    /// The complete, smooth track of a measurements file, read a frame at a time so that memory stays
    /// within the kernels' reach however long the clip. Its frames are those `apply` gives for the
    /// file's faces and times. Throws `noFaceInClip` when no frame has a face.
    public func track(_ file: MeasuredFaceFile, shotStarts: [Int] = []) throws -> SmoothedFaceTrack {
        try SmoothedFaceTrack(source: file, smoothing: self, shotStarts: shotStarts)
    }
}
