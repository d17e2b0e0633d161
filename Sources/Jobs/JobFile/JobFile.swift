import Foundation

/// A job file after structural validation: every field has the right type and is located, but paths are not yet
/// resolved against the file system (that is `JobPlanner`'s work).
///
/// ```yaml
/// kind: transcode            # optional, default transcode
/// inputs: [clips/*.mp4, extra/talk.mov]
/// output: out/{clip}-{style}.mp4
/// output_root: out           # optional; default: the job file's folder
/// priority: 0                # optional; larger runs first
/// max_attempts: 3            # optional
/// segment_seconds: 10        # optional (kind avatar): clips longer than this are shared by several workers
/// settings:
///   - style: identity
/// ```
public struct JobFile: Sendable {
    /// A value with the place it came from, for diagnostics raised after parsing.
    public struct Located<Value: Sendable>: Sendable {
        public var value: Value
        public var line: Int
        public var column: Int
        public var field: String
    }

    public var path: String
    public var kind: Located<String>
    public var inputs: [Located<String>]
    public var output: Located<String>
    public var outputRoot: Located<String>?
    public var priority: Int
    public var maxAttempts: Int
    /// Split clips longer than this into segments of this length, so several workers share one clip.
    public var segmentSeconds: Located<Double>? = nil
    public var settings: [Located<JobSettings>]
    /// `webhook: {url: …}`: called when each job of the file ends (succeeded, dead or cancelled).
    public var webhook: Located<String>? = nil

    /// The folder relative paths in the file are resolved against.
    public var baseDirectory: URL {
        URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL
    }

    public static let fieldNames = ["kind", "inputs", "output", "output_root", "priority", "max_attempts", "segment_seconds", "settings", "webhook"]
}
