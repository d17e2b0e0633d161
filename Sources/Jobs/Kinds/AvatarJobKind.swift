import Faces
import Foundation
import Logging
import Models
import Pipeline
import Reports
import Video

/// The avatar pipeline as a job: Pipeline's `runAvatar` (encode the clip, or reuse its cached latent track, then
/// render it with the job's style, smoothing, camera and layout). Models come from the worker's environment
/// (AVATARIZE_MODEL / AVATARIZE_ENCODER, else the built-in demo family), so every job in a batch uses the same ones
/// and tracks can be shared between jobs.
public struct AvatarJobKind: JobKind {
    public let name = "avatar"
    public let supportedSettings: Set<String> = ["style", "smoothing", "camera", "layout"]
    let sourceModel: String?
    let encoderModel: String?
    let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        sourceModel = environment["AVATARIZE_MODEL"]
        encoderModel = environment["AVATARIZE_ENCODER"]
    }

    /// The models' content, not their paths, is part of the idempotency key: new weights at the same path mean new
    /// results. SHA-256 of the source generator's and the encoder's weights (the demo family is named by its
    /// version, since its weights are made from fixed seeds). Unreadable models leave their path, and the worker
    /// then fails the job as a model problem.
    public var identity: String {
        guard let sourceModel else { return "avatar/2 \(DemoModelFamily.version)" }
        return "avatar/2 " + [Self.weightsDigest(bundle: sourceModel), Self.weightsDigest(encoder: encoderModel ?? "")]
            .joined(separator: " ")
    }

    static func weightsDigest(bundle path: String) -> String {
        guard let bundle = try? ModelBundle.open(URL(fileURLWithPath: path)) else { return "unreadable:\(path)" }
        return Self.digest(bundle.weightsURL)
    }

    static func weightsDigest(encoder path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return Self.digest(url.pathExtension == "safetensors" ? url : url.appendingPathComponent("weights.safetensors"))
    }

    /// Digests by path, size and modification time, so that a batch of many entries hashes each file once.
    private static let digests = Locked<[String: String]>([:])

    static func digest(_ url: URL) -> String {
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        let stamp = "\(url.path)|\((attributes?[.size] as? NSNumber)?.int64Value ?? -1)|\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
        if let known = digests.value[stamp] { return known }
        guard let hash = try? contentHash(of: url) else { return "unreadable:\(url.path)" }
        digests.mutate { $0[stamp] = hash }
        return hash
    }

    /// Where finished jobs leave latent tracks for others on the same clip: the jobs' own cache, apart from the
    /// demo models (AVATARIZE_JOB_CACHE, else `jobs/tracks` in the avatarize cache folder).
    public static func trackCacheFolder(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        trackCache(environment: environment)
    }

    /// Where jobs keep tracks and segment pieces: `explicit` (`--work-dir`), else AVATARIZE_WORK_DIR, else this machine's
    /// jobs cache (`trackCacheFolder`). A work folder shared by every worker is what lets machines share the pieces.
    public static func workFolder(explicit: String? = nil,
                                  environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        for candidate in [explicit, environment["AVATARIZE_WORK_DIR"]] {
            if let candidate, !candidate.isEmpty { return URL(fileURLWithPath: candidate).standardizedFileURL }
        }
        return trackCache(environment: environment)
    }

    static func trackCache(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let explicit = environment["AVATARIZE_JOB_CACHE"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit).appendingPathComponent("tracks")
        }
        // The avatarize cache folder (AVATARIZE_CACHE, XDG_CACHE_HOME/avatarize or ~/.cache/avatarize), beside
        // the demo models' versioned folder rather than in it.
        let base = DemoModelFamily.cacheDirectory(environment: environment).deletingLastPathComponent()
        return base.appendingPathComponent("jobs/tracks")
    }

    public func resolve(_ settings: JobSettings, relativeTo base: URL) throws(SettingsProblems) -> ResolvedSettings {
        var problems: [(field: String, message: String)] = []
        do {
            _ = try renderSettings(settings)
        } catch {
            if case let .badSetting(field, _) = error { problems.append((field, error.description)) }
        }
        var resolved = ResolvedSettings()
        let style = settings.style
        let bundle = JobPlanner.resolve(style, against: base)
        if style == "source" {
            resolved.identity = "style=source"
        } else if FileManager.default.fileExists(atPath: bundle.path) {
            // A bundle beside the job file wins over a built-in style of the same name, as it would on the command line.
            do {
                let opened = try ModelBundle.open(bundle)
                resolved.styleBundle = bundle.path
                resolved.identity = "style=" + Self.digest(opened.weightsURL)
            } catch {
                problems.append(("style", "\(error)"))
            }
        } else if sourceModel == nil, DemoModelFamily.styles.contains(style) {
            resolved.identity = "style=\(DemoModelFamily.version)/\(style)"
        } else {
            let builtIn = sourceModel == nil ? " nor a built-in style (\(DemoModelFamily.styles.joined(separator: ", ")))" : ""
            problems.append(("style", "'\(style)' is neither a style bundle at \(bundle.path)\(builtIn)"))
        }
        guard problems.isEmpty else { throw SettingsProblems(problems) }
        return resolved
    }

    /// Outside a worker: a whole clip only, its track kept in this machine's jobs cache. A segment job needs the
    /// worker's `PieceMaker`, since its pieces are made once through the queue.
    public func run(_ payload: JobPayload, output: URL, progress: @escaping @Sendable (JobProgress) -> Void) async throws -> JobOutcome {
        let kind = self
        return try await runOnOwnThread(named: "avatarize-avatar-job") { cancellation in
            try kind.runSynchronously(payload, output: output, pieces: nil, progress: progress, cancellation: cancellation)
        }
    }

    public func run(_ payload: JobPayload, output: URL, pieces: PieceMaker,
                    progress: @escaping @Sendable (JobProgress) -> Void) async throws -> JobOutcome {
        let kind = self
        return try await runOnOwnThread(named: "avatarize-avatar-job") { cancellation in
            try kind.runSynchronously(payload, output: output, pieces: pieces, progress: progress, cancellation: cancellation)
        }
    }

    /// Tracks (and a segmented clip's pieces) go to the pieces' work folder, else to this machine's jobs cache.
    func runSynchronously(_ payload: JobPayload, output: URL, pieces: PieceMaker?, progress: @escaping @Sendable (JobProgress) -> Void,
                          cancellation: CancellationFlag) throws -> JobOutcome {
        let logger = Logger(label: "avatarize.jobs.avatar")
        let input = URL(fileURLWithPath: payload.input)
        let settings = try renderSettings(payload.settings)
        let style = payload.styleBundle ?? (payload.settings.style == "source" ? sourceModel : payload.settings.style)
        let models = try AvatarModels.load(.init(source: sourceModel.map { URL(fileURLWithPath: $0) },
                                                 encoder: encoderModel.map { URL(fileURLWithPath: $0) },
                                                 style: style),
                                           logger: logger)
        // Reuse a track another job made from the same bytes with the same models.
        let hash = try contentHash(of: input)
        let key = InputFingerprint.sha256(of: models.trackIdentity + "\n" + hash)
        let folder = pieces?.folder ?? Self.trackCache(environment: environment)
        let cached = folder.appendingPathComponent("\(hash.prefix(16))-\(key.prefix(16)).track")
        try FileManager.default.createDirectory(at: cached.deletingLastPathComponent(), withIntermediateDirectories: true)
        if let segment = payload.segment {
            guard let pieces else { throw JobRunError.segmentOutsideWorker(payload.output) }
            let clip = SegmentedClip(input: input, clipDigest: hash, trackKey: key,
                                     renderKey: try SegmentedClip.renderKey(trackKey: key, styleDigest: Self.digest(models.styleBundle.weightsURL),
                                                                            settings: payload.settings, segment: segment))
            return try runSegmented(segment, clip: clip, output: output, finalOutput: URL(fileURLWithPath: payload.output), models: models,
                                    settings: settings, pieces: pieces, logger: logger, progress: progress, cancellation: cancellation)
        }
        // The identity figure goes to the job's log, its record and its report; the models being absent only costs
        // the figure.
        let identity = try? IdentityFigure(paths: FaceModelPaths())
        // Every avatar job leaves NAME.report.html beside its output; the dashboard links it from the job's page.
        let recorder = ClipReportRecorder(numWs: models.styleArchitecture.numWs, settings: settings,
                                                 precision: models.precision.rawValue)
        // Encoding and rendering each count for half of the progress.
        let run = try runAvatar(input: input, output: output, models: models, encoder: ClipEncoder(), settings: settings,
                                keepTrack: cached, reuseKeptTrack: { Self.validTrack(at: $0, input: input, models: models) },
                                identity: identity, logger: logger, onFrame: { try recorder.observe($0) },
                                observerNeedsSource: recorder.needsSource) { stage, done, total in
            let total = total ?? 0
            progress(stage == "render" ? JobProgress(done: total / 2 + done / 2, total: total) : JobProgress(done: done / 2, total: total))
            return !cancellation.isSet
        }
        if let identity { logger.info("\(output.lastPathComponent): \(identity.summary.line)") }
        let final = URL(fileURLWithPath: payload.output)
        try ReportPage.write(try recorder.report(input: input, output: final, encode: run.encode, render: run.render,
                                                 seconds: run.seconds, identity: identity.map(ClipReport.Identity.init)),
                             to: ReportLocation.forOutput(payload.output))
        return JobOutcome(identity: identity?.summary, precision: models.precision.rawValue)
    }

    /// The job file's settings entry as render settings; values are the same forms as the command line's.
    func renderSettings(_ s: JobSettings) throws(AvatarJobError) -> Pipeline.RenderSettings {
        var out = Pipeline.RenderSettings()
        if let f = s.smoothing {
            guard let filter = TemporalFilter(spec: f) else { throw AvatarJobError.badSetting("smoothing", f) }
            out.smoothing.codes = [filter]
        }
        if let c = s.camera {
            guard let mode = c == "source" ? .follow : CameraMode(argument: c) else { throw AvatarJobError.badSetting("camera", c) }
            out.camera = mode
        }
        if let l = s.layout {
            guard let layout = Layout(rawValue: l) else { throw AvatarJobError.badSetting("layout", l) }
            out.layout = layout
        }
        return out
    }
}

public enum AvatarJobError: Error, CustomStringConvertible {
    case badSetting(String, String)
    public var description: String {
        switch self {
        case let .badSetting(field, value): return "settings.\(field): '\(value)' is not a valid value"
        }
    }
}
