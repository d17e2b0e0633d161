import Faces
import Foundation
import Logging
import Pipeline
import Reports
import Video

/// A clip shared by several jobs (job files' segment_seconds). Each piece of work is a file made once:
/// the face pass of the whole clip and each segment's latent track in the track cache, each segment's
/// rendered video (lossless) in the job's segment folder. A job makes its own piece first and then
/// whatever else is still missing, waiting on a piece another worker is making rather than making it
/// twice; so no job depends on another being claimed, and a crashed worker's piece is made by the next.
/// The joined video equals a whole-clip run: the face pass and smoothing always see the whole clip.
extension AvatarJobKind {
    /// `finalOutput` is where the job's output ends up (`output` may be its staged sibling); the join job writes the
    /// clip's report beside it. The outcome's identity figure is the whole clip's for the join job, and for a segment
    /// job that of its segment when it rendered the segment itself (nil when another job had rendered it).
    func runSegmented(_ segment: JobSegment, input: URL, output: URL, finalOutput: URL, models: AvatarModels,
                      settings: Pipeline.RenderSettings, cachedTrack: URL, logger: Logger,
                      progress: @escaping @Sendable (JobProgress) -> Void, cancellation: CancellationFlag) throws -> JobOutcome {
        let track = try segmentedTrack(segment, input: input, models: models, cachedTrack: cachedTrack,
                                       progress: progress, cancellation: cancellation)
        var renderer = AvatarRenderer(models: models, settings: settings)
        let folder = URL(fileURLWithPath: segment.folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func video(_ k: Int) -> URL { folder.appendingPathComponent(String(format: "part-%03d.mkv", k)) }
        // Each segment's share of the clip report, written before its video is in place, so that a segment video
        // always has its part beside it.
        func reportPart(_ k: Int) -> URL { folder.appendingPathComponent(String(format: "part-%03d.report.json", k)) }
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
            try makeOnce(video(k)) { tmp in
                let recorder = ClipReportRecorder(numWs: models.style.architecture.numWs, settings: settings)
                let identity = identityFigure()
                let seen = identity?.outcomes.count ?? 0
                renderer.onFrame = { frame in
                    try identity?.observe(frame)
                    try recorder.observe(frame)
                }
                renderer.observerNeedsSource = true
                let began = Date()
                let render = try renderer.render(track, source: input, output: tmp, segment: range, logger: logger) { done, total in
                    progress(JobProgress(done: done, total: total))
                    return !cancellation.isSet
                }
                let outcomes = identity.map { Array($0.outcomes[seen...]) }
                rendered[k] = outcomes
                let part = recorder.part(render: render, seconds: Date().timeIntervalSince(began), identity: outcomes)
                try writeAtomically(try JSONEncoder().encode(part), to: reportPart(k))
            }
            return true
        }
        if let k = segment.index {
            let made = try renderSegment(k)
            // The job's own output is a receipt; the segment itself waits in the folder for the join job.
            let receipt: [String: Any] = ["segment": k, "of": segment.count, "frames": segment.range(k, total: track.count).count,
                                          "video": made ? video(k).lastPathComponent : NSNull()]
            try JSONSerialization.data(withJSONObject: receipt, options: [.sortedKeys]).write(to: output)
            let summary = rendered[k].map(IdentityFigure.Summary.init(outcomes:))
            if let summary { logger.info("\(finalOutput.lastPathComponent), segment \(k): \(summary.line)") }
            return JobOutcome(identity: summary)
        } else {
            var made: [Int] = []
            for k in 0..<segment.count where try renderSegment(k) { made.append(k) }
            let began = Date()
            try renderer.join(segments: made.map(video), track: track, source: input, output: output, logger: logger)
            let identity = try writeJoinedReport(parts: made.map(reportPart), input: input, finalOutput: finalOutput, models: models,
                                                 settings: settings, joinSeconds: Date().timeIntervalSince(began), logger: logger)
            // The frames are in the output now; a join that fails to commit makes them again. The locks
            // only spare duplicate work (every piece is the same whoever makes it), so they can go too.
            for k in made {
                try? FileManager.default.removeItem(at: video(k))
                try? FileManager.default.removeItem(atPath: video(k).path + ".lock")
                try? FileManager.default.removeItem(at: reportPart(k))
            }
            if let identity { logger.info("\(finalOutput.lastPathComponent): \(identity.line)") }
            return JobOutcome(identity: identity)
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
        let recorder = ClipReportRecorder(numWs: models.style.architecture.numWs, settings: settings)
        let report = try recorder.report(joining: loaded, input: input, output: finalOutput, joinSeconds: joinSeconds)
        try ReportPage.write(report, to: ReportLocation.forOutput(finalOutput.path))
        return report.identity?.summary
    }

    /// The whole clip's latent track: from the cache when a job made it before, else joined from the
    /// segments' tracks, encoding the missing ones (this job's segment first).
    func segmentedTrack(_ segment: JobSegment, input: URL, models: AvatarModels, cachedTrack: URL,
                        progress: @escaping @Sendable (JobProgress) -> Void, cancellation: CancellationFlag) throws -> LatentTrack {
        if let t = Self.validTrack(at: cachedTrack, input: input, models: models) { return t }
        try FileManager.default.createDirectory(at: cachedTrack.deletingLastPathComponent(), withIntermediateDirectories: true)
        let base = cachedTrack.deletingPathExtension().path
        let encoder = ClipEncoder()
        let facesURL = URL(fileURLWithPath: base + ".faces")
        try makeOnce(facesURL) { tmp in
            _ = try encoder.facePass(input, measurements: tmp) { _, _, _ in !cancellation.isSet }
        }
        let faces = try FacePass(measurements: facesURL, smoothing: encoder.faceSmoothing)
        let total = faces.faces.count
        func partURL(_ k: Int) -> URL { URL(fileURLWithPath: base + ".segment-\(k)-of-\(segment.count)x\(segment.frames).track") }
        let first = segment.index ?? 0
        for step in 0..<segment.count {
            let k = (first + step) % segment.count
            let range = segment.range(k, total: total)
            guard !range.isEmpty else { continue }
            let url = partURL(k)
            try makeOnce(url) { tmp in
                _ = try encoder.encodePass(input, faces: faces, frames: range, models: models, to: tmp) { _, done, count in
                    progress(JobProgress(done: done, total: count ?? 0))
                    return !cancellation.isSet
                }
            }
        }
        // The segments' tracks, in order, copied frame by frame into the whole clip's.
        try makeOnce(cachedTrack) { tmp in
            let parts = try (0..<segment.count).filter { !segment.range($0, total: total).isEmpty }.map { try LatentTrack.load(from: partURL($0)) }
            let frames = parts.reduce(0) { $0 + $1.count }
            guard let first = parts.first, frames == total else {
                throw RenderError.segmentsDoNotMatch(input.path, reason: "the segments' tracks hold \(frames) of \(total) frames")
            }
            let writer = try LatentTrackWriter(url: tmp, source: first.source, model: first.model, numWs: first.numWs, wDim: first.wDim)
            for part in parts { try writer.append(contentsOf: part) }
            try writer.finish()
        }
        return try LatentTrack.load(from: cachedTrack)
    }

    /// A cached track that matches this clip and these models, if there is one.
    static func validTrack(at url: URL, input: URL, models: AvatarModels) -> LatentTrack? {
        guard let t = try? LatentTrack.load(from: url),
              (try? t.check(source: input, model: models.trackIdentity, trackPath: url.path)) != nil else { return nil }
        TrackCache.touch(url)
        return t
    }
}

/// Writes `data` to a temporary sibling and renames it into place, so that no reader sees half of it.
func writeAtomically(_ data: Data, to url: URL) throws {
    let tmp = temporarySibling(of: url)
    do {
        try data.write(to: tmp)
    } catch {
        try? FileManager.default.removeItem(at: tmp)
        throw JobRunError.cannotWrite(url.path, error.localizedDescription)
    }
    guard rename(tmp.path, url.path) == 0 else {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: tmp)
        throw JobRunError.cannotWrite(url.path, reason)
    }
}

