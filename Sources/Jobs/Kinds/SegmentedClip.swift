import Foundation

/// The names of a segmented clip's pieces in the work folder, from their content: the clip's SHA-256 (first, so that
/// the cache knows which clip a file belongs to), the track key (clip and encoder + source generator weights) for the
/// face pass and tracks, and the render key (track key, style weights, settings and segment plan) for the rendered
/// segments. Jobs on any machine, for any output, that would make the same bytes use the same names.
struct SegmentedClip: Sendable {
    let input: URL
    /// SHA-256 of the input's content.
    let clipDigest: String
    /// SHA-256 of the track identity and the clip digest (as for the whole-clip track cache).
    let trackKey: String
    /// SHA-256 of what a rendered segment depends on beyond the track (`renderKey(…)`).
    let renderKey: String

    private var trackStem: String { "\(clipDigest.prefix(16))-\(trackKey.prefix(16))" }
    private var renderStem: String { "\(clipDigest.prefix(16))-\(renderKey.prefix(16))" }

    /// The whole clip's latent track.
    var track: String { trackStem + ".track" }
    /// The face pass's measurements of the whole clip.
    var faces: String { trackStem + ".faces" }

    func segmentTrack(_ k: Int, of segment: JobSegment) -> String {
        trackStem + ".segment-\(k)-of-\(segment.count)x\(segment.frames).track"
    }

    /// A rendered segment (lossless), and its share of the clip report beside it.
    func segmentVideo(_ k: Int, of segment: JobSegment) -> String { renderStem + String(format: ".part-%03d-of-%d.mkv", k, segment.count) }
    func reportPart(_ k: Int, of segment: JobSegment) -> String { renderStem + String(format: ".part-%03d-of-%d.report.json", k, segment.count) }

    /// What a rendered segment depends on besides the whole clip's track: the style's weights, the settings and the
    /// segment plan (frames per segment and count), and the format of these files (the version tag).
    static func renderKey(trackKey: String, styleDigest: String, settings: JobSettings, segment: JobSegment) throws -> String {
        InputFingerprint.sha256(of: ["segment-video/1", trackKey, styleDigest, try JobPayload.canonicalJSON(settings),
                                     "\(segment.count)x\(segment.frames)"]
            .joined(separator: "\n"))
    }
}
