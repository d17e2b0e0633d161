import Foundation

/// A kind of work the queue can run. Adding one (the avatar `run` pipeline, say) means writing one conforming
/// type and listing it in `JobKinds.builtIn`; the queue, job files and workers need no change.
public protocol JobKind: Sendable {
    /// The name job files use (`kind: transcode`) and the queue stores.
    var name: String { get }
    /// Identity of what produces the output (code version, model bundle digest). It is part of the idempotency
    /// key, so a job re-enqueued after the model changed runs again instead of being skipped.
    var identity: String { get }
    /// `RenderSettings` fields this kind uses; others are validation errors.
    var supportedSettings: Set<String> { get }

    /// Produces the output for `payload` at `output` (a temporary path the worker renames on success),
    /// reporting frames done / total as it goes. Throwing fails this attempt.
    func run(_ payload: JobPayload, output: URL, progress: @escaping @Sendable (JobProgress) -> Void) async throws
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
