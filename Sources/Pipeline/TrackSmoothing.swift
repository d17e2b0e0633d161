import Foundation

/// Smoothing settings for a whole latent track: W+ codes per layer (coarse layers may be steadier than
/// fine ones), cameras, and alignment quads.
public struct TrackSmoothing: Sendable, Equatable {
    /// One filter for every layer, or one per layer (count == numWs).
    public var codes: [TemporalFilter]
    public var cameras: TemporalFilter
    public var quads: TemporalFilter

    public init(codes: [TemporalFilter] = [.gaussian(sigma: 1.5)], cameras: TemporalFilter = .gaussian(sigma: 2),
                quads: TemporalFilter = .none) {
        self.codes = codes; self.cameras = cameras; self.quads = quads
    }

    public static let off = TrackSmoothing(codes: [.none], cameras: .none, quads: .none)

    /// Jitter before and after, for the run report: mean frame-to-frame distance of the codes and cameras.
    public struct Report: Sendable {
        public var codeJitterBefore: Double
        public var codeJitterAfter: Double
        public var cameraJitterBefore: Double
        public var cameraJitterAfter: Double
    }

    /// The filter of code layer `layer`.
    func codeFilter(_ layer: Int, numWs: Int) -> TemporalFilter {
        codes.count == numWs ? codes[layer] : (codes.first ?? .none)
    }
}

/// A latent track's frames, smoothed, in order. It holds only the raw frames within the widest filter's
/// radius (and the causal filters' state), so memory does not grow with the clip.
public final class SmoothedTrackReader {
    public let track: LatentTrack
    public let smoothing: TrackSmoothing
    /// The index of the frame `next()` returns.
    public private(set) var position = 0

    private var codeRuns: [TemporalFilterRun]
    private var cameraRun: TemporalFilterRun
    private var quadRun: TemporalFilterRun
    private let radius: Int
    private var window: [Int: TrackFrame] = [:]
    private var previousRaw: TrackFrame?
    private var previousOut: TrackFrame?
    private var pairs = 0
    private var jitter = (codesBefore: 0.0, codesAfter: 0.0, camerasBefore: 0.0, camerasAfter: 0.0)

    public init(_ track: LatentTrack, smoothing: TrackSmoothing) {
        self.track = track; self.smoothing = smoothing
        let rate = track.source.frameRate.value
        codeRuns = (0..<track.numWs).map { layer in
            TemporalFilterRun(smoothing.codeFilter(layer, numWs: track.numWs), columns: (layer * track.wDim)..<((layer + 1) * track.wDim), rate: rate)
        }
        // Rotation and translation only: the intrinsics (the last 9 numbers) are left alone.
        cameraRun = TemporalFilterRun(smoothing.cameras, columns: 0..<16, rate: rate)
        quadRun = TemporalFilterRun(smoothing.quads, columns: 0..<8, rate: rate)
        radius = (codeRuns + [cameraRun, quadRun]).map(\.filter.radius).max() ?? 0
    }

    /// Raw frames held for the window (at most 2 × radius + 1).
    var bufferedFrames: Int { window.count }

    /// Jitter over the frames read so far.
    public var report: TrackSmoothing.Report {
        let n = Double(max(pairs, 1))
        return .init(codeJitterBefore: jitter.codesBefore / n, codeJitterAfter: jitter.codesAfter / n,
                     cameraJitterBefore: jitter.camerasBefore / n, cameraJitterAfter: jitter.camerasAfter / n)
    }

    private func raw(_ i: Int) throws -> TrackFrame {
        if let f = window[i] { return f }
        let f = try track.frame(i)
        window[i] = f
        return f
    }

    /// The next smoothed frame, or nil at the end of the track.
    public func next() throws -> TrackFrame? {
        let t = position, n = track.count
        guard t < n else { return nil }
        for s in max(0, t - radius)...min(n - 1, t + radius) { _ = try raw(s) }
        window = window.filter { $0.key >= t - radius }
        let input = window[t]!
        var out = input
        for k in codeRuns.indices { codeRuns[k].emit(t, of: n, raw: { self.window[$0]!.code }, into: &out.code) }
        cameraRun.emit(t, of: n, raw: { self.window[$0]!.camera }, into: &out.camera)
        if smoothing.cameras != .none { orthonormaliseRotation(&out.camera) }
        quadRun.emit(t, of: n, raw: { self.window[$0]!.quad }, into: &out.quad)
        if let pr = previousRaw, let po = previousOut {
            pairs += 1
            jitter.codesBefore += euclideanDistance(pr.code[...], input.code[...])
            jitter.codesAfter += euclideanDistance(po.code[...], out.code[...])
            jitter.camerasBefore += euclideanDistance(pr.camera[...], input.camera[...])
            jitter.camerasAfter += euclideanDistance(po.camera[...], out.camera[...])
        }
        previousRaw = input; previousOut = out
        position += 1
        return out
    }

    /// Moves on to frame `frame` without returning the frames before it. With only centred filters the
    /// reader jumps there; a causal filter's output depends on every earlier frame, so those are read.
    public func skip(to frame: Int) throws {
        precondition(frame >= position, "the reader only moves forward")
        if (codeRuns + [cameraRun, quadRun]).contains(where: \.isCausal) {
            while position < frame, try next() != nil {}
            return
        }
        for k in codeRuns.indices { codeRuns[k].jump(to: frame) }
        cameraRun.jump(to: frame); quadRun.jump(to: frame)
        window = window.filter { $0.key >= frame - radius }
        previousRaw = nil; previousOut = nil
        position = frame
    }
}

/// Smooths cam2world matrices entry by entry, then makes each rotation orthonormal again. Intrinsics
/// (the last 9 numbers) are left alone.
public func smoothCameras(_ cams: [Float], frames n: Int, filter: TemporalFilter, rate: Double) -> [Float] {
    guard filter != .none else { return cams }
    var out = filter.apply(cams, frames: n, dim: 25, rate: rate, columns: 0..<16)
    for t in 0..<n {
        var c = Array(out[(t * 25)..<((t + 1) * 25)])
        orthonormaliseRotation(&c)
        out.replaceSubrange((t * 25)..<((t + 1) * 25), with: c)
    }
    return out
}

/// A smoothed mix of nearby rotations is close to, but not exactly, a rotation: Gram–Schmidt on the
/// columns of the camera's 3×3 rotation makes it one again.
func orthonormaliseRotation(_ c: inout [Float]) {
    func col(_ j: Int) -> SIMD3<Double> { SIMD3(Double(c[j]), Double(c[4 + j]), Double(c[8 + j])) }
    var x = col(0), y = col(1)
    x /= (x * x).sum().squareRoot()
    y -= (y * x).sum() * x
    y /= (y * y).sum().squareRoot()
    let z = SIMD3(x.y * y.z - x.z * y.y, x.z * y.x - x.x * y.z, x.x * y.y - x.y * y.x)
    for (j, v) in [x, y, z].enumerated() {
        c[j] = Float(v.x); c[4 + j] = Float(v.y); c[8 + j] = Float(v.z)
    }
}
