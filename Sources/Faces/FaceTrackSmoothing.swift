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
    /// frame has a face.
    public func apply(_ measured: [FaceFrame?], times: [Double?]? = nil) throws -> [FaceFrame] {
        let n = measured.count
        let known = measured.indices.filter { measured[$0] != nil }
        guard let first = known.first, let last = known.last else { throw FacesError.noFaceInClip(frames: n) }
        var frames: [FaceFrame] = []
        frames.reserveCapacity(n)
        var nextKnown = 0
        for i in 0..<n {
            if let f = measured[i] { frames.append(f); continue }
            while nextKnown < known.count && known[nextKnown] < i { nextKnown += 1 }
            let a: FaceFrame, b: FaceFrame, t: Double
            if i < first {
                a = measured[first]!; b = a; t = 0
            } else if i > last {
                a = measured[last]!; b = a; t = 0
            } else {
                let ia = known[nextKnown - 1], ib = known[nextKnown]
                a = measured[ia]!; b = measured[ib]!
                t = Double(i - ia) / Double(ib - ia)
            }
            let lm = zip(a.landmarks, b.landmarks).map { lerp($0, $1, t) }
            let quad = AlignmentQuad(center: lerp(a.rawQuad.center, b.rawQuad.center, t),
                                     x: lerp(a.rawQuad.x, b.rawQuad.x, t), y: lerp(a.rawQuad.y, b.rawQuad.y, t))
            let pose = HeadPose(yaw: lerp(a.rawPose.yaw, b.rawPose.yaw, t), pitch: lerp(a.rawPose.pitch, b.rawPose.pitch, t),
                                roll: lerp(a.rawPose.roll, b.rawPose.roll, t), residual: max(a.rawPose.residual, b.rawPose.residual))
            let time = times.flatMap { i < $0.count ? $0[i] : nil }
            frames.append(FaceFrame(index: i, time: time, source: .filled, box: nil, landmarks: lm, rawQuad: quad, rawPose: pose))
        }
        func series(_ f: (FaceFrame) -> Double, _ sigma: Double) -> [Double] {
            GaussianSmoother.smooth(frames.map(f), sigma: sigma)
        }
        let cx = series({ $0.rawQuad.center.x }, centerSigma), cy = series({ $0.rawQuad.center.y }, centerSigma)
        let xx = series({ $0.rawQuad.x.x }, xySigma), xy = series({ $0.rawQuad.x.y }, xySigma)
        let yx = series({ $0.rawQuad.y.x }, xySigma), yy = series({ $0.rawQuad.y.y }, xySigma)
        let yaw = series({ $0.rawPose.yaw }, poseSigma), pitch = series({ $0.rawPose.pitch }, poseSigma)
        let roll = series({ $0.rawPose.roll }, poseSigma)
        for i in 0..<n {
            frames[i].quad = AlignmentQuad(center: Point2(x: cx[i], y: cy[i]), x: Point2(x: xx[i], y: xy[i]), y: Point2(x: yx[i], y: yy[i]))
            frames[i].pose = HeadPose(yaw: yaw[i], pitch: pitch[i], roll: roll[i], residual: frames[i].rawPose.residual)
        }
        return frames
    }

    @inline(__always) func lerp(_ a: Double, _ b: Double, _ t: Double) -> Double { a + (b - a) * t }
    @inline(__always) func lerp(_ a: Point2, _ b: Point2, _ t: Double) -> Point2 {
        Point2(x: lerp(a.x, b.x, t), y: lerp(a.y, b.y, t))
    }
}
