import Foundation
import Pipeline

/// One row of the jobs table, as both backends return it.
public struct JobRecord: Codable, Sendable, Equatable {
    public var id: Int64
    /// Idempotency key: enqueueing a job whose key exists already is a no-op.
    public var key: String
    public var kind: String
    /// The kind's parameters as JSON (a `JobPayload` for the built-in kinds).
    public var payload: String
    /// Larger runs first; equal priorities run in enqueue order.
    public var priority: Int
    public var state: JobState
    /// Attempts started so far, counting the one running now.
    public var attempts: Int
    public var maxAttempts: Int
    /// A queued job is not claimed before this time (retry backoff).
    public var runAfter: Date
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var lastError: String?
    public var progressDone: Int
    public var progressTotal: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?
    /// Set while a finished output is being moved into place: the staged file's path (see `JobQueue.markFinishing`).
    public var finishing: String?
    /// An avatar job's identity figure, recorded with its finished output (`JobQueue.markFinishing`); nil for other
    /// kinds, before the output is finished, and when the face recognition model was not installed.
    public var identity: IdentityFigure.Summary?
    /// The arithmetic the networks ran in for the finished output (`fp32`, `bf16`; `--precision`), recorded with it;
    /// nil for kinds without networks and before the output is finished.
    public var precision: String?

    public init(
        id: Int64, key: String, kind: String, payload: String, priority: Int, state: JobState,
        attempts: Int, maxAttempts: Int, runAfter: Date, leaseOwner: String?, leaseExpiresAt: Date?,
        lastError: String?, progressDone: Int, progressTotal: Int, createdAt: Date, updatedAt: Date,
        finishedAt: Date?, finishing: String? = nil, identity: IdentityFigure.Summary? = nil,
        precision: String? = nil
    ) {
        self.id = id
        self.key = key
        self.kind = kind
        self.payload = payload
        self.priority = priority
        self.state = state
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.runAfter = runAfter
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.lastError = lastError
        self.progressDone = progressDone
        self.progressTotal = progressTotal
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
        self.finishing = finishing
        self.identity = identity
        self.precision = precision
    }

    /// The payload decoded as the built-in kinds' parameters.
    public func decodedPayload() throws -> JobPayload {
        do {
            return try JSONDecoder().decode(JobPayload.self, from: Data(payload.utf8))
        } catch {
            throw QueueError.corruptPayload(id: id, reason: "\(error)")
        }
    }

    /// The identity figure as the queue stores it: JSON text in the `identity_figure` column.
    static func encodeIdentity(_ figure: IdentityFigure.Summary?) throws -> String? {
        guard let figure else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(figure), as: UTF8.self)
    }

    static func decodeIdentity(_ text: String?, id: Int64) throws -> IdentityFigure.Summary? {
        guard let text else { return nil }
        do {
            return try JSONDecoder().decode(IdentityFigure.Summary.self, from: Data(text.utf8))
        } catch {
            throw QueueError.corruptRow("job \(id): identity_figure is not an identity figure (\(error))")
        }
    }
}
