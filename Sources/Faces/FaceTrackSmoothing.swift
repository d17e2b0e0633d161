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
    /// each shot is filled and smoothed on its own, so no value is carried or blurred across a cut. A
    /// shot without a face joins the shot before it (or, at the start, the one after), where its frames
    /// are filled by holding that shot's nearest face.
    public func apply(_ measured: [FaceFrame?], times: [Double?]? = nil, shotStarts: [Int]) throws -> [FaceFrame] {
        var bounds = [0] + shotStarts.filter { $0 > 0 && $0 < measured.count }.sorted() + [measured.count]
        bounds = bounds.reduce(into: [Int]()) { if $0.last != $1 { $0.append($1) } }
        var shots = zip(bounds, bounds.dropFirst()).map { $0..<$1 }
        var merged: [Range<Int>] = []
        for shot in shots {
            let hasFace = shot.contains { measured[$0] != nil }
            if !hasFace, let last = merged.popLast() {
                merged.append(last.lowerBound..<shot.upperBound)
            } else if let last = merged.last, !last.contains(where: { measured[$0] != nil }) {
                merged[merged.count - 1] = last.lowerBound..<shot.upperBound
            } else {
                merged.append(shot)
            }
        }
        shots = merged
        var out: [FaceFrame] = []
        out.reserveCapacity(measured.count)
        for shot in shots {
            let part = Array(measured[shot])
            let partTimes = times.map { t in shot.map { $0 < t.count ? t[$0] : nil } }
            guard part.contains(where: { $0 != nil }) else { return try apply(measured, times: times) }
            // Filled frames are numbered within the part; give every frame its index in the clip.
            out += try apply(part, times: partTimes).enumerated().map { k, f in
                var f = f
                f.index = shot.lowerBound + k
                return f
            }
        }
        return out
    }

    /// The complete, smooth track of a measurements file, read a frame at a time so that memory stays
    /// within the kernels' reach however long the clip. Its frames are those `apply` gives for the
    /// file's faces and times. Throws `noFaceInClip` when no frame has a face.
    public func track(_ file: MeasuredFaceFile) throws -> SmoothedFaceTrack {
        try SmoothedFaceTrack(source: file, smoothing: self)
    }
}
