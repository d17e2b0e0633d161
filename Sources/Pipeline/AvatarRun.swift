import Foundation
import Logging
import Video

/// One whole avatar run: encode the clip into a latent track, then render it (what `avatarize run` and a
/// queue worker's avatar job do). The track can be kept to render again without encoding.
public struct AvatarRunReport: Sendable {
    public var encode: EncodeReport
    public var render: RenderReport
    public var seconds: Double
}

public func runAvatar(input: URL, output: URL, models: AvatarModels, encoder: ClipEncoder, settings: RenderSettings,
                      keepTrack: URL? = nil, reuseKeptTrack: ((URL) -> LatentTrack?)? = nil, identity: IdentityFigure? = nil,
                      logger: Logger,
                      onFrame: ((RenderedFrame) throws -> Void)? = nil, observerNeedsSource: Bool = false,
                      progress: ((_ stage: String, _ done: Int, _ total: Int?) -> Bool)? = nil) throws -> AvatarRunReport {
    let began = Date()
    try checkOutputPath(output, input: input)
    if let keepTrack { try checkOutputPath(keepTrack, input: input) }
    if let lib = settings.directions {
        try lib.check(settings.edits, numWs: models.styleArchitecture.numWs, wDim: models.styleArchitecture.wDim)
    }
    // The track goes to disk as it is made (memory stays flat in the clip's length): to the kept path, or
    // to a temporary folder removed after rendering.
    let scratch = keepTrack == nil ? try makeScratchFolder() : nil
    defer { if let scratch { try? FileManager.default.removeItem(at: scratch) } }
    let trackURL = keepTrack ?? scratch!.appendingPathComponent("clip.track")
    // A kept track made earlier from the same clip and models (a queue's track cache) spares the encoder.
    let track: LatentTrack
    let encodeReport: EncodeReport
    if let keepTrack, let reused = reuseKeptTrack?(keepTrack) {
        logger.info("reusing latent track \(keepTrack.path)")
        track = reused
        encodeReport = EncodeReport(frames: reused.count, facesFound: reused.facesFound, framesFilled: reused.count - reused.facesFound,
                                    framesLost: 0, stageSeconds: [])
    } else {
        (track, encodeReport) = try encoder.encode(input, models: models, to: trackURL, logger: logger, progress: progress)
    }
    // The renderer has one observer slot: the identity figure and the caller's observer (a report) share it.
    var renderer = AvatarRenderer(models: models, settings: settings)
    if let identity {
        renderer.onFrame = { frame in
            try identity.observe(frame)
            try onFrame?(frame)
        }
        renderer.observerNeedsSource = true
    } else {
        renderer.onFrame = onFrame
        renderer.observerNeedsSource = observerNeedsSource
    }
    let renderReport = try renderer.render(track, source: input, output: output, logger: logger) { done, total in
        progress?("render", done, total) ?? true
    }
    return AvatarRunReport(encode: encodeReport, render: renderReport, seconds: Date().timeIntervalSince(began))
}

/// A new private folder in the system's temporary folder.
func makeScratchFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
    do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
        throw TrackError.unwritable(path: url.path, reason: error.localizedDescription)
    }
    return url
}
