import Foundation
import Pipeline

/// The job state machine, once for both backends: each transition reads the row and the database's clock, decides,
/// and writes only if the row is unchanged since (`QueueStore.updateJob`); a write refused because another process
/// got there first is decided again on a fresh read. History events go in the same transaction as the change.
extension QueueStore {
    public func enqueue(_ specs: [JobSpec]) async throws -> EnqueueSummary {
        let inserted = try await insertJobs(specs, at: now()).compactMap { $0 }
        return EnqueueSummary(inserted: inserted, existing: specs.count - inserted.count)
    }

    public func claim(worker: String, lease: TimeInterval) async throws -> JobRecord? {
        let now = try await now()
        try await expireLeases(at: now)
        return try await retrying("a claim") { () -> JobRecord?? in
            // A few at a time: a claimer that loses the first to another tries the next rather than reading again.
            let candidates = try await claimableJobs(at: now, limit: 8)
            if candidates.isEmpty { return .some(nil) }
            for candidate in candidates {
                var row = candidate
                let finishing = row.record.finishing != nil
                // A job whose output was being moved into place is claimed to finish the move, not to run again.
                if !finishing {
                    row.record.attempts += 1
                    row.record.identity = nil
                    row.record.precision = nil
                }
                row.record.state = .running
                row.record.leaseOwner = worker
                row.record.leaseExpiresAt = now + lease
                row.record.updatedAt = now
                row.record.progressDone = 0
                row.record.progressTotal = 0
                let detail = finishing ? "to finish moving the output of attempt \(row.record.attempts) into place"
                    : "attempt \(row.record.attempts) of \(row.record.maxAttempts)"
                // A claim lost in a server crash is harmless: the job is queued again and its worker's next heartbeat
                // reports the lease lost.
                if try await updateJob(row, event: event(row, .claimed, at: now, worker: worker, detail: detail),
                                       durable: false, beforeCommit: nil) {
                    return row.record
                }
            }
            return nil  // other claimers took every candidate meanwhile: read again
        }
    }

    /// Running jobs whose worker stopped heartbeating: back to the queue, or dead on their last attempt. A job that
    /// was moving its finished output into place is never dead: the next claim finishes the move.
    private func expireLeases(at now: Date) async throws {
        for expired in try await expiredJobs(at: now) {
            var row = expired
            let owner = row.record.leaseOwner
            let message = "lease of worker \(owner ?? "?") expired during attempt \(row.record.attempts) of \(row.record.maxAttempts)"
            let dead = row.record.attempts >= row.record.maxAttempts && row.record.finishing == nil
            row.record.state = dead ? .dead : .queued
            row.record.leaseOwner = nil
            row.record.leaseExpiresAt = nil
            row.record.lastError = message
            row.record.updatedAt = now
            if dead {
                row.record.finishedAt = now
                row.cleanupPending = true
            } else {
                row.record.runAfter = now
            }
            // Refused when another claimer expired it first, or its worker heartbeat just now: either way, done.
            _ = try await updateJob(row, event: event(row, dead ? .dead : .expired, at: now, worker: owner, detail: message),
                                    durable: false, beforeCommit: nil)
        }
    }

    public func heartbeat(id: Int64, worker: String, lease: TimeInterval, progress: JobProgress?) async throws -> LeaseStatus {
        try await transition(held: id, by: worker) { row, now in
            row.record.leaseExpiresAt = now + lease
            row.record.updatedAt = now
            row.record.apply(progress)
            return .change(nil, durable: false)
        }
    }

    public func complete(id: Int64, worker: String, progress: JobProgress?,
                         beforeCommit: @escaping @Sendable () throws -> Void) async throws -> LeaseStatus {
        try await transition(held: id, by: worker) { row, now in
            row.record.state = .succeeded
            row.record.leaseOwner = nil
            row.record.leaseExpiresAt = nil
            row.record.updatedAt = now
            row.record.finishedAt = now
            row.record.finishing = nil
            row.record.apply(progress)
            return .change(JobEvent(jobID: id, at: now, kind: .succeeded, worker: worker, detail: nil), beforeCommit: beforeCommit)
        }
    }

    public func markFinishing(id: Int64, worker: String, staged: String, outcome: JobOutcome) async throws -> LeaseStatus {
        try await transition(held: id, by: worker) { row, now in
            row.record.finishing = staged
            row.record.identity = outcome.identity
            row.record.precision = outcome.precision
            row.record.updatedAt = now
            return .change(nil)
        }
    }

    public func fail(id: Int64, worker: String, error: String, policy: RetryPolicy, permanent: Bool) async throws -> JobState? {
        var outcome: JobState = .dead
        let status = try await transition(held: id, by: worker) { row, now in
            row.record.leaseOwner = nil
            row.record.leaseExpiresAt = nil
            row.record.lastError = error
            row.record.updatedAt = now
            row.record.finishing = nil
            row.record.identity = nil
            row.record.precision = nil
            if permanent || row.record.attempts >= row.record.maxAttempts {
                outcome = .dead
                row.record.state = .dead
                row.record.finishedAt = now
                row.cleanupPending = true
                return .change(JobEvent(jobID: id, at: now, kind: .dead, worker: worker, detail: permanent ? "permanent: \(error)" : error))
            }
            outcome = .queued
            let delay = policy.delay(afterAttempt: row.record.attempts)
            row.record.state = .queued
            row.record.runAfter = now + delay
            return .change(JobEvent(jobID: id, at: now, kind: .retryScheduled, worker: worker,
                                    detail: "in \(String(format: "%.2fs", delay)): \(error)"))
        }
        return status == .held ? outcome : nil
    }