/// Makes `target` once among processes that share its folder: the first to take its lock makes it into a
/// temporary sibling and renames that into place; the others wait for the lock and then find it made.
/// A maker that dies releases the lock with its process, and the next one makes the file.
func makeOnce(_ target: URL, _ make: (URL) throws -> Void) throws {
    let fm = FileManager.default
    if fm.fileExists(atPath: target.path) { return }
    let lockPath = target.path + ".lock"
    let fd = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw JobRunError.cannotLock(lockPath, String(cString: strerror(errno))) }
    defer { close(fd) }
    guard flock(fd, LOCK_EX) == 0 else { throw JobRunError.cannotLock(lockPath, String(cString: strerror(errno))) }
    defer { flock(fd, LOCK_UN) }
    if fm.fileExists(atPath: target.path) { return }
    let tmp = temporarySibling(of: target)
    do {
        try make(tmp)
        guard rename(tmp.path, target.path) == 0 else { throw JobRunError.cannotLock(target.path, String(cString: strerror(errno))) }
    } catch {
        try? fm.removeItem(at: tmp)
        throw error
    }
}

enum JobRunError: Error, CustomStringConvertible {
    case cannotLock(String, String)
    case cannotWrite(String, String)
    var description: String {
        switch self {
        case let .cannotLock(path, reason): return "\(path): cannot create or lock (\(reason))"
        case let .cannotWrite(path, reason): return "\(path): cannot write (\(reason))"
        }
    }
}
