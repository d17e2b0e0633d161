import Faces
import Foundation
import Logging
import Models
import Tensors
import Video

/// What rendering reports: frames, the jitter before and after smoothing, and time per stage.
public struct RenderReport: Sendable {
    public var frames: Int
    public var width: Int
    public var height: Int
    public var smoothing: TrackSmoothing.Report
    /// Mean frame-to-frame distance of the rendered frames (RGB in [0, 1], per pixel).
    public var frameJitter: Double
    public var stageSeconds: [(String, Double)]
    public var notes: [String]
}

public enum RenderError: Error, CustomStringConvertible {
    case badStyleLayer(String, known: [String])
    case channelOutOfRange(layer: String, channel: Int, count: Int)
    case emptyTrack(String)
    case shapeMismatch(track: String, generator: String)
    case segmentsDoNotMatch(String, reason: String)
    public var description: String {
        switch self {
        case let .badStyleLayer(l, known): return "no StyleSpace layer '\(l)'; layers: \(known.joined(separator: ", "))"
        case let .channelOutOfRange(l, c, n): return "layer \(l) has \(n) style channels; channel \(c) does not exist"
        case .emptyTrack(let p): return "\(p): the track holds no frames"
        case let .shapeMismatch(t, g): return "the track's W+ codes are \(t) but the style generator takes \(g): it belongs to other models"
        case let .segmentsDoNotMatch(p, r): return "\(p): the rendered segments do not make up the clip (\(r))"
        }
    }
}

/// Latent track → avatar video: smoothing, semantic / StyleSpace / geometry edits, the style generator
/// from the chosen camera, the chosen layout, the source's timing and audio.
public struct AvatarRenderer {
    public var models: AvatarModels
    public var settings: RenderSettings
    /// Called once per rendered frame, in order (reports, identity figure). A throw stops the render.
    public var onFrame: ((RenderedFrame) throws -> Void)?
    /// Whether `onFrame` needs the source frame even when the layout does not show it.
    public var observerNeedsSource = false

    public init(models: AvatarModels, settings: RenderSettings) { self.models = models; self.settings = settings }

    /// Renders the track to `output`. With `segment`, only those frames are rendered, into a lossless,
    /// silent file (.mkv) that `join` later puts together with the other segments: smoothing, edits and
    /// cameras still see the whole track, so the joined video equals a whole-clip render.
    /// The track is read a frame at a time through the smoothing window, so memory does not grow with the clip.
    public func render(_ track: LatentTrack, source: URL, output: URL, segment: Range<Int>? = nil, logger: Logger,
                       progress: ((_ done: Int, _ total: Int) -> Bool)? = nil) throws -> RenderReport {
        guard track.count > 0 else { throw RenderError.emptyTrack(source.path) }
        var stages: [String: Double] = [:]
        func timed<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
            let t = Date(); defer { stages[name, default: 0] += Date().timeIntervalSince(t) }
            return try body()
        }
        let smoother = SmoothedTrackReader(track, smoothing: settings.smoothing)
        let n = track.count, rate = track.source.frameRate.value
        let numWs = track.numWs, wDim = track.wDim
        let arch = models.styleArchitecture
        guard numWs == arch.numWs && wDim == arch.wDim else {
            throw RenderError.shapeMismatch(track: "\(numWs)×\(wDim)", generator: "\(arch.numWs)×\(arch.wDim)")
        }
        // Read here, not with the models: a run's encoder is gone by now (AvatarModels).
        let generators = try timed("load generators") { try models.generators() }
        let style = generators.style
        // TriPlaneNet: every frame renders from tri-planes refined on its own crop (see `refine`).
        let refinement = settings.refinePlanes ? try timed("load generators") { try models.makeRefinement() } : nil
        // No semantic, StyleSpace or geometry edit: every frame's styles are its smoothed code's own.
        let unedited = settings.edits.isEmpty && settings.styleEdits.isEmpty && settings.geometry == nil

