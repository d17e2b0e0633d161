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
    private var firstRaw: [Float]?
    private var firstSmoothed: [Float]?
    private let precision: String?
    private var previousRaw: [Float]?
    private var previousSmoothed: [Float]?
    private var groupJitter: [(before: Double, after: Double)]
    private var pairs = 0
    /// Contact sheet candidates, their pictures already PNG data URLs (a handful of small pictures, and a part of
    /// a segmented clip carries them as they are).
    private var candidates: [ClipReport.Moment] = []
    private var candidateStride = 1

    /// - precision: the networks' arithmetic (fp32, bf16), shown with the settings so a report says what made the video.
    public init(numWs: Int, settings: RenderSettings, precision: String? = nil, pictureSize: Int = 160, moments: Int = 8) {
        self.numWs = max(1, numWs); self.settings = settings; self.precision = precision
        self.pictureSize = pictureSize; self.momentCount = moments
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
        if firstRaw == nil { firstRaw = frame.raw.code; firstSmoothed = frame.smoothed.code }
        previousRaw = frame.raw.code; previousSmoothed = frame.smoothed.code

        // Candidates for the contact sheet at every `candidateStride`-th frame; when they fill up the stride
        // doubles and every other one goes, so they stay spread evenly over however long the clip turns out.
        if frame.index % candidateStride == 0 { candidates.append(try candidate(frame)) }
        thinCandidates()
    }

    private func thinCandidates() {
        while candidates.count >= 2 * momentCount {
            candidateStride *= 2
            candidates = candidates.filter { $0.index % candidateStride == 0 }
        }
    }

    private func candidate(_ frame: RenderedFrame) throws -> ClipReport.Moment {
        let crop = frame.source.map { src in
            AlignedCrop.crop(src, transform: FrameGeometry.quad(frame.smoothed.quad).transform, size: pictureSize)
        }
        return ClipReport.Moment(index: frame.index, seconds: frame.seconds,
                                 source: try frame.source.map { try Picture.dataURL(Picture.fit($0, within: pictureSize)) },
                                 crop: try crop.map(Picture.dataURL), avatar: try Picture.dataURL(Picture.fit(frame.avatar, within: pictureSize)))
    }

    /// The report for the frames observed. `encode` is nil when the run started from a kept track.
    public func report(input: URL?, output: URL, encode: EncodeReport?, render: RenderReport, seconds: Double,
                       identity: ClipReport.Identity? = nil) throws -> ClipReport {
        var stages = Self.stageTimes(pass: "encode", encode?.stageSeconds ?? [])
        stages += Self.stageTimes(pass: "render", render.stageSeconds)
        return assemble(input: input, output: output, width: render.width, height: render.height, stages: stages, seconds: seconds,
                        identity: identity, notes: render.notes)
    }

    static func stageTimes(pass: String, _ list: [(String, Double)]) -> [ClipReport.StageTime] {
        list.map { name, s in
            ClipReport.StageTime(pass: pass, name: name.trimmingCharacters(in: .whitespaces), seconds: s, depth: name.hasPrefix(" ") ? 1 : 0)
        }
    }

    private func assemble(input: URL?, output: URL, width: Int, height: Int, stages: [ClipReport.StageTime], seconds: Double,
                          identity: ClipReport.Identity?, notes: [String]) -> ClipReport {
        let n = Double(max(pairs, 1))
        let jitter = Self.layerGroups(numWs: numWs).enumerated().map { g, group in
            ClipReport.LayerGroupJitter(name: group.name, firstLayer: group.layers.lowerBound, lastLayer: group.layers.upperBound - 1,
                                        before: groupJitter[g].before / n, after: groupJitter[g].after / n)
        }
        return ClipReport(
            title: output.lastPathComponent, input: input?.path, output: output.path, created: Date(),
            frames: times.count, width: width, height: height, settings: describe(settings),
            times: times, pose: pose, jitter: jitter, faces: faces, stages: stages, totalSeconds: seconds,
            moments: chosenMoments(), edits: editCurves(), identity: identity, notes: notes)
    }

    /// `momentCount` candidates spread evenly over those kept, first and last included.
    private func chosenMoments() -> [ClipReport.Moment] {
        guard !candidates.isEmpty else { return [] }
        let k = min(momentCount, candidates.count)
        let picks = k == 1 ? [0] : (0..<k).map { Int((Double($0) * Double(candidates.count - 1) / Double(k - 1)).rounded()) }
        return picks.map { candidates[$0] }
    }

    // MARK: - A clip rendered in segments

    /// What a recorder gathered over one segment of a clip (a segment job's render), kept beside the segment's
    /// video until the job that joins the segments puts the parts together into the clip's report.
    public struct Part: Codable, Sendable {
        var times: [Double]
        var pose: ClipReport.Pose
        var found: [Bool]
        /// Sums of the per-group code distances (before, after smoothing) over `pairs` frame steps.
        var jitterSums: [[Double]]
        var pairs: Int
        /// The first and last frames' codes, for the frame steps across segment boundaries.
        var firstRaw: [Float]?, firstSmoothed: [Float]?, lastRaw: [Float]?, lastSmoothed: [Float]?
        var candidates: [ClipReport.Moment]
        var candidateStride: Int
        var width: Int, height: Int
        var stages: [ClipReport.StageTime]
        var seconds: Double
        var notes: [String]
        /// The identity figure's outcome per frame; nil when the figure was not made.
        var identity: [IdentityFigure.FrameOutcome]?
    }

    /// The frames observed as one part of a segmented clip.
    public func part(render: RenderReport, seconds: Double, identity: [IdentityFigure.FrameOutcome]?) -> Part {
        Part(times: times, pose: pose, found: faces.found, jitterSums: groupJitter.map { [$0.before, $0.after] }, pairs: pairs,
             firstRaw: firstRaw, firstSmoothed: firstSmoothed, lastRaw: previousRaw, lastSmoothed: previousSmoothed,
             candidates: candidates, candidateStride: candidateStride, width: render.width, height: render.height,
             stages: Self.stageTimes(pass: "render", render.stageSeconds), seconds: seconds, notes: render.notes, identity: identity)
    }

    /// The report of a clip whose segments were rendered apart, from their parts in order: the same numbers as a
    /// whole-clip render's report (the steps across segment boundaries included), with the stage times summed
    /// over the segments and `joinSeconds` for putting the videos together.
    public func report(joining parts: [Part], input: URL?, output: URL, joinSeconds: Double) throws -> ClipReport {
        var stageOrder: [String] = [], stageSeconds: [String: ClipReport.StageTime] = [:]
        var identity: [IdentityFigure.FrameOutcome]? = []
        for part in parts {
            times += part.times
            pose.rawYaw += part.pose.rawYaw; pose.rawPitch += part.pose.rawPitch; pose.rawRoll += part.pose.rawRoll
            pose.smoothedYaw += part.pose.smoothedYaw; pose.smoothedPitch += part.pose.smoothedPitch; pose.smoothedRoll += part.pose.smoothedRoll
            pose.cameraYaw += part.pose.cameraYaw; pose.cameraPitch += part.pose.cameraPitch
            faces.found += part.found
            let wDim = (part.firstRaw?.count ?? 0) / numWs
            if let pr = previousRaw, let ps = previousSmoothed, let fr = part.firstRaw, let fs = part.firstSmoothed, wDim > 0 {
                pairs += 1
                for (g, group) in Self.layerGroups(numWs: numWs).enumerated() {
                    let columns = (group.layers.lowerBound * wDim)..<(group.layers.upperBound * wDim)
                    groupJitter[g].before += Self.distance(pr[columns], fr[columns])
                    groupJitter[g].after += Self.distance(ps[columns], fs[columns])
                }
            }
            for (g, sums) in part.jitterSums.enumerated() where g < groupJitter.count && sums.count == 2 {
                groupJitter[g].before += sums[0]; groupJitter[g].after += sums[1]
            }
            pairs += part.pairs
            if part.lastRaw != nil { previousRaw = part.lastRaw; previousSmoothed = part.lastSmoothed }
            candidateStride = max(candidateStride, part.candidateStride)
            candidates = (candidates + part.candidates).filter { $0.index % candidateStride == 0 }
            thinCandidates()
            for stage in part.stages {
                let key = stage.pass + "/" + stage.name
                if stageSeconds[key] == nil { stageOrder.append(key); stageSeconds[key] = stage } else { stageSeconds[key]!.seconds += stage.seconds }
            }
            identity = part.identity.flatMap { outcomes in identity.map { $0 + outcomes } }
        }
        let stages = stageOrder.compactMap { stageSeconds[$0] }
            + [ClipReport.StageTime(pass: "render", name: "join segments", seconds: joinSeconds, depth: 0)]
        let notes = ["Rendered in \(parts.count) segments by separate jobs: the render's stage times are summed over the segments, "
                     + "and the encode, shared through the track cache, is not counted."]
            + parts.flatMap(\.notes)
        return assemble(input: input, output: output, width: parts.first?.width ?? 0, height: parts.first?.height ?? 0, stages: stages,
                        seconds: parts.reduce(joinSeconds) { $0 + $1.seconds }, identity: identity.map(ClipReport.Identity.init(outcomes:)),
                        notes: notes)
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
        if let precision { out.append(.init(name: "precision", value: precision)) }
        return out
    }

    static func distance(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
        var s = 0.0
        for (x, y) in zip(a, b) { let d = Double(x) - Double(y); s += d * d }
        return s.squareRoot()
    }
}
