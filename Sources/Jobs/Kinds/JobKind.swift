import Foundation

/// A kind of work the queue can run. Adding one (the avatar `run` pipeline, say) means writing one conforming
/// type and listing it in `JobKinds.builtIn`; the queue, job files and workers need no change.
public protocol JobKind: Sendable {
    /// The name job files use (`kind: transcode`) and the queue stores.
    var name: String { get }
    /// Identity of what produces the output (code version, model bundle digest). It is part of the idempotency
    /// key, so a job re-enqueued after the model changed runs again instead of being skipped.
    var identity: String { get }
    /// `JobSettings` fields this kind uses; others are validation errors.
    var supportedSettings: Set<String> { get }

    /// Checks one settings entry's values the way a worker will read them, for a job file in `base`, so that
    /// `enqueue` rejects what no attempt could run. Returns what the payload carries beyond the entry (a style
    /// bundle resolved against the job file's folder) and the content identity of it (weight digests) for the key.
    func resolve(_ settings: JobSettings, relativeTo base: URL) throws(SettingsProblems) -> ResolvedSettings

    /// Produces the output for `payload` at `output` (a temporary path the worker renames on success),
    /// reporting frames done / total as it goes, and returns what the job's record keeps of it. Throwing fails
    /// this attempt.
    func run(_ payload: JobPayload, output: URL, progress: @escaping @Sendable (JobProgress) -> Void) async throws -> JobOutcome

    /// `run` for a worker, which hands over its `PieceMaker`: the work folder for files several jobs share and the
    /// queue's ledger that has each made once. Kinds that share nothing keep the default, which is `run`.
    func run(_ payload: JobPayload, output: URL, pieces: PieceMaker,
             progress: @escaping @Sendable (JobProgress) -> Void) async throws -> JobOutcome
}

/// The kinds this build knows, by name.
public struct JobKinds: Sendable {
    public var byName: [String: any JobKind]

    public init(_ kinds: [any JobKind]) {
        byName = Dictionary(kinds.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public static let builtIn = JobKinds([TranscodeJobKind(), AvatarJobKind()])

    public subscript(name: String) -> (any JobKind)? { byName[name] }

    public var names: [String] { byName.keys.sorted() }
}

/// What `JobKind.resolve` found for a settings entry.
public struct ResolvedSettings: Sendable, Equatable {
    /// Absolute path of the style bundle, when the style names one rather than a built-in style.
    public var styleBundle: String?
    /// Digests of whatever the entry brings in (style weights); part of the idempotency key.
    public var identity: String

    public init(styleBundle: String? = nil, identity: String = "") {
        self.styleBundle = styleBundle
        self.identity = identity
    }
}

/// Problems with a settings entry's values, by field (`style`, `smoothing`, …).
public struct SettingsProblems: Error, Sendable, Equatable {
    public var items: [(field: String, message: String)]

    public init(_ items: [(field: String, message: String)]) {
        self.items = items
    }

    public static func == (lhs: SettingsProblems, rhs: SettingsProblems) -> Bool {
        lhs.items.map { "\($0.field)\u{0}\($0.message)" } == rhs.items.map { "\($0.field)\u{0}\($0.message)" }
    }
}

extension JobKind {
    public func run(_ payload: JobPayload, output: URL, pieces: PieceMaker,
                    progress: @escaping @Sendable (JobProgress) -> Void) async throws -> JobOutcome {
        try await run(payload, output: output, progress: progress)
    }

    /// Kinds whose settings are names only have nothing to check or resolve.
    public func resolve(_ settings: JobSettings, relativeTo base: URL) throws(SettingsProblems) -> ResolvedSettings {
        ResolvedSettings()
    }
}