        // Edits resolved once: directions as numWs × wDim arrays, StyleSpace channels with their std.
        let directions: [(NamedEdit, [Float])] = try settings.edits.map { e in
            guard let lib = settings.directions else { throw DirectionError.folderMissing("(no --directions folder given)") }
            return (e, try lib.direction(e.name, numWs: numWs, wDim: wDim))
        }
        let channelEdits = try resolveStyleEdits(style)
        let earlyLayers = Self.earlyLayerIndices(style)
        let warp = settings.planeWarp.map { spline in
            PlaneWarp(spline: spline, width: arch.planeResolution, height: arch.planeResolution)
        }

        // Output geometry.
        let res = arch.imageResolution
        let (outW, outH): (Int, Int)
        switch settings.layout {
        case .avatar: (outW, outH) = (res, res)
        case .sideBySide: (outW, outH) = (2 * res, res)
        case .pasteBack: (outW, outH) = (track.source.width, track.source.height)
        }
        let frames = segment.map { $0.clamped(to: 0..<n) } ?? 0..<n
        var wopts = writerOptions(track, source: source)
        if segment != nil { wopts.lossless = true; wopts.audio = nil }
        try checkOutputPath(output, input: source)
        let writer = try VideoWriter(url: output, width: outW, height: outH, options: wopts, logger: logger)
        var depthWriter: VideoWriter?
        var sourceFrames: FramePrefetcher?
        defer { sourceFrames?.stop() }
        // The behind stage's own state and stage times (only its thread touches them until `finish`).
        let continuity = Continuity()
        var behindStages: [String: Double] = [:]
        func behindTimed<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
            let t = Date(); defer { behindStages[name, default: 0] += Date().timeIntervalSince(t) }
            return try body()
        }
        let behind = BehindStage(name: "avatarize.behind", depth: settings.framesInFlight)
        do {
            if let d = settings.depthOutput, segment == nil {
                var o = wopts; o.audio = nil
                let r = style.options.neuralRenderingResolution
                depthWriter = try VideoWriter(url: d, width: r, height: r, options: o, logger: logger)
            }
            if settings.layout != .avatar || (onFrame != nil && observerNeedsSource) || refinement != nil {
                sourceFrames = FramePrefetcher(reader: try VideoReader(url: source, options: .init(start: track.source.start, duration: track.source.duration)))
                for _ in 0..<frames.lowerBound { _ = try sourceFrames?.next() }
            }
            let firstPts = try track.pts(0), segmentPts = frames.isEmpty ? firstPts : try track.pts(frames.lowerBound)
            let clipSeconds = try track.seconds(n - 1) - track.seconds(0)
            try timed("smoothing") { try smoother.skip(to: frames.lowerBound) }
            for i in frames {
                guard let smoothed = try timed("smoothing", { try smoother.next() }) else { break }
                let t = Double(smoothed.pts - firstPts) * track.source.timeBase.value
                // W+ code with semantic edits.
                var code = smoothed.code
                timed("edits") {
                    for (e, dir) in directions {
                        let a = Float(e.value.value(frame: i, seconds: t, frameRate: rate))
                        if a != 0 { for k in 0..<code.count { code[k] += a * dir[k] } }
                    }
                }
                let ws = Tensor(shape: [numWs, wDim], data: code)
                var styles = timed("styles") { style.styles(ws: ws) }
                if let g = settings.geometry {
                    let alpha = Float(g.value(frame: i, seconds: t, frameRate: rate))
                    let src = timed("styles") { generators.source.styles(ws: ws) }
                    for k in earlyLayers {
                        styles.values[k] = zip(src.values[k], styles.values[k]).map { s, st in s + alpha * (st - s) }
                    }
                }
                for (k, ch, std, value) in channelEdits {
                    let v = Float(value.value(frame: i, seconds: t, frameRate: rate))
                    styles.values[k][ch] += v * std
                }
                let cam = camera(following: smoothed.camera, seconds: t, clipSeconds: clipSeconds)
                var sourceImage: RGBImage? = nil
                if sourceFrames != nil {
                    guard let vf = try sourceFrames?.next() else { throw TrackError.sourceMismatch(track: "track", source: source.path, reason: "the source has fewer frames than the track") }
                    sourceImage = RGBImage(width: vf.width, height: vf.height, pixels: vf.rgb)
                }
                let refined = try refinement.map { r in
                    try timed("refinement") { try Self.refine(r, frame: sourceImage!, smoothed: smoothed, numWs: numWs, wDim: wDim,
                                                                     preprocessing: models.encoderPreprocessing) }
                }
                let out = timed("generator") { () -> GeneratorOutput in
                    // Unedited codes have the backbone planes the refinement started from: render its planes as they are.
                    if let refined, unedited {
                        var planes = refined.planes
                        if let warp { Self.warpFrontPlane(&planes, warp: warp) }
                        return style.synthesize(styles: styles, camera: cam, planes: planes)
                    }
                    return style.synthesize(styles: styles, camera: cam, editPlanes: refined == nil && warp == nil ? nil : { planes in
                        if let refined { for k in 0..<planes.count { planes.data[k] += refined.offsets.data[k] } }
                        if let warp { Self.warpFrontPlane(&planes, warp: warp) }
                    })
                }
                for (stage, s) in out.timings { stages["  " + stage, default: 0] += s }
                let raw = onFrame == nil ? nil : try track.frame(i)
                // Frames in flight: the rest of this frame (picture, composite, observers, video) runs behind,
                // while the loop goes on to the next frame's generator. It keeps only the pictures, not the
                // generator's tri-planes and other intermediates (25 MB a frame at full size).
                let (image, depth) = (out.image, out.imageDepth)
                try behind.submit {
                    let avatar = rgbImage(image)
                    let frame: RGBImage = behindTimed("composite") {
                        switch self.settings.layout {
                        case .avatar: return avatar
                        case .sideBySide, .pasteBack:
                            let img = sourceImage!
                            let quad = Self.quad(smoothed.quad)
                            if self.settings.layout == .pasteBack {
                                let lm = Self.points(smoothed.landmarks)
                                return PasteBack().composite(frame: img, rendered: avatar, quad: quad, landmarks: lm)
                            }
                            let crop = AlignedCrop.crop(img, transform: quad.transform, size: res)
                            return Self.sideBySide(crop, avatar)
                        }
                    }
                    if let onFrame = self.onFrame, let raw {
                        try onFrame(RenderedFrame(index: i, seconds: t, raw: raw, smoothed: smoothed,
                                                  camera: cam, avatar: avatar, source: sourceImage))
                    }
                    if let p = continuity.previous { continuity.jitter += Self.meanAbsDifference(p, frame.pixels) }
                    continuity.previous = frame.pixels
                    // A segment file starts at 0 of its own; join stamps the clip's times again.
                    let vf = VideoFrame(width: outW, height: outH, rgb: frame.pixels, pts: smoothed.pts - segmentPts,
                                        timeBase: track.source.timeBase, index: i)
                    try behindTimed("video encode") { try writer.write(vf) }
                    if let dw = depthWriter {
                        let r = depth.shape[1]
                        let grey = Self.depthPicture(depth, near: style.options.rendering.rayStart, far: style.options.rendering.rayEnd)
                        try dw.write(VideoFrame(width: r, height: r, rgb: grey, pts: vf.pts, timeBase: vf.timeBase, index: i))
                    }
                }
                if progress?(i + 1 - frames.lowerBound, frames.count) == false { throw PipelineError.cancelled(output: output.path) }
            }
            try timed("frames in flight") { try behind.finish() }
            for (k, v) in behindStages { stages[k, default: 0] += v }
            try timed("video encode") { try writer.finish() }
            try depthWriter?.finish()
            let order = ["load generators", "smoothing", "edits", "styles", "refinement", "generator", "  styles", "  backbone", "  rendering", "  superresolution",
                         "frames in flight", "composite", "video encode"]
            return RenderReport(frames: frames.count, width: writer.width, height: writer.height, smoothing: smoother.report,
                                frameJitter: frames.count > 1 ? continuity.jitter / Double(frames.count - 1) : 0,
                                stageSeconds: order.compactMap { k in stages[k].map { (k, $0) } }, notes: writer.notes)
        } catch {
            behind.cancel()
            writer.cancel()
            depthWriter?.cancel()
            throw error
        }
    }

    /// TriPlaneNet's refinement of one frame: the frame's aligned crop and its unedited (smoothed) code at its own
    /// estimated camera go through the tri-plane encoder (TriPlaneNetInversion). The offsets (what refinement adds to
    /// the backbone's planes), added to the planes of the edited code, keep the person's detail through edits and any camera.
    static func refine(_ r: any PlaneRefinement, frame: RGBImage, smoothed: TrackFrame, numWs: Int, wDim: Int,
                       preprocessing pre: EncoderPreprocessing) throws -> (planes: Tensor, offsets: Tensor) {
        let crop = AlignedCrop.crop(frame, transform: quad(smoothed.quad).transform, size: pre.cropSide(for: r.imageSide))
        let styles = r.generator.styles(ws: Tensor(shape: [numWs, wDim], data: smoothed.code))
        return try r.refine(crop: pre.input(crop.pixels, from: crop.width, side: r.imageSide), styles: styles, camera: smoothed.camera)
    }

    /// The previous output frame and the summed frame-to-frame difference (the report's jitter figure).
    final class Continuity {
        var previous: [UInt8]?
        var jitter = 0.0
    }

    /// The final video's encoder settings: the source's frame rate, time base and audio.
    func writerOptions(_ track: LatentTrack, source: URL) -> VideoWriter.Options {
        var o = VideoWriter.Options()
        o.crf = settings.crf; o.preset = settings.preset
        o.frameRate = track.source.frameRate; o.timeBase = track.source.timeBase
        if settings.keepAudio { o.audio = .init(url: source, start: track.source.start, duration: track.source.duration) }
        return o
    }

    /// Puts segments rendered with `render(…, segment:)` together, in order, into the final video with the
    /// source's timing and audio: the same frames, timestamps and encoder settings as a whole-clip render,
    /// so the same bytes. Returns the number of frames.
    @discardableResult
    public func join(segments: [URL], track: LatentTrack, source: URL, output: URL, logger: Logger) throws -> Int {
        guard let first = segments.first else { throw RenderError.segmentsDoNotMatch(output.path, reason: "no segments") }
        try checkOutputPath(output, input: source)
        let probe = try VideoReader(url: first)
        let writer = try VideoWriter(url: output, width: probe.width, height: probe.height,
                                     options: writerOptions(track, source: source), logger: logger)
        do {
            var i = 0
            let firstPts = try track.pts(0)
            for url in segments {
                let reader = try VideoReader(url: url)
                while let f = try reader.nextFrame() {
                    guard i < track.count else {
                        throw RenderError.segmentsDoNotMatch(output.path, reason: "more frames than the track's \(track.count)")
                    }
                    try writer.write(VideoFrame(width: f.width, height: f.height, rgb: f.rgb, pts: try track.pts(i) - firstPts,
                                                timeBase: track.source.timeBase, index: i))
                    i += 1
                }
            }
            guard i == track.count else {
                throw RenderError.segmentsDoNotMatch(output.path, reason: "\(i) frames for a track of \(track.count)")
            }
            try writer.finish()
            return i
        } catch {
            writer.cancel()
            throw error
        }
    }

    /// Indices (in the style generator's S space) of the early backbone layers whose styles carry geometry:
    /// blocks up to 32² (3DAvatarGAN, Abdal et al. 2023: Δs is learned on the early layers).
    static func earlyLayerIndices(_ g: TriPlaneGenerator) -> [Int] {
        let s = g.styles(ws: Tensor(zeros: [g.architecture.numWs, g.architecture.wDim]))
        return s.names.indices.filter { i in ["b4.", "b8.", "b16.", "b32."].contains { s.names[i].contains("backbone.synthesis.\($0)") } }
    }

    /// (layer index, channel, std of that channel over sampled w, value) for each StyleSpace edit.
    func resolveStyleEdits(_ g: TriPlaneGenerator) throws -> [(Int, Int, Float, EditValue)] {
        guard !settings.styleEdits.isEmpty else { return [] }
        let stats = StyleStatistics.sample(g, samples: 64)
        return try settings.styleEdits.map { e in
            let names = stats.names
            let k: Int
            if let idx = Int(e.layer), idx >= 0, idx < names.count { k = idx }
            else if let idx = names.firstIndex(where: { $0 == e.layer || $0.hasSuffix("." + e.layer) }) { k = idx }
            else { throw RenderError.badStyleLayer(e.layer, known: names.map { $0.replacingOccurrences(of: "backbone.synthesis.", with: "") }) }
            guard e.channel < stats.std[k].count else {
                throw RenderError.channelOutOfRange(layer: names[k], channel: e.channel, count: stats.std[k].count)
            }
            return (k, e.channel, stats.std[k][e.channel], e.value)
        }
    }

    /// The rendering camera at `t` seconds into a clip of `clipSeconds`, given the frame's smoothed camera.
    func camera(following source: [Float], seconds t: Double, clipSeconds: Double) -> [Float] {
        let defaults = models.styleBundle.manifest.camera
        switch settings.camera {
        case .frontal:
            return defaults.camera(yaw: 0, pitch: 0).vector
        case .fixed(let yaw, let pitch):
            return defaults.camera(yaw: yaw, pitch: pitch).vector
        case .orbit(let seconds):
            let period = seconds ?? max(clipSeconds, 1e-3)
            let phase = 2 * Double.pi * t / period
            return defaults.camera(yaw: CameraMode.yawLimit * sin(phase), pitch: 0.1 * CameraMode.pitchLimit * cos(phase)).vector
        case .follow:
            let (yaw, pitch) = Self.yawPitch(source)
            return defaults.camera(yaw: min(max(yaw, -CameraMode.yawLimit), CameraMode.yawLimit),
                                   pitch: min(max(pitch, -CameraMode.pitchLimit), CameraMode.pitchLimit)).vector
        }
    }

    /// Yaw and pitch (radians from frontal) of a camera placed by EG3D's LookAtPoseSampler, which puts it on
    /// a sphere about the world origin (looking at the pivot): θ = π/2 + yaw, v = π/2 + pitch, φ = arccos(1 − 2v/π).
    static func yawPitch(_ c: [Float]) -> (Double, Double) {
        let x = Double(c[3]), y = Double(c[7]), z = Double(c[11])
        let r = (x * x + y * y + z * z).squareRoot()
        guard r > 0 else { return (0, 0) }
        let phi = acos(max(-1, min(1, y / r)))
        let theta = Double.pi - atan2(z, x)
        let v = Double.pi * (1 - cos(phi)) / 2
        return (theta - Double.pi / 2, v - Double.pi / 2)
    }

    static func quad(_ corners: [Float]) -> AlignmentQuad {
        let q = corners.map(Double.init)
        let c = [Point2(x: q[0], y: q[1]), Point2(x: q[2], y: q[3]), Point2(x: q[4], y: q[5]), Point2(x: q[6], y: q[7])]
        // corners = [c − x − y, c − x + y, c + x + y, c + x − y]
        let center = Point2(x: (c[0].x + c[2].x) / 2, y: (c[0].y + c[2].y) / 2)
        let x = Point2(x: (c[3].x - c[0].x) / 2, y: (c[3].y - c[0].y) / 2)
        let y = Point2(x: (c[1].x - c[0].x) / 2, y: (c[1].y - c[0].y) / 2)
        return AlignmentQuad(center: center, x: x, y: y)
    }

    static func points(_ a: [Float]) -> [Point2] {
        return stride(from: 0, to: a.count, by: 2).map { Point2(x: Double(a[$0]), y: Double(a[$0 + 1])) }
    }

    static func sideBySide(_ a: RGBImage, _ b: RGBImage) -> RGBImage {
        var px = [UInt8](repeating: 0, count: (a.width + b.width) * a.height * 3)
        let w = a.width + b.width
        for y in 0..<a.height {
            px.replaceSubrange((y * w * 3)..<((y * w + a.width) * 3), with: a.pixels[(y * a.width * 3)..<((y + 1) * a.width * 3)])
            px.replaceSubrange(((y * w + a.width) * 3)..<((y + 1) * w * 3), with: b.pixels[(y * b.width * 3)..<((y + 1) * b.width * 3)])
        }
        return RGBImage(width: w, height: a.height, pixels: px)
    }

    static func warpFrontPlane(_ planes: inout Tensor, warp: PlaneWarp) {
        let c = planes.shape[0] / 3, hw = warp.width * warp.height
        var front = [Float](repeating: 0, count: c * hw)
        planes.data.withUnsafeBufferPointer { p in
            front.withUnsafeMutableBufferPointer { f in warp.apply(p.baseAddress!, channels: c, into: f.baseAddress!) }
        }
        planes.data.replaceSubrange(0..<(c * hw), with: front)
    }

    /// Depth as grey: near (ray start) white, far (ray end) black, fixed range so frames compare.
    static func depthPicture(_ d: Tensor, near: Float, far: Float) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: d.count * 3)
        for i in 0..<d.count {
            let v = UInt8(max(0, min(255, ((far - d.data[i]) / (far - near) * 255).rounded())))
            out[i * 3] = v; out[i * 3 + 1] = v; out[i * 3 + 2] = v
        }
        return out
    }

    static func meanAbsDifference(_ a: [UInt8], _ b: [UInt8]) -> Double {
        var s = 0
        for i in 0..<min(a.count, b.count) { s += abs(Int(a[i]) - Int(b[i])) }
        return Double(s) / Double(max(1, a.count)) / 255
    }
}

