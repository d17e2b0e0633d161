import Faces
import Foundation
import Logging
import Pipeline
import Reports
import Video

/// A clip shared by several jobs (job files' segment_seconds). Each piece of work is a file in the work folder made
/// once among all workers through the queue's piece ledger (`PieceMaker`): the face pass of the whole clip, each
/// segment's latent track, the whole clip's track, and each segment's rendered video (lossless) with its share of
/// the clip report. A job makes its own piece first and then whatever else is still missing, waiting on a piece
/// another worker is making rather than making it twice; so no job depends on another being claimed, and a dead
/// worker's piece is made by the next once its lease runs out. The joined video equals a whole-clip run: the face
/// pass and smoothing always see the whole clip. Pieces stay in the work folder, named by content, until the cache
/// limit evicts them (never while a queued or running job needs the clip).
extension AvatarJobKind {
    /// `finalOutput` is where the job's output ends up (`output` may be its staged sibling); the join job writes the
    /// clip's report beside it. The outcome's identity figure is the whole clip's for the join job, and for a segment
    /// job that of its segment when it rendered the segment itself (nil when another job had rendered it).
    func runSegmented(_ segment: JobSegment, clip: SegmentedClip, output: URL, finalOutput: URL, models: AvatarModels,
                      settings: Pipeline.RenderSettings, pieces: PieceMaker, logger: Logger,
                      progress: @escaping @Sendable (JobProgress) -> Void, cancellation: CancellationFlag) throws -> JobOutcome {
        let input = clip.input
        let track = try segmentedTrack(segment, clip: clip, models: models, pieces: pieces, progress: progress, cancellation: cancellation)
        var renderer = AvatarRenderer(models: models, settings: settings)
        func video(_ k: Int) -> URL { pieces.folder.appendingPathComponent(clip.segmentVideo(k, of: segment)) }
        // Each segment's share of the clip report, a companion of its video: placed before it, so that a segment
        // video always has its part beside it.
        func reportPart(_ k: Int) -> URL { pieces.folder.appendingPathComponent(clip.reportPart(k, of: segment)) }
        // The identity figure's models are read only when this job renders a segment (a join often renders none).
        var identityModels: IdentityFigure?? = nil
        func identityFigure() -> IdentityFigure? {
            if identityModels == nil { identityModels = .some(try? IdentityFigure(paths: FaceModelPaths())) }
            return identityModels ?? nil
        }
        // The identity outcomes of the segments this job rendered, by segment.
        var rendered: [Int: [IdentityFigure.FrameOutcome]] = [:]
        // Renders segment k unless it is there; false for an empty segment (the clip was shorter than planned).
        func renderSegment(_ k: Int) throws -> Bool {
            let range = segment.range(k, total: track.count)
            guard !range.isEmpty else { return false }
            _ = try pieces.piece(clip.segmentVideo(k, of: segment), companions: [clip.reportPart(k, of: segment)],
                                 cancellation: cancellation) { make in
                let recorder = ClipReportRecorder(numWs: models.styleArchitecture.numWs, settings: settings,
                                                 precision: models.precision.rawValue)
                let identity = identityFigure()
                let seen = identity?.outcomes.count ?? 0
                renderer.onFrame = { frame in
                    try identity?.observe(frame)
                    try recorder.observe(frame)
                }
                renderer.observerNeedsSource = true
                let began = Date()
                let render = try renderer.render(track, source: input, output: make.file, segment: range, logger: logger) { done, total in
                    progress(JobProgress(done: done, total: total))
                    return make.proceed()
                }
                let outcomes = identity.map { Array($0.outcomes[seen...]) }
                rendered[k] = outcomes
                let part = recorder.part(render: render, seconds: Date().timeIntervalSince(began), identity: outcomes)
                // Into the companion's temporary: placed with the video, the same way.
                do {
                    try JSONEncoder().encode(part).write(to: make.companions[0])
                } catch {
                    throw JobRunError.cannotWrite(reportPart(k).path, error.localizedDescription)
                }
            }
            return true
        }
        if let k = segment.index {
            let made = try renderSegment(k)
            // The job's own output is a receipt; the segment itself waits in the work folder for the join job.
            let receipt: [String: Any] = ["segment": k, "of": segment.count, "frames": segment.range(k, total: track.count).count,
                                          "video": made ? video(k).lastPathComponent : NSNull()]
            try JSONSerialization.data(withJSONObject: receipt, options: [.sortedKeys]).write(to: output)
            let summary = rendered[k].map(IdentityFigure.Summary.init(outcomes:))
            if let summary { logger.info("\(finalOutput.lastPathComponent), segment \(k): \(summary.line)") }
            return JobOutcome(identity: summary, precision: models.precision.rawValue)
        } else {
            var made: [Int] = []
            for k in 0..<segment.count where try renderSegment(k) { made.append(k) }
            let began = Date()
            try renderer.join(segments: made.map(video), track: track, source: input, output: output, logger: logger)
            let identity = try writeJoinedReport(parts: made.map(reportPart), input: input, finalOutput: finalOutput, models: models,
                                                 settings: settings, joinSeconds: Date().timeIntervalSince(began), logger: logger)
            if let identity { logger.info("\(finalOutput.lastPathComponent): \(identity.line)") }
            // Every segment joined here was keyed on this track, and a track's key names its precision.
            return JobOutcome(identity: identity, precision: models.precision.rawValue)
        }
    }

