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
    public var settings: RenderSettings

    public init(input: String, output: String, outputRoot: String, clip: String, settings: RenderSettings) {
        self.input = input
        self.output = output
        self.outputRoot = outputRoot
        self.clip = clip
        self.settings = settings
    }

    /// Deterministic JSON (sorted keys) so that equal payloads store equal text.
    public func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
