import Faces
import Foundation
import Pipeline
import Video

/// Watches a render frame by frame (`AvatarRenderer.onFrame`) and gathers what the clip report shows. Memory
/// stays small in the clip's length: a handful of numbers per frame and at most `2 × moments` small pictures.
public final class ClipReportRecorder {
    public let numWs: Int
    public let settings: RenderSettings
    /// The long side of the contact sheet's pictures, in pixels.
    public let pictureSize: Int
    public let momentCount: Int

    private var times: [Double] = []
    private var pose = ClipReport.Pose()
    private var faces = ClipReport.FaceTimeline()
    private var previousRaw: [Float]?
    private var previousSmoothed: [Float]?
    private var groupJitter: [(before: Double, after: Double)]
    private var pairs = 0
    private var candidates: [Candidate] = []
    private var candidateStride = 1

    private struct Candidate {
        var index: Int
        var seconds: Double
        var source: RGBImage?
        var crop: RGBImage?
        var avatar: RGBImage
    }

    public init(numWs: Int, settings: RenderSettings, pictureSize: Int = 160, moments: Int = 8) {
        self.numWs = max(1, numWs); self.settings = settings; self.pictureSize = pictureSize; self.momentCount = moments
        groupJitter = Array(repeating: (0, 0), count: Self.layerGroups(numWs: max(1, numWs)).count)
    }

    /// Whether the renderer must read source frames for the contact sheet.
    public var needsSource: Bool { true }

    /// The StyleGAN convention for W+ layers: coarse (pose, face shape) 0–3, middle (features) 4–7, fine
    /// (colour, texture) 8 on (Karras et al. 2019, §3.1, "Style mixing"); groups a smaller model lacks are left out.
    public static func layerGroups(numWs: Int) -> [(name: String, layers: Range<Int>)] {
        [("coarse", 0..<4), ("middle", 4..<8), ("fine", 8..<max(8, numWs))]
            .map { ($0.0, $0.1.clamped(to: 0..<numWs)) }
            .filter { !$0.1.isEmpty }
    }

    public func observe(_ frame: RenderedFrame) throws {
        times.append(frame.seconds)
        let raw = FrameGeometry.yawPitch(camera: frame.raw.camera)
        let smoothed = FrameGeometry.yawPitch(camera: frame.smoothed.camera)
        let used = FrameGeometry.yawPitch(camera: frame.camera)
        pose.rawYaw.append(raw.yaw); pose.rawPitch.append(raw.pitch)
        pose.rawRoll.append(FrameGeometry.roll(quadCorners: frame.raw.quad))
        pose.smoothedYaw.append(smoothed.yaw); pose.smoothedPitch.append(smoothed.pitch)
        pose.smoothedRoll.append(FrameGeometry.roll(quadCorners: frame.smoothed.quad))
        pose.cameraYaw.append(used.yaw); pose.cameraPitch.append(used.pitch)
        faces.found.append(frame.raw.faceFound)

        let wDim = frame.raw.code.count / numWs
        if let pr = previousRaw, let ps = previousSmoothed, wDim > 0 {
            pairs += 1
            for (g, group) in Self.layerGroups(numWs: numWs).enumerated() {
                let columns = (group.layers.lowerBound * wDim)..<(group.layers.upperBound * wDim)
                groupJitter[g].before += Self.distance(pr[columns], frame.raw.code[columns])
                groupJitter[g].after += Self.distance(ps[columns], frame.smoothed.code[columns])
            }
        }
        previousRaw = frame.raw.code; previousSmoothed = frame.smoothed.code

        // Candidates for the contact sheet at every `candidateStride`-th frame; when they fill up the stride
        // doubles and every other one goes, so they stay spread evenly over however long the clip turns out.
        if frame.index % candidateStride == 0 { candidates.append(candidate(frame)) }
        if candidates.count >= 2 * momentCount {
            candidateStride *= 2
            candidates = candidates.filter { $0.index % candidateStride == 0 }
        }
    }

    private func candidate(_ frame: RenderedFrame) -> Candidate {
        let crop = frame.source.map { src in
            AlignedCrop.crop(src, transform: FrameGeometry.quad(frame.smoothed.quad).transform, size: pictureSize)
        }
        return Candidate(index: frame.index, seconds: frame.seconds, source: frame.source.map { Picture.fit($0, within: pictureSize) },
                         crop: crop, avatar: Picture.fit(frame.avatar, within: pictureSize))
    }

