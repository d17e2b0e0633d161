import Foundation

/// A job to enqueue: everything the queue stores that the caller chooses.
public struct JobSpec: Sendable, Equatable {
    public var key: String
    public var kind: String
    public var payload: String
    public var priority: Int
    public var maxAttempts: Int

    public init(key: String, kind: String, payload: String, priority: Int = 0, maxAttempts: Int = 3) {
        self.key = key
        self.kind = kind
        self.payload = payload
        self.priority = priority
        self.maxAttempts = maxAttempts
    }
}

extension JobSpec {
    /// The clip the job works on, as the work folder's files are named by it (`TrackCache.clipPrefix`): the first 16
    /// hex digits of its input's content digest; nil for a job without one. Kept in its own column at enqueue so
    /// that eviction asks an index which clips are in use (`JobQueue.clipsInUse`) instead of reading payloads.
    var clip: String? {
        struct Input: Decodable { var inputDigest: String? }
        return (try? JSONDecoder().decode(Input.self, from: Data(payload.utf8)))?.inputDigest.map { String($0.prefix(16)) }
    }
}

/// What one `enqueue` call did; `existing` counts specs whose key was already in the queue.
public struct EnqueueSummary: Sendable, Equatable, Codable {
    public var inserted: [Int64]
    public var existing: Int

    public init(inserted: [Int64], existing: Int) {
        self.inserted = inserted
        self.existing = existing
    }
}

/// Frames done out of frames total, as a worker reports it with its heartbeat.
public struct JobProgress: Sendable, Equatable, Codable {
    public var done: Int
    public var total: Int

    public init(done: Int, total: Int) {
        self.done = done
        self.total = total
    }
}

/// What a worker learns when it touches a job it believes it holds.
public enum LeaseStatus: String, Sendable, Equatable {
    /// The worker still holds the job (and, for a heartbeat, the lease was extended).
    case held
    /// Someone cancelled the job; the worker must stop and discard its output.
    case cancelled
    /// The lease expired and the job moved on (re-queued, claimed by another worker, or dead).
    case lost
}
