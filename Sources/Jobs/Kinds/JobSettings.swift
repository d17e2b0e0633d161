/// One entry of a job file's `settings` list, as written (names and strings): the batch is inputs × settings.
/// The avatar kind turns it into the pipeline's typed `RenderSettings` (`AvatarJobKind.renderSettings`), checked at enqueue.
/// Fields a job kind does not use are rejected at validation time rather than silently ignored.
public struct JobSettings: Codable, Sendable, Equatable {
    /// Style name; also the `{style}` placeholder of the output template.
    public var style: String
    /// Edit directions by name with their strength.
    public var edits: [String: Double]
    /// Temporal smoothing filter name, e.g. `gaussian`, `causal`, `one-euro`.
    public var smoothing: String?
    /// Camera mode, e.g. `source`, `frontal`, `orbit`.
    public var camera: String?
    /// Output layout, e.g. `avatar`, `side-by-side`, `paste-back`.
    public var layout: String?

    /// Every field name a settings entry may hold, for "unknown field" diagnostics.
    public static let fieldNames: [String] = ["style", "edits", "smoothing", "camera", "layout"]

    public init(style: String, edits: [String: Double] = [:], smoothing: String? = nil, camera: String? = nil, layout: String? = nil) {
        self.style = style
        self.edits = edits
        self.smoothing = smoothing
        self.camera = camera
        self.layout = layout
    }
}
