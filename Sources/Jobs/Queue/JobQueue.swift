import Foundation
import Pipeline

/// The queue, with one implementation of its state changes for both backends (`QueueStore+Jobs`). Every method that
/// changes state writes the change and its history event in one database transaction, and only if the row is
/// unchanged since the change was decided on it, so a crash leaves either the old or the new state and never half
/// of one, and two processes never both change the same state.
public protocol JobQueue: PieceLedger {
    /// Where the queue lives, with any password removed; safe to print.
    var displayLocation: String { get }

    /// Creates or upgrades the schema. Safe to call from many processes at once.
    func migrate() async throws

    /// Adds the specs in one transaction; a spec whose key exists is skipped (idempotent enqueue).
    func enqueue(_ specs: [JobSpec]) async throws -> EnqueueSummary

    /// Takes the highest-priority claimable job: a queued job whose backoff has passed, or a running job whose
    /// lease expired (its worker is presumed dead). A running job whose lease expired on its last allowed attempt
    /// goes to `dead` instead. Returns nil when nothing is claimable.
    func claim(worker: String, lease: TimeInterval) async throws -> JobRecord?

    /// Extends the lease and stores progress, if the worker still holds the job.
    func heartbeat(id: Int64, worker: String, lease: TimeInterval, progress: JobProgress?) async throws -> LeaseStatus

    /// Marks the job succeeded if the worker still holds it. `beforeCommit` runs inside the transaction, after the
    /// ownership check: the worker moves its output into place there, so an output appears only for a job that
    /// commits as succeeded, and a failing move rolls the state change back. `progress` is the final count.
    func complete(id: Int64, worker: String, progress: JobProgress?, beforeCommit: @escaping @Sendable () throws -> Void) async throws -> LeaseStatus

    /// Records where the finished output waits (`staged`) before the worker renames it into place, if the worker
    /// still holds the job. From then on the job cannot go `dead` by lease expiry: a crash between this, the rename
    /// and `complete` leaves a running job whose next claim (`JobRecord.finishing`) finishes the move instead of
    /// running the job again, so the output on disk and the recorded state cannot disagree for good. `outcome` (the
    /// output's identity figure and precision) is kept in the record from then on (a later attempt of the job clears it).
    func markFinishing(id: Int64, worker: String, staged: String, outcome: JobOutcome) async throws -> LeaseStatus

    /// Records a failed attempt: re-queued after the policy's backoff, or dead once attempts are used up or at
    /// once when `permanent` (another attempt cannot help: a bad setting, an unreadable input, mismatched models).
    /// Returns the new state, or nil when the worker no longer held the job.
    func fail(id: Int64, worker: String, error: String, policy: RetryPolicy, permanent: Bool) async throws -> JobState?

    /// Gives a held job back without counting the attempt (graceful shutdown).
    func release(id: Int64, worker: String) async throws -> Bool

    /// Cancels a queued or running job; a running job's worker sees `cancelled` at its next heartbeat.
    func cancel(id: Int64) async throws -> JobRecord

    /// Puts a dead or cancelled job back in the queue with its attempts reset.
    func retry(id: Int64) async throws -> JobRecord

    /// Dead or cancelled jobs whose files (an attempt's staging folder) may still be on disk, oldest first.
    func pendingCleanups(limit: Int) async throws -> [JobRecord]

    /// Notes that a dead or cancelled job's leftovers were removed.
    func markCleaned(id: Int64) async throws

    func job(id: Int64) async throws -> JobRecord?
    func jobs(state: JobState?, limit: Int) async throws -> [JobRecord]
    func events(jobID: Int64) async throws -> [JobEvent]
    func counts() async throws -> [JobState: Int]

    /// The clips queued or running jobs need (the first 16 hex digits of their inputs' content digests), for the
    /// work folder's eviction: read from an index of a column kept at enqueue, never from the jobs' payloads.
    func clipsInUse() async throws -> Set<String>

    /// Releases connections; the queue must not be used afterwards.
    func close() async throws
}

extension JobQueue {
    /// A failure that another attempt may cure.
    public func fail(id: Int64, worker: String, error: String, policy: RetryPolicy) async throws -> JobState? {
        try await fail(id: id, worker: worker, error: error, policy: policy, permanent: false)
    }

    /// `markFinishing` for an output with nothing more to record.
    public func markFinishing(id: Int64, worker: String, staged: String) async throws -> LeaseStatus {
        try await markFinishing(id: id, worker: worker, staged: staged, outcome: JobOutcome())
    }

    /// True while any job could still run: queued (possibly waiting out a backoff) or running.
    public func hasUnfinishedJobs() async throws -> Bool {
        let counts = try await counts()
        return (counts[.queued] ?? 0) + (counts[.running] ?? 0) > 0
    }
}
