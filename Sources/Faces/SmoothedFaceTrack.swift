/// The per-frame measurements a smoothed track is made from: an array in memory, or a
/// `MeasuredFaceFile` on disk.
protocol MeasuredFaceSource {
    var count: Int { get }
    var facesFound: Int { get }
    func measured(_ i: Int) throws -> FaceFrame?
    func time(_ i: Int) throws -> Double?
}

extension MeasuredFaceFile: MeasuredFaceSource {}

/// Measurements held in memory, as `FaceTrackSmoothing.apply` takes them. A missing or short `times`
/// leaves the filled frames without a time.
struct MeasuredFaceList: MeasuredFaceSource {
    let frames: [FaceFrame?]
    let times: [Double?]?

    var count: Int { frames.count }
    var facesFound: Int { frames.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }
    func measured(_ i: Int) -> FaceFrame? { frames[i] }
    func time(_ i: Int) -> Double? { times.flatMap { i < $0.count ? $0[i] : nil } }
}

/// The frames `range` of another source, renumbered from 0: one shot of a clip.
struct MeasuredFaceSlice: MeasuredFaceSource {
    let base: any MeasuredFaceSource
    let range: Range<Int>
    let facesFound: Int

    var count: Int { range.count }
    func measured(_ i: Int) throws -> FaceFrame? { try base.measured(range.lowerBound + i) }
    func time(_ i: Int) throws -> Double? { try base.time(range.lowerBound + i) }
}

/// A complete, smooth face track read a frame at a time (see `FaceTrackSmoothing`): faceless frames
/// are filled by linear interpolation between the nearest measured frames (held at the clip's ends) and
/// flagged `.filled`; the quad's centre, its x and y vectors and the pose angles are then smoothed with
/// `GaussianSmoother`'s kernels and 'reflect' borders, each frame summed in the same order as
/// `GaussianSmoother.smooth` so the values are the same to the bit.
///
/// Only the filled frames within one kernel radius of the last frame asked for are kept, with the two
/// measured frames around the last gap, so memory does not grow with the clip. Asking for frames in
/// order reads each measurement about twice at most; any order gives the same frames.
public final class SmoothedFaceTrack {
    public let count: Int
    public let smoothing: FaceTrackSmoothing
    private let source: any MeasuredFaceSource
    /// Kernels for the centre, the x/y vectors and the pose; empty where values are left as measured
    /// (σ ≤ 0, or a one-frame clip, as `GaussianSmoother.smooth` does).
    private let centerKernel: [Double], xyKernel: [Double], poseKernel: [Double]
    /// How many frames either side of a frame its smoothed values reach.
    private let radius: Int
    /// Filled frames `windowStart ..< windowStart + window.count`.
    private var windowStart = 0
    private var window: [FaceFrame] = []
    /// The run of faceless frames last filled, and the measured frames either side of it (nil at the
    /// clip's ends), so a long gap is scanned once rather than once a frame.
    private var gap: Gap?

    /// A measured frame next to a gap.
    private typealias Neighbour = (index: Int, face: FaceFrame)
    private struct Gap {
        let frames: ClosedRange<Int>
        let before: Neighbour?, after: Neighbour?
    }

    /// One track per shot when the clip has cuts (nothing is filled or smoothed across a cut); empty
    /// when the whole clip is one shot.
    private var shots: [(range: Range<Int>, track: SmoothedFaceTrack)] = []

    /// With `shotStarts` (frames where a new shot begins), each shot is filled and smoothed on its own;
    /// a shot without any face joins the shot before it (the first one, the shot after it), where its
    /// frames are held at that shot's nearest face.
    convenience init(source: any MeasuredFaceSource, smoothing: FaceTrackSmoothing, shotStarts: [Int]) throws {
        try self.init(source: source, smoothing: smoothing)
        let starts = shotStarts.filter { $0 > 0 && $0 < source.count }.sorted()
        guard !starts.isEmpty else { return }
        var parts: [(range: Range<Int>, faces: Int)] = []
        for (lo, hi) in zip([0] + starts, starts + [source.count]) where hi > lo {
            let faces = try (lo..<hi).reduce(0) { $0 + (try source.measured($1) == nil ? 0 : 1) }
            if let last = parts.last, faces == 0 || last.faces == 0 {
                parts[parts.count - 1] = (last.range.lowerBound..<hi, last.faces + faces)
            } else {
                parts.append((lo..<hi, faces))
            }
        }
        guard parts.count > 1 else { return }
        shots = try parts.map { part in
            (part.range, try SmoothedFaceTrack(source: MeasuredFaceSlice(base: source, range: part.range, facesFound: part.faces),
                                               smoothing: smoothing))
        }
    }

    init(source: any MeasuredFaceSource, smoothing: FaceTrackSmoothing) throws {
        guard source.facesFound > 0 else { throw FacesError.noFaceInClip(frames: source.count) }
        let n = source.count
        func kernel(_ sigma: Double) -> [Double] { sigma > 0 && n > 1 ? GaussianSmoother.kernel(sigma: sigma) : [] }
        self.source = source
        self.smoothing = smoothing
        count = n
        centerKernel = kernel(smoothing.centerSigma)
        xyKernel = kernel(smoothing.xySigma)
        poseKernel = kernel(smoothing.poseSigma)
        radius = max(centerKernel.count, xyKernel.count, poseKernel.count) / 2
    }

