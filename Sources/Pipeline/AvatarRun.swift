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
                      keepTrack: URL? = nil, logger: Logger,
                      progress: ((_ stage: String, _ done: Int, _ total: Int?) -> Bool)? = nil) throws -> AvatarRunReport {
    let began = Date()
    try checkOutputPath(output, input: input)
    let (track, encodeReport) = try encoder.encode(input, models: models, logger: logger, progress: progress)
    if let keepTrack { try track.save(to: keepTrack) }
    let renderReport = try AvatarRenderer(models: models, settings: settings).render(track, source: input, output: output, logger: logger) { done, total in
        progress?("render", done, total) ?? true
    }
    return AvatarRunReport(encode: encodeReport, render: renderReport, seconds: Date().timeIntervalSince(began))
}