    public func release(id: Int64, worker: String) async throws -> Bool {
        try await transition(held: id, by: worker) { row, now in
            row.record.state = .queued
            row.record.attempts = max(row.record.attempts - 1, 0)
            row.record.leaseOwner = nil
            row.record.leaseExpiresAt = nil
            row.record.runAfter = now
            row.record.updatedAt = now
            return .change(JobEvent(jobID: id, at: now, kind: .released, worker: worker, detail: nil))
        } == .held
    }

    public func cancel(id: Int64) async throws -> JobRecord {
        try await transition(id) { row, now in
            let was = row.record.state
            guard was == .queued || was == .running else { throw QueueError.notCancellable(id: id, state: was) }
            row.record.state = .cancelled
            row.record.leaseOwner = nil
            row.record.leaseExpiresAt = nil
            row.record.updatedAt = now
            row.record.finishedAt = now
            row.cleanupPending = true
            return JobEvent(jobID: id, at: now, kind: .cancelled, worker: nil, detail: "was \(was.rawValue)")
        }
    }

    public func retry(id: Int64) async throws -> JobRecord {
        try await transition(id) { row, now in
            let was = row.record.state
            guard was == .dead || was == .cancelled else { throw QueueError.notRetryable(id: id, state: was) }
            row.requeue(at: now)
            return JobEvent(jobID: id, at: now, kind: .requeued, worker: nil, detail: "was \(was.rawValue)")
        }
    }

    /// `QueueBrowsing.requeue`: a new priority, and a dead or cancelled job queued again as by `retry`.
    public func requeue(id: Int64, priority: Int) async throws -> JobRecord {
        try await transition(id) { row, now in
            let was = row.record.state
            switch was {
            case .queued: break
            case .dead, .cancelled: row.requeue(at: now)
            case .running, .succeeded: throw QueueError.notRetryable(id: id, state: was)
            }
            let before = row.record.priority
            row.record.priority = priority
            row.record.updatedAt = now
            return JobEvent(jobID: id, at: now, kind: .requeued, worker: nil, detail: "was \(was.rawValue), priority \(before) → \(priority)")
        }
    }

    public func markCleaned(id: Int64) async throws {
        _ = try await transition(id) { row, _ in
            row.cleanupPending = false
            return nil
        }
    }

    public func job(id: Int64) async throws -> JobRecord? {
        try await jobRow(id: id)?.record
    }

    // MARK: - Transitions

    /// Changes job `id` as `change` says (its event, if any, recorded with it) and returns the job as written; a
    /// missing job is `noSuchJob`.
    private func transition(_ id: Int64, _ change: (inout JobRow, Date) throws -> JobEvent?) async throws -> JobRecord {
        try await retrying("job \(id)") {
            guard var row = try await jobRow(id: id) else { throw QueueError.noSuchJob(id) }
            let now = try await now()
            let event = try change(&row, now)
            return try await updateJob(row, event: event, durable: true, beforeCommit: nil) ? row.record : nil
        }
    }

    /// Changes job `id` as `change` says if `worker` still holds it (running under its lease); otherwise says what
    /// became of the job (`.cancelled`, or `.lost` when it moved on or is gone).
    private func transition(held id: Int64, by worker: String,
                            _ change: (inout JobRow, Date) throws -> HeldChange) async throws -> LeaseStatus {
        try await retrying("job \(id)") {
            guard var row = try await jobRow(id: id) else { return .lost }
            guard row.record.state == .running, row.record.leaseOwner == worker else {
                return row.record.state == .cancelled ? .cancelled : .lost
            }
            let now = try await now()
            let decided = try change(&row, now)
            return try await updateJob(row, event: decided.event, durable: decided.durable, beforeCommit: decided.beforeCommit) ? .held : nil
        }
    }

    private func event(_ row: JobRow, _ kind: JobEvent.Kind, at now: Date, worker: String?, detail: String?) -> JobEvent {
        JobEvent(jobID: row.record.id, at: now, kind: kind, worker: worker, detail: detail)
    }
}

/// What a transition of a held job writes besides the row.
struct HeldChange {
    var event: JobEvent?
    var durable: Bool
    var beforeCommit: (@Sendable () throws -> Void)?

    static func change(_ event: JobEvent?, durable: Bool = true, beforeCommit: (@Sendable () throws -> Void)? = nil) -> HeldChange {
        HeldChange(event: event, durable: durable, beforeCommit: beforeCommit)
    }
}

extension JobRow {
    /// Back in the queue from dead or cancelled, with its attempts and progress reset.
    mutating func requeue(at now: Date) {
        record.state = .queued
        record.attempts = 0
        record.runAfter = now
        record.updatedAt = now
        record.finishedAt = nil
        record.progressDone = 0
        record.progressTotal = 0
        record.identity = nil
        record.precision = nil
        cleanupPending = false
    }
}

extension JobRecord {
    /// The worker's latest frame count, when it sent one.
    mutating func apply(_ progress: JobProgress?) {
        guard let progress else { return }
        progressDone = progress.done
        progressTotal = progress.total
    }
}