    /// Frame `i` of the clip, filled where it had no face, with smoothed `quad` and `pose`.
    public func frame(_ i: Int) throws -> FaceFrame {
        guard i >= 0, i < count else { throw FacesError.invalidArgument("frame \(i) is outside the face track's \(count) frames") }
        if let shot = shots.first(where: { $0.range.contains(i) }) {
            var f = try shot.track.frame(i - shot.range.lowerBound)
            f.index = i
            return f
        }
        try moveWindow(to: max(0, i - radius)...min(count - 1, i + radius))
        var f = window[i - windowStart]
        f.quad = AlignmentQuad(center: Point2(x: smoothed(i, centerKernel) { $0.rawQuad.center.x },
                                              y: smoothed(i, centerKernel) { $0.rawQuad.center.y }),
                               x: Point2(x: smoothed(i, xyKernel) { $0.rawQuad.x.x }, y: smoothed(i, xyKernel) { $0.rawQuad.x.y }),
                               y: Point2(x: smoothed(i, xyKernel) { $0.rawQuad.y.x }, y: smoothed(i, xyKernel) { $0.rawQuad.y.y }))
        f.pose = HeadPose(yaw: smoothed(i, poseKernel) { $0.rawPose.yaw }, pitch: smoothed(i, poseKernel) { $0.rawPose.pitch },
                          roll: smoothed(i, poseKernel) { $0.rawPose.roll }, residual: f.rawPose.residual)
        return f
    }

    /// `GaussianSmoother.smooth(series, sigma)[t]` for the series `value` of the filled frames: the same
    /// weights, added from k = −r to r, with scipy's 'reflect' (period 2n, so it holds for n < r too).
    private func smoothed(_ t: Int, _ w: [Double], _ value: (FaceFrame) -> Double) -> Double {
        guard !w.isEmpty else { return value(window[t - windowStart]) }
        let r = w.count / 2, n = count
        var acc = 0.0
        for k in -r...r {
            var j = (t + k) % (2 * n)
            if j < 0 { j += 2 * n }
            if j >= n { j = 2 * n - 1 - j }
            acc += w[k + r] * value(window[j - windowStart])
        }
        return acc
    }

    /// Keeps the filled frames in `range` (every index the reflected kernel can reach), reusing those
    /// already held.
    private func moveWindow(to range: ClosedRange<Int>) throws {
        guard range.lowerBound != windowStart || range.count != window.count else { return }
        var moved: [FaceFrame] = []
        moved.reserveCapacity(range.count)
        for j in range {
            if j >= windowStart && j < windowStart + window.count {
                moved.append(window[j - windowStart])
            } else {
                moved.append(try filledFrame(j))
            }
        }
        window = moved
        windowStart = range.lowerBound
    }

    /// Frame `i` as measured, or filled from the measured frames either side of its gap.
    private func filledFrame(_ i: Int) throws -> FaceFrame {
        if let f = try source.measured(i) { return f }
        let run = try gap(around: i)
        let a: FaceFrame, b: FaceFrame, t: Double
        switch (run.before, run.after) {
        case let (before?, after?):
            a = before.face; b = after.face
            t = Double(i - before.index) / Double(after.index - before.index)
        case let (only?, nil), let (nil, only?):
            a = only.face; b = a; t = 0
        case (nil, nil):
            // The source counted faces that are not there.
            throw FacesError.noFaceInClip(frames: count)
        }
        let lm = zip(a.landmarks, b.landmarks).map { lerp($0, $1, t) }
        let quad = AlignmentQuad(center: lerp(a.rawQuad.center, b.rawQuad.center, t),
                                 x: lerp(a.rawQuad.x, b.rawQuad.x, t), y: lerp(a.rawQuad.y, b.rawQuad.y, t))
        let pose = HeadPose(yaw: lerp(a.rawPose.yaw, b.rawPose.yaw, t), pitch: lerp(a.rawPose.pitch, b.rawPose.pitch, t),
                            roll: lerp(a.rawPose.roll, b.rawPose.roll, t), residual: max(a.rawPose.residual, b.rawPose.residual))
        return FaceFrame(index: i, time: try source.time(i), source: .filled, box: nil, landmarks: lm, rawQuad: quad, rawPose: pose)
    }

    /// The faceless run holding `i` and its measured neighbours, from memory when `i` is in the last one.
    private func gap(around i: Int) throws -> Gap {
        if let gap, gap.frames.contains(i) { return gap }
        var before: Neighbour?, after: Neighbour?
        var lo = i, hi = i
        while lo > 0 {
            if let f = try source.measured(lo - 1) { before = (lo - 1, f); break }
            lo -= 1
        }
        while hi < count - 1 {
            if let f = try source.measured(hi + 1) { after = (hi + 1, f); break }
            hi += 1
        }
        let found = Gap(frames: lo...hi, before: before, after: after)
        gap = found
        return found
    }

    @inline(__always) private func lerp(_ a: Double, _ b: Double, _ t: Double) -> Double { a + (b - a) * t }
    @inline(__always) private func lerp(_ a: Point2, _ b: Point2, _ t: Double) -> Point2 {
        Point2(x: lerp(a.x, b.x, t), y: lerp(a.y, b.y, t))
    }
}
