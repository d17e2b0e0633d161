import Foundation
import Jobs
import Pipeline

/// A job as `avatarize jobs list --json` prints it and `/api/jobs` serves it: one definition for both, so the
/// shapes cannot drift apart.
public struct JobView: Codable, Sendable {
    public var id: Int64
    public var kind: String
    public var state: JobState
    public var priority: Int
    public var attempts: Int
    public var maxAttempts: Int
    public var input: String?
    public var output: String?
    public var style: String?
    public var progressDone: Int
    public var progressTotal: Int
    public var worker: String?
    public var leaseExpiresAt: Date?
    public var runAfter: Date
    public var lastError: String?
    public var createdAt: Date
    public var finishedAt: Date?
    public var key: String
    /// The arithmetic that made the finished output (`fp32`, `bf16`); absent before it is finished.
    public var precision: String?

    public init(_ job: JobRecord) {
        let payload = try? job.decodedPayload()
        id = job.id
        kind = job.kind
        state = job.state
        priority = job.priority
        attempts = job.attempts
        maxAttempts = job.maxAttempts
        input = payload?.input
        output = payload?.output
        style = payload?.settings.style
        progressDone = job.progressDone
        progressTotal = job.progressTotal
        worker = job.leaseOwner
        leaseExpiresAt = job.leaseExpiresAt
        runAfter = job.runAfter
        lastError = job.lastError
        createdAt = job.createdAt
        finishedAt = job.finishedAt
        key = job.key
        precision = job.precision
    }
}

/// `avatarize jobs show --json` and `/api/jobs/ID`: the job, its history, and an avatar job's identity figure
/// (absent until the job has finished an output).
public struct JobDetailView: Codable, Sendable {
    public var job: JobView
    public var events: [JobEvent]
    public var identity: IdentityFigure.Summary?
    public init(_ record: JobRecord, events: [JobEvent]) {
        job = JobView(record)
        self.events = events
        identity = record.identity
    }
}

/// `avatarize status --json` and `/api/status`.
public struct QueueStatusView: Codable, Sendable {
    public var queue: String
    public var counts: [String: Int]
    public var running: [JobView]
    public var waitingRetry: Int
    public init(queue: String, counts: [String: Int], running: [JobView], waitingRetry: Int) {
        self.queue = queue; self.counts = counts; self.running = running; self.waitingRetry = waitingRetry
    }
}

/// The encoder both the CLI's `--json` and the API use.
public enum APIJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(value)
    }
}