    /// The clip's report from its segments' parts, beside the final output as a whole-clip job leaves it, and the
    /// clip's identity figure from it. A segment rendered by an avatarize from before segment reports has no part:
    /// the job then leaves no report (nor figure) and says so in its log, rather than a report of part of the clip.
    @discardableResult
    func writeJoinedReport(parts: [URL], input: URL, finalOutput: URL, models: AvatarModels, settings: Pipeline.RenderSettings,
                           joinSeconds: Double, logger: Logger) throws -> IdentityFigure.Summary? {
        var loaded: [ClipReportRecorder.Part] = []
        for url in parts {
            guard let data = try? Data(contentsOf: url), let part = try? JSONDecoder().decode(ClipReportRecorder.Part.self, from: data) else {
                logger.warning("\(finalOutput.lastPathComponent): no clip report, the segment \(url.lastPathComponent) was rendered without its report part")
                return nil
            }
            loaded.append(part)
        }
        let recorder = ClipReportRecorder(numWs: models.styleArchitecture.numWs, settings: settings,
                                                 precision: models.precision.rawValue)
        let report = try recorder.report(joining: loaded, input: input, output: finalOutput, joinSeconds: joinSeconds)
        try ReportPage.write(report, to: ReportLocation.forOutput(finalOutput.path))
        return report.identity?.summary
    }

    /// The whole clip's latent track: from the work folder when a job made it before, else joined from the segments'
    /// tracks, encoding the missing ones (this job's segment first).
    func segmentedTrack(_ segment: JobSegment, clip: SegmentedClip, models: AvatarModels, pieces: PieceMaker,
                        progress: @escaping @Sendable (JobProgress) -> Void, cancellation: CancellationFlag) throws -> LatentTrack {
        let input = clip.input
        // A whole-clip job keeps its track here too (renamed into place whole, by the track writer).
        if let t = Self.validTrack(at: pieces.folder.appendingPathComponent(clip.track), input: input, models: models) { return t }
        let encoder = ClipEncoder()
        let facesURL = try pieces.piece(clip.faces, cancellation: cancellation) { make in
            _ = try encoder.facePass(input, measurements: make.file) { _, _, _ in make.proceed() }
        }
        let faces = try FacePass(measurements: facesURL, smoothing: encoder.faceSmoothing)
        let total = faces.faces.count
        let first = segment.index ?? 0
        var parts: [Int: URL] = [:]
        // Built for the first segment this job encodes, kept for the others, gone before rendering.
        let network = EncoderOnDemand(models)
        defer { network.release() }
        for step in 0..<segment.count {
            let k = (first + step) % segment.count
            let range = segment.range(k, total: total)
            guard !range.isEmpty else { continue }
            parts[k] = try pieces.piece(clip.segmentTrack(k, of: segment), cancellation: cancellation) { make in
                _ = try encoder.encodePass(input, faces: faces, frames: range, models: models, network: try network.network(), to: make.file) { _, done, count in
                    progress(JobProgress(done: done, total: count ?? 0))
                    return make.proceed()
                }
            }
        }
        // The segments' tracks, in order, copied frame by frame into the whole clip's.
        let whole = try pieces.piece(clip.track, cancellation: cancellation) { make in
            let loaded = try parts.keys.sorted().map { try LatentTrack.load(from: parts[$0]!) }
            let frames = loaded.reduce(0) { $0 + $1.count }
            guard let first = loaded.first, frames == total else {
                throw RenderError.segmentsDoNotMatch(input.path, reason: "the segments' tracks hold \(frames) of \(total) frames")
            }
            let writer = try LatentTrackWriter(url: make.file, source: first.source, model: first.model, numWs: first.numWs, wDim: first.wDim)
            for part in loaded {
                guard make.proceed() else { throw JobRunError.stopped(make.file.path) }
                try writer.append(contentsOf: part)
            }
            try writer.finish()
        }
        return try LatentTrack.load(from: whole)
    }

    /// A cached track that matches this clip and these models, if there is one.
    static func validTrack(at url: URL, input: URL, models: AvatarModels) -> LatentTrack? {
        guard let t = try? LatentTrack.load(from: url),
              (try? t.check(source: input, model: models.trackIdentity, trackPath: url.path)) != nil else { return nil }
        TrackCache.touch(url)
        return t
    }
}

enum JobRunError: Error, CustomStringConvertible {
    case cannotWrite(String, String)
    /// The job was stopped (cancelled, its lease lost, the worker shutting down) while it waited for a piece.
    case stopped(String)
    /// A segment job run outside a worker, which has no queue to make its pieces once through.
    case segmentOutsideWorker(String)
    var description: String {
        switch self {
        case let .cannotWrite(path, reason): return "\(path): cannot write (\(reason))"
        case let .stopped(path): return "\(path): stopped while waiting for this piece"
        case let .segmentOutsideWorker(path): return "\(path): a segment job runs only in a worker, which makes its pieces once through the queue"
        }
    }
}
