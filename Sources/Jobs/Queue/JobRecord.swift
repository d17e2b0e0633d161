import Foundation

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

    public init(
        id: Int64, key: String, kind: String, payload: String, priority: Int, state: JobState,
        attempts: Int, maxAttempts: Int, runAfter: Date, leaseOwner: String?, leaseExpiresAt: Date?,
        lastError: String?, progressDone: Int, progressTotal: Int, createdAt: Date, updatedAt: Date,
        finishedAt: Date?, finishing: String? = nil
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
    }

    /// The payload decoded as the built-in kinds' parameters.
    public func decodedPayload() throws -> JobPayload {
        do {
            return try JSONDecoder().decode(JobPayload.self, from: Data(payload.utf8))
        } catch {
            throw QueueError.corruptPayload(id: id, reason: "\(error)")
        }
    }
}
