import Foundation
import Logging
import Models
import Pipeline
import Reports
import Video

/// The avatar pipeline as a job: encode the clip (or reuse its cached latent track), then render it with
/// the job's style, smoothing, camera and layout. Models come from the worker's environment
/// (AVATARIZE_MODEL / AVATARIZE_ENCODER, else the built-in demo family), so every job in a batch uses the
/// same ones and tracks can be shared between jobs.
public struct AvatarJobKind: JobKind {
    public let name = "avatar"
    public let identity: String
    public let supportedSettings: Set<String> = ["style", "smoothing", "camera", "layout"]
    let sourceModel: String?
    let encoderModel: String?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        sourceModel = environment["AVATARIZE_MODEL"]
        encoderModel = environment["AVATARIZE_ENCODER"]
        // The models are part of the idempotency key: new models mean new results.
        identity = "avatar/1 " + [sourceModel ?? DemoModelFamily.version, encoderModel ?? ""].joined(separator: " ")
    }

    /// Where finished jobs leave latent tracks for others on the same clip: beside the demo cache.
    static func trackCache() -> URL {
        DemoModelFamily.cacheDirectory().deletingLastPathComponent().appendingPathComponent("tracks")
    }

    public func run(_ payload: JobPayload, output: URL, progress: @escaping @Sendable (JobProgress) -> Void) async throws {
        let kind = self
        try await runOnOwnThread(named: "avatarize-avatar-job") { cancellation in
            try kind.runSynchronously(payload, output: output, progress: progress, cancellation: cancellation)
        }
    }

    func runSynchronously(_ payload: JobPayload, output: URL, progress: @escaping @Sendable (JobProgress) -> Void,
                          cancellation: CancellationFlag) throws {
        let logger = Logger(label: "avatarize.jobs.avatar")
        let input = URL(fileURLWithPath: payload.input)
        let settings = try renderSettings(payload.settings)
        let models = try AvatarModels.load(.init(source: sourceModel.map { URL(fileURLWithPath: $0) },
                                                 encoder: encoderModel.map { URL(fileURLWithPath: $0) },
                                                 style: payload.settings.style == "source" ? sourceModel : payload.settings.style),
                                           logger: logger)
        // Reuse a track another job made from the same bytes with the same models.
        let hash = try contentHash(of: input)
        let key = (models.trackIdentity + hash).utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
        let cached = Self.trackCache().appendingPathComponent("\(hash.prefix(16))-\(String(key, radix: 16)).track")
        if let segment = payload.segment {
            try runSegmented(segment, input: input, output: output, models: models, settings: settings, cachedTrack: cached,
                             logger: logger, progress: progress, cancellation: cancellation)
            return
        }
        let track: LatentTrack
        var encodeReport: EncodeReport?
        let began = Date()
        if let t = Self.validTrack(at: cached, input: input, models: models) {
            track = t
            logger.info("reusing latent track \(cached.path)")
        } else {
            // Encoded straight into the cache (the writer renames it into place only when complete).
            try FileManager.default.createDirectory(at: cached.deletingLastPathComponent(), withIntermediateDirectories: true)
            (track, encodeReport) = try ClipEncoder().encode(input, models: models, to: cached, logger: logger) { _, done, total in
                progress(JobProgress(done: done / 2, total: total ?? 0))
                return !cancellation.isSet
            }
        }
        // Every avatar job leaves NAME.report.html beside its output; the dashboard links it from the job's page.
        let recorder = ClipReportRecorder(numWs: models.style.architecture.numWs, settings: settings)
        var renderer = AvatarRenderer(models: models, settings: settings)
        renderer.onFrame = { try recorder.observe($0) }
        renderer.observerNeedsSource = recorder.needsSource
        let render = try renderer.render(track, source: input, output: output, logger: logger) { done, total in
            progress(JobProgress(done: total / 2 + done / 2, total: total))
            return !cancellation.isSet
        }
        let final = URL(fileURLWithPath: payload.output)
        try ReportPage.write(try recorder.report(input: input, output: final, encode: encodeReport, render: render,
                                                 seconds: Date().timeIntervalSince(began)), to: ReportLocation.forOutput(payload.output))
    }

    /// The job file's settings entry as render settings; values are the same forms as the command line's.
    func renderSettings(_ s: RenderSettings) throws -> Pipeline.RenderSettings {
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