/// Per-channel standard deviation of every S-space layer over styles of random w (from random z through
/// the mapping network with the frontal camera), the unit of StyleSpace edits.
public struct StyleStatistics: Sendable {
    public var names: [String]
    public var std: [[Float]]

    public static func sample(_ g: TriPlaneGenerator, samples: Int, seed: UInt64 = 0x5EED) -> StyleStatistics {
        var rng = SplitMix64(seed: seed)
        let frontal = GeneratorCamera.lookAt().vector
        var sum: [[Double]] = [], sq: [[Double]] = []
        var names: [String] = []
        for _ in 0..<samples {
            let z = (0..<g.architecture.zDim).map { _ in rng.gaussian() }
            let s = g.styles(ws: g.map(z: z, camera: frontal, psi: 1, cutoff: nil))
            if sum.isEmpty { names = s.names; sum = s.values.map { [Double](repeating: 0, count: $0.count) }; sq = sum }
            for k in 0..<s.values.count { for j in 0..<s.values[k].count {
                let v = Double(s.values[k][j]); sum[k][j] += v; sq[k][j] += v * v
            } }
        }
        let n = Double(samples)
        let std = zip(sum, sq).map { s, q in zip(s, q).map { Float(max(0, $1 / n - ($0 / n) * ($0 / n)).squareRoot()) } }
        return StyleStatistics(names: names, std: std)
    }
}
