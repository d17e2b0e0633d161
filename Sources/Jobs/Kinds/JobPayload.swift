import Foundation

/// What the queue stores for a job of a built-in kind: absolute paths, already validated and confined when the
/// job file was planned, so a worker on another machine with the same mounts needs nothing else.
public struct JobPayload: Codable, Sendable, Equatable {
    /// Absolute path of the source clip.
    public var input: String
    /// Absolute path of the final output; workers write a temporary sibling and rename it here.
    public var output: String
    /// The output root the path was confined to (kept so that workers can re-check before writing).
    public var outputRoot: String
    /// The input's `{clip}` name.
    public var clip: String
    public var settings: JobSettings
    /// Set when the clip is shared by several jobs (job files' segment_seconds).
    public var segment: JobSegment?
    /// The style bundle `settings.style` names, resolved against the job file's folder at enqueue (nil for a
    /// built-in style), so that workers do not resolve it against their own working folder.
    public var styleBundle: String?
    /// SHA-256 of the input's content at enqueue; names the clip's files in the track cache, so that the cache
    /// keeps what queued and running jobs need.
    public var inputDigest: String?
    /// The URL told when the job ends (the job file's `webhook.url`); the queue records what it owes it.
    public var webhook: String?

    public init(input: String, output: String, outputRoot: String, clip: String, settings: JobSettings,
                segment: JobSegment? = nil, styleBundle: String? = nil, inputDigest: String? = nil, webhook: String? = nil) {
        self.webhook = webhook
        self.input = input
        self.output = output
        self.outputRoot = outputRoot
        self.clip = clip
        self.settings = settings
        self.segment = segment
        self.styleBundle = styleBundle
        self.inputDigest = inputDigest
    }

    /// Deterministic JSON (sorted keys) so that equal payloads store equal text.
    public func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// One job's share of a clip split into segments: segment jobs each encode and render a stretch of frames
/// (and help with the others' when they are done first); the join job puts the rendered segments together
/// into the final output. Every job can make anything still missing, so none waits on another's claim.
public struct JobSegment: Codable, Sendable, Equatable {
    /// Frames per segment.
    public var frames: Int
    /// Segments planned (the last one runs to the clip's end, whatever its measured length).
    public var count: Int
    /// This job's segment; nil for the join job.
    public var index: Int?
    /// Absolute folder, inside the output root, where the rendered segments are kept until joined.
    public var folder: String

    public init(frames: Int, count: Int, index: Int?, folder: String) {
        self.frames = frames; self.count = count; self.index = index; self.folder = folder
    }

    /// The frames of segment `k` for a clip of `total` frames.
    public func range(_ k: Int, total: Int) -> Range<Int> {
        let lower = min(k * frames, total)
        return lower..<(k == count - 1 ? total : min((k + 1) * frames, total))
    }
}