    /// The report for the frames observed. `encode` is nil when the run started from a kept track.
    public func report(input: URL?, output: URL, encode: EncodeReport?, render: RenderReport, seconds: Double,
                       identity: ClipReport.IdentityFigure? = nil) throws -> ClipReport {
        var stages: [ClipReport.StageTime] = []
        for (pass, list) in [("encode", encode?.stageSeconds ?? []), ("render", render.stageSeconds)] {
            for (name, s) in list {
                let depth = name.hasPrefix(" ") ? 1 : 0
                stages.append(.init(pass: pass, name: name.trimmingCharacters(in: .whitespaces), seconds: s, depth: depth))
            }
        }
        let n = Double(max(pairs, 1))
        let jitter = Self.layerGroups(numWs: numWs).enumerated().map { g, group in
            ClipReport.LayerGroupJitter(name: group.name, firstLayer: group.layers.lowerBound, lastLayer: group.layers.upperBound - 1,
                                        before: groupJitter[g].before / n, after: groupJitter[g].after / n)
        }
        return ClipReport(
            title: output.lastPathComponent, input: input?.path, output: output.path, created: Date(),
            frames: times.count, width: render.width, height: render.height, settings: describe(settings),
            times: times, pose: pose, jitter: jitter, faces: faces, stages: stages, totalSeconds: seconds,
            moments: try chosenMoments(), edits: editCurves(), identity: identity, notes: render.notes)
    }

    /// `momentCount` candidates spread evenly over those kept, first and last included.
    private func chosenMoments() throws -> [ClipReport.Moment] {
        guard !candidates.isEmpty else { return [] }
        let k = min(momentCount, candidates.count)
        let picks = k == 1 ? [0] : (0..<k).map { Int((Double($0) * Double(candidates.count - 1) / Double(k - 1)).rounded()) }
        return try picks.map { i in
            let c = candidates[i]
            return ClipReport.Moment(index: c.index, seconds: c.seconds, source: try c.source.map(Picture.dataURL),
                                     crop: try c.crop.map(Picture.dataURL), avatar: try Picture.dataURL(c.avatar))
        }
    }

    /// Edit strengths evaluated per frame exactly as the renderer evaluates them.
    private func editCurves() -> [ClipReport.EditCurve] {
        let rate = times.count > 1 && times[times.count - 1] > times[0] ? Double(times.count - 1) / (times[times.count - 1] - times[0]) : 25
        func curve(_ name: String, _ v: EditValue) -> ClipReport.EditCurve {
            ClipReport.EditCurve(name: name, values: times.enumerated().map { v.value(frame: $0.offset, seconds: $0.element, frameRate: rate) },
                                 keyframes: Self.describe(v))
        }
        var out = settings.edits.map { curve($0.name, $0.value) }
        out += settings.styleEdits.map { curve("\($0.layer):\($0.channel)", $0.value) }
        if let g = settings.geometry { out.append(curve("geometry α", g)) }
        return out
    }

    static func describe(_ v: EditValue) -> String {
        v.keys.map { key in
            switch key.time {
            case .frame(let f): return "\(f):\(key.value)"
            case .seconds(let s): return "\(s)s:\(key.value)"
            }
        }.joined(separator: ",")
    }

    private func describe(_ s: RenderSettings) -> [ClipReport.Setting] {
        let camera: String
        switch s.camera {
        case .follow: camera = "follow (smoothed head pose, clamped to yaw ±\(CameraMode.yawLimit), pitch ±\(CameraMode.pitchLimit))"
        case .frontal: camera = "frontal"
        case .orbit(let secs): camera = "orbit" + (secs.map { " over \($0) s" } ?? " over the clip")
        case let .fixed(yaw, pitch): camera = "fixed yaw \(yaw), pitch \(pitch)"
        }
        var out = [
            ClipReport.Setting(name: "camera", value: camera),
            ClipReport.Setting(name: "layout", value: s.layout.rawValue),
            ClipReport.Setting(name: "code smoothing", value: s.smoothing.codes.map { "\($0)" }.joined(separator: ", ")),
            ClipReport.Setting(name: "camera smoothing", value: "\(s.smoothing.cameras)"),
        ]
        if s.planeWarp != nil { out.append(.init(name: "plane warp", value: "thin-plate spline")) }
        return out
    }

    static func distance(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
        var s = 0.0
        for (x, y) in zip(a, b) { let d = Double(x) - Double(y); s += d * d }
        return s.squareRoot()
    }
}
