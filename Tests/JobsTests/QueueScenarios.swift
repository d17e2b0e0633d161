import Foundation
import XCTest
@testable import Jobs
import Pipeline

/// Queue semantics every backend must share, run once per backend by `SQLiteQueueTests` and
/// `PostgresQueueTests`. These drive the queue in-process; `WorkerScenarios` drives real worker processes.
struct QueueScenarios {
    let backend: any QueueBackend

    private func withQueue(_ body: (any JobQueue) async throws -> Void) async throws {
        let directory = try TemporaryDirectory("queue")
        let queue = try await backend.openQueue(try backend.makeQueueURL(in: directory))
        do {
            try await body(queue)
        } catch {
            try? await queue.close()
            throw error
        }
        try await queue.close()
    }

    private func spec(_ key: String, priority: Int = 0, maxAttempts: Int = 3) -> JobSpec {
        JobSpec(key: key, kind: "transcode", payload: #"{"test":"\#(key)"}"#, priority: priority, maxAttempts: maxAttempts)
    }

    func migrationsAreRepeatable() async throws {
        let directory = try TemporaryDirectory("migrate")
        let url = try backend.makeQueueURL(in: directory)
        // Several processes start at once in practice; concurrent migrate calls must all succeed.
        let queues = try await withThrowingTaskGroup(of: (any JobQueue).self) { group in
            for _ in 0..<4 { group.addTask { try await backend.openQueue(url) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let summary = try await queues[0].enqueue([spec("a")])
        XCTAssertEqual(summary.inserted.count, 1)
        try await queues[1].migrate()
        let count = try await queues[2].counts()[.queued]
        XCTAssertEqual(count, 1)
        for queue in queues { try await queue.close() }
    }

    func duplicateEnqueueIsNoOp() async throws {
        try await withQueue { queue in
            let first = try await queue.enqueue([spec("a"), spec("b")])
            XCTAssertEqual(first.inserted.count, 2)
            XCTAssertEqual(first.existing, 0)
            let second = try await queue.enqueue([spec("a"), spec("b"), spec("c")])
            XCTAssertEqual(second.inserted.count, 1, "only the new key is inserted")
            XCTAssertEqual(second.existing, 2)
            // Even a finished job is not re-run by enqueueing it again.
            let job = try await queue.claim(worker: "w", lease: 30)
            _ = try await queue.complete(id: try XCTUnwrap(job).id, worker: "w", progress: nil) {}
            let third = try await queue.enqueue([spec("a")])
            XCTAssertEqual(third.inserted, [])
            let counts = try await queue.counts()
            XCTAssertEqual(counts[.queued], 2)
            XCTAssertEqual(counts[.succeeded], 1)
            let awaited1 = try await queue.jobs(state: nil, limit: 100).count
            XCTAssertEqual(awaited1, 3)
        }
    }

    func claimsFollowPriorityThenAge() async throws {
        try await withQueue { queue in
            _ = try await queue.enqueue([spec("low1", priority: 0), spec("high", priority: 5), spec("low2", priority: 0),
                                         spec("mid", priority: 1)])
            var order: [String] = []
            while let job = try await queue.claim(worker: "w", lease: 30) { order.append(job.key) }
            XCTAssertEqual(order, ["high", "mid", "low1", "low2"])
            let running = try await queue.jobs(state: .running, limit: 10)
            XCTAssertEqual(running.count, 4)
            XCTAssertTrue(running.allSatisfy { $0.leaseOwner == "w" && $0.attempts == 1 })
        }
    }

    func expiredLeaseMakesJobClaimableAgain() async throws {
        try await withQueue { queue in
            _ = try await queue.enqueue([spec("a")])
            let awaited2 = try await queue.claim(worker: "A", lease: 0.6)
            let first = try XCTUnwrap(awaited2)
            let early = try await queue.claim(worker: "B", lease: 30)
            XCTAssertNil(early, "a held lease is not claimable")
            // Heartbeats keep it held past the original expiry.
            try await Task.sleep(nanoseconds: 400_000_000)
            let beat = try await queue.heartbeat(id: first.id, worker: "A", lease: 0.6, progress: JobProgress(done: 3, total: 10))
            XCTAssertEqual(beat, .held)
            try await Task.sleep(nanoseconds: 400_000_000)
            let stillHeld = try await queue.claim(worker: "B", lease: 30)
            XCTAssertNil(stillHeld, "the heartbeat extended the lease")
            let awaited3 = try await queue.job(id: first.id)?.progressDone
            XCTAssertEqual(awaited3, 3)
            let awaited4 = try await queue.job(id: first.id)?.progressTotal
            XCTAssertEqual(awaited4, 10)
            // A stops beating: after expiry B gets the job as a new attempt.
            try await Task.sleep(nanoseconds: 900_000_000)
            let awaited5 = try await queue.claim(worker: "B", lease: 30)
            let second = try XCTUnwrap(awaited5)
            XCTAssertEqual(second.id, first.id)
            XCTAssertEqual(second.attempts, 2)
            XCTAssertEqual(second.leaseOwner, "B")
            // A comes back: it has lost the job and cannot finish it.
            let late = try await queue.heartbeat(id: first.id, worker: "A", lease: 30, progress: nil)
            XCTAssertEqual(late, .lost)
            let committed = Locked(false)
            let completion = try await queue.complete(id: first.id, worker: "A", progress: nil) { committed.value = true }
            XCTAssertEqual(completion, .lost)
            XCTAssertFalse(committed.value, "a worker without the lease never moves its output into place")
            let awaited6 = try await queue.complete(id: first.id, worker: "B", progress: nil) {}
            XCTAssertEqual(awaited6, .held)
            let events = try await queue.events(jobID: first.id).map(\.kind)
            XCTAssertEqual(events, [.enqueued, .claimed, .expired, .claimed, .succeeded])
        }
    }

    func expiredLeaseOnLastAttemptIsDead() async throws {
        try await withQueue { queue in
            _ = try await queue.enqueue([spec("a", maxAttempts: 1)])
            let awaited7 = try await queue.claim(worker: "A", lease: 0.2)
            let job = try XCTUnwrap(awaited7)
            try await Task.sleep(nanoseconds: 400_000_000)
            let next = try await queue.claim(worker: "B", lease: 30)
            XCTAssertNil(next, "a job whose worker died on its last attempt is not run again")
            let awaited8 = try await queue.job(id: job.id)
            let record = try XCTUnwrap(awaited8)
            XCTAssertEqual(record.state, .dead)
            XCTAssertTrue(record.lastError?.contains("expired") == true, record.lastError ?? "nil")
        }
    }

    func failuresRetryWithBackoffThenDie() async throws {
        try await withQueue { queue in
            _ = try await queue.enqueue([spec("a", maxAttempts: 3)])
            let policy = RetryPolicy(baseDelay: 0.3, maxDelay: 10)
            var delays: [TimeInterval] = []
            for attempt in 1...3 {
                var job: JobRecord?
                let waitingSince = Date()
                while job == nil {
                    job = try await queue.claim(worker: "w", lease: 30)
                    if job == nil { try await Task.sleep(nanoseconds: 20_000_000) }
                    XCTAssertLessThan(Date().timeIntervalSince(waitingSince), 5, "the retry never became claimable")
                }
                delays.append(Date().timeIntervalSince(waitingSince))
                XCTAssertEqual(job?.attempts, attempt)
                let state = try await queue.fail(id: try XCTUnwrap(job).id, worker: "w", error: "boom \(attempt)", policy: policy)
                XCTAssertEqual(state, attempt < 3 ? .queued : .dead)
                let waiting = try await XCTUnwrap(queue as? any QueueBrowsing).waitingRetryCount()
                XCTAssertEqual(waiting, attempt < 3 ? 1 : 0, "a retry waiting out its backoff is counted, a dead job is not")
            }
            // Backoff doubles: ~0.3 s before attempt 2, ~0.6 s before attempt 3.
            XCTAssertGreaterThanOrEqual(delays[1], 0.25)
            XCTAssertGreaterThanOrEqual(delays[2], 0.55)
            XCTAssertGreaterThan(delays[2], delays[1])
            let awaited9 = try await queue.jobs(state: .dead, limit: 10).first
            let dead = try XCTUnwrap(awaited9)
            XCTAssertEqual(dead.lastError, "boom 3")
            XCTAssertEqual(dead.attempts, 3)
            XCTAssertNotNil(dead.finishedAt)
            let nothing = try await queue.claim(worker: "w", lease: 30)
            XCTAssertNil(nothing)
            let events = try await queue.events(jobID: dead.id).map(\.kind)
            XCTAssertEqual(events, [.enqueued, .claimed, .retryScheduled, .claimed, .retryScheduled, .claimed, .dead])
            // An operator can give it another round.
            let retried = try await queue.retry(id: dead.id)
            XCTAssertEqual(retried.state, .queued)
            XCTAssertEqual(retried.attempts, 0)
            let awaited10 = try await queue.claim(worker: "w", lease: 30)?.id
            XCTAssertEqual(awaited10, dead.id)
        }
    }

    func cancelStopsQueuedAndRunningJobs() async throws {
        try await withQueue { queue in
            let ids = try await queue.enqueue([spec("a"), spec("b"), spec("c")]).inserted
            let cancelledQueued = try await queue.cancel(id: ids[2])
            XCTAssertEqual(cancelledQueued.state, .cancelled)
            let awaited11 = try await queue.claim(worker: "w", lease: 30)
            let running = try XCTUnwrap(awaited11)
            XCTAssertEqual(running.id, ids[0])
            _ = try await queue.cancel(id: running.id)
            let beat = try await queue.heartbeat(id: running.id, worker: "w", lease: 30, progress: nil)
            XCTAssertEqual(beat, .cancelled, "the worker learns of the cancel at its next heartbeat")
            let awaited12 = try await queue.complete(id: running.id, worker: "w", progress: nil) {}
            XCTAssertEqual(awaited12, .cancelled)
            let awaited13 = try await queue.claim(worker: "w", lease: 30)?.id
            XCTAssertEqual(awaited13, ids[1], "cancelled jobs are never claimed")
            let none = try await queue.claim(worker: "w", lease: 30)
            XCTAssertNil(none)
            do {
                _ = try await queue.cancel(id: running.id)
                XCTFail("cancelling a cancelled job must fail")
            } catch let error as QueueError {
                XCTAssertEqual(error, .notCancellable(id: running.id, state: .cancelled))
            }
            do {
                _ = try await queue.retry(id: ids[1])
                XCTFail("retrying a running job must fail")
            } catch let error as QueueError {
                XCTAssertEqual(error, .notRetryable(id: ids[1], state: .running))
            }
            do {
                _ = try await queue.cancel(id: 999_999)
                XCTFail("cancelling a missing job must fail")
            } catch let error as QueueError {
                XCTAssertEqual(error, .noSuchJob(999_999))
            }
        }
    }

    func releaseReturnsJobWithoutUsingAnAttempt() async throws {
        try await withQueue { queue in
            _ = try await queue.enqueue([spec("a", maxAttempts: 1)])
            let awaited14 = try await queue.claim(worker: "A", lease: 30)
            let job = try XCTUnwrap(awaited14)
            let awaited15 = try await queue.release(id: job.id, worker: "A")
            XCTAssertTrue(awaited15)
            let awaited16 = try await queue.release(id: job.id, worker: "A")
            XCTAssertFalse(awaited16, "released once only")
            let awaited17 = try await queue.claim(worker: "B", lease: 30)
            let again = try XCTUnwrap(awaited17)
            XCTAssertEqual(again.attempts, 1, "a released attempt is not counted")
        }
    }

    func failedCommitLeavesJobRunning() async throws {
        try await withQueue { queue in
            _ = try await queue.enqueue([spec("a")])
            let awaited18 = try await queue.claim(worker: "w", lease: 30)
            let job = try XCTUnwrap(awaited18)
            struct MoveFailed: Error {}
            do {
                _ = try await queue.complete(id: job.id, worker: "w", progress: JobProgress(done: 5, total: 5)) { throw MoveFailed() }
                XCTFail("complete must rethrow")
            } catch is MoveFailed {
            } catch let error as QueueError {
                XCTFail("unexpected \(error)")
            }
            let awaited19 = try await queue.job(id: job.id)
            let record = try XCTUnwrap(awaited19)
            XCTAssertEqual(record.state, .running, "the state change rolled back with the failed move")
            let awaited20 = try await queue.events(jobID: job.id).map(\.kind)
            XCTAssertEqual(awaited20, [.enqueued, .claimed])
            let awaited21 = try await queue.fail(id: job.id, worker: "w", error: "move failed", policy: RetryPolicy())
            XCTAssertEqual(awaited21, .queued)
        }
    }

    func concurrentClaimsNeverShareAJob() async throws {
        let directory = try TemporaryDirectory("claims")
        let url = try backend.makeQueueURL(in: directory)
        let setup = try await backend.openQueue(url)
        _ = try await setup.enqueue((0..<120).map { spec("job-\($0)") })
        // Eight claimers on four separate queue objects (separate connections / pools), as separate workers would be.
        let queues = [setup] + (try await withThrowingTaskGroup(of: (any JobQueue).self) { group in
            for _ in 0..<3 { group.addTask { try await backend.openQueue(url) } }
            return try await group.reduce(into: []) { $0.append($1) }
        })
        let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for claimer in 0..<8 {
                let queue = queues[claimer % queues.count]
                group.addTask {
                    var mine: [Int64] = []
                    while let job = try await queue.claim(worker: "w\(claimer)", lease: 30) {
                        mine.append(job.id)
                        let awaited22 = try await queue.complete(id: job.id, worker: "w\(claimer)", progress: nil) {}
                        XCTAssertEqual(awaited22, .held)
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        XCTAssertEqual(claimed.count, 120)
        XCTAssertEqual(Set(claimed).count, 120, "no job was claimed twice")
        let awaited23 = try await setup.counts()[.succeeded]
        XCTAssertEqual(awaited23, 120)
        for queue in queues { try await queue.close() }
    }

    /// A worker that recorded where its finished output waits and then died is not sent to `dead`, even on its last
    /// attempt: the next claimer finishes the move without spending an attempt, and the stale worker can do nothing.
    func finishingJobIsNeverDeadByExpiry() async throws {
        try await withQueue { queue in
            _ = try await queue.enqueue([spec("a", maxAttempts: 1)])
            let awaited1 = try await queue.claim(worker: "A/1", lease: 0.3)
            let first = try XCTUnwrap(awaited1)
            let marked = try await queue.markFinishing(id: first.id, worker: "A/1", staged: "/out/.avatarize-job-1.A-1/x.mp4")
            XCTAssertEqual(marked, .held)
            try await Task.sleep(nanoseconds: 600_000_000)
            let awaited2 = try await queue.claim(worker: "B/1", lease: 30)
            let second = try XCTUnwrap(awaited2, "a finishing job whose lease expired is claimable, not dead")
            XCTAssertEqual(second.finishing, "/out/.avatarize-job-1.A-1/x.mp4")
            XCTAssertEqual(second.attempts, 1, "finishing the move is not another attempt")
            let stale = try await queue.markFinishing(id: first.id, worker: "A/1", staged: "/elsewhere")
            XCTAssertEqual(stale, .lost)
            let staleFailure = try await queue.fail(id: first.id, worker: "A/1", error: "late", policy: RetryPolicy(), permanent: false)
            XCTAssertNil(staleFailure, "a stale worker cannot record anything for the new claim")
            let done = try await queue.complete(id: first.id, worker: "B/1", progress: nil) {}
            XCTAssertEqual(done, .held)
            let awaited3 = try await queue.job(id: first.id)
            let record = try XCTUnwrap(awaited3)
            XCTAssertEqual(record.state, .succeeded)
            XCTAssertNil(record.finishing)
        }
    }

    /// An identity figure as an avatar job makes one, every field set.
    static var figure: IdentityFigure.Summary {
        var s = IdentityFigure.Summary(outcomes: [.compared(similarity: 0.93, distance: 0.41), .compared(similarity: 0.71, distance: 0.66),
                                                  .noAvatarFace, .noSourceFace, .compared(similarity: 0.88, distance: 0.5)])
        s.millisecondsPerFace = 12.5
        return s
    }

    /// A job enqueued before the identity-figure migration reads back without a figure, and records one
    /// afterwards (the queue is closed at the end).
    static func migratedJobTakesAFigure(_ queue: any JobQueue, id: Int64) async throws {
        let old = try await queue.job(id: id)
        XCTAssertEqual(old?.key, "old")
        XCTAssertNil(old?.identity)
        XCTAssertNil(old?.precision)
        _ = try await queue.claim(worker: "w/1", lease: 30)
        _ = try await queue.markFinishing(id: id, worker: "w/1", staged: "/out/x", outcome: JobOutcome(identity: figure, precision: "bf16"))
        let updated = try await queue.job(id: id)
        XCTAssertEqual(updated?.identity, figure)
        XCTAssertEqual(updated?.precision, "bf16", "the precision is kept with the output, as the figure is")
        try await queue.close()
    }

    /// The clips eviction must keep are those of queued and running jobs, whatever their state was before: a job's
    /// clip stops counting when it succeeds, dies or is cancelled, and counts again when it is retried; jobs without
    /// a digest (transcodes) have none.
    func clipsInUseFollowTheJobs() async throws {
        try await withQueue { queue in
            func job(_ key: String, _ digest: String?) -> JobSpec {
                JobSpec(key: key, kind: "avatar", payload: digest.map { #"{"input":"/c.mp4","inputDigest":"\#($0)"}"# } ?? "{}")
            }
            let a = String(repeating: "a", count: 64), b = String(repeating: "b", count: 64), c = String(repeating: "c", count: 64)
            let ids = try await queue.enqueue([job("a1", a), job("a2", a), job("b", b), job("c", c), job("plain", nil)]).inserted
            let all = try await queue.clipsInUse()
            XCTAssertEqual(all, [String(a.prefix(16)), String(b.prefix(16)), String(c.prefix(16))])
            // a1 succeeds (a2 still needs clip a), b is cancelled, c dies at once.
            for _ in 0..<4 { _ = try await queue.claim(worker: "w/1", lease: 30) }
            _ = try await queue.complete(id: ids[0], worker: "w/1", progress: nil) {}
            _ = try await queue.cancel(id: ids[2])
            _ = try await queue.fail(id: ids[3], worker: "w/1", error: "no", policy: RetryPolicy(), permanent: true)
            let left = try await queue.clipsInUse()
            XCTAssertEqual(left, [String(a.prefix(16))])
            _ = try await queue.retry(id: ids[3])
            let again = try await queue.clipsInUse()
            XCTAssertEqual(again, [String(a.prefix(16)), String(c.prefix(16))])
        }
    }

    /// An input's content digest, as an avatar job's payload holds it.
    static let digest = "0123456789abcdef" + String(repeating: "9", count: 48)

    /// What a queue holds before the row-version and clip migrations: a queued job, a running one (of clip `digest`), a
    /// piece being made and a made one. The caller then takes the database back to the schema before them.
    static func queueFromBeforeRowVersions(_ queue: any JobQueue) async throws -> [Int64] {
        let ids = try await queue.enqueue([JobSpec(key: "running", kind: "avatar", payload: #"{"inputDigest":"\#(digest)"}"#, priority: 1),
                                           JobSpec(key: "waiting", kind: "transcode", payload: "{}")]).inserted
        let running = try await queue.claim(worker: "w/1", lease: 300)
        XCTAssertEqual(running?.id, ids[0])
        for piece in ["w1/making.faces", "w1/made.faces"] {
            let claimed = try await queue.claimPiece(piece, owner: "w/1", lease: 300, fileMissing: false)
            XCTAssertEqual(claimed, .make(attempt: 1))
        }
        let finished = try await queue.finishPiece("w1/made.faces", owner: "w/1")
        XCTAssertTrue(finished)
        try await queue.close()
        return ids
    }

    /// After the row-version migration nothing queued, running or made is lost: the running job's worker still holds
    /// it, the queued one is claimed next, the piece's maker still holds it and the made one is done; and a write
    /// decided on a row read before another change is refused (the database keeps the versions). Closes the queue.
    static func migratedQueueKeptItsWork(_ queue: any JobQueue, ids: [Int64]) async throws {
        let counts = try await queue.counts()
        XCTAssertEqual(counts, [.running: 1, .queued: 1])
        let clips = try await queue.clipsInUse()
        XCTAssertEqual(clips, ["0123456789abcdef"], "the running job's clip, filled in from its payload")
        let store = try XCTUnwrap(queue as? any QueueStore)
        let stale = try await store.jobRow(id: ids[0])
        let beat = try await queue.heartbeat(id: ids[0], worker: "w/1", lease: 300, progress: JobProgress(done: 1, total: 2))
        XCTAssertEqual(beat, .held)
        var decidedEarlier = try XCTUnwrap(stale)
        decidedEarlier.record.state = .dead
        let written = try await store.updateJob(decidedEarlier, event: nil, durable: true, beforeCommit: nil)
        XCTAssertFalse(written, "a write decided on a row that changed since is refused")
        let done = try await queue.complete(id: ids[0], worker: "w/1", progress: nil) {}
        XCTAssertEqual(done, .held)
        let next = try await queue.claim(worker: "w/2", lease: 30)
        XCTAssertEqual(next?.id, ids[1])
        let none = try await queue.clipsInUse()
        XCTAssertEqual(none, [], "the clip's only job finished")
        let made = try await queue.claimPiece("w1/made.faces", owner: "w/2", lease: 30, fileMissing: false)
        XCTAssertEqual(made, .done)
        let busy = try await queue.claimPiece("w1/making.faces", owner: "w/2", lease: 30, fileMissing: false)
        XCTAssertEqual(busy, .busy(owner: "w/1"))
        let finished = try await queue.finishPiece("w1/making.faces", owner: "w/1")
        XCTAssertTrue(finished)
        try await queue.close()
    }

    /// The identity figure stays with the output it was measured on: recorded with the finished output, kept
    /// through a crash between "finishing" and "succeeded" (the next claim only finishes the move), and cleared
    /// by a failed attempt, a new attempt and a retry, whose output it would not describe.
    func identityFigureIsKeptWithTheFinishedOutput() async throws {
        try await withQueue { queue in
            var ids = try await queue.enqueue([spec("a"), spec("b")]).inserted
            let figure = Self.figure
            // a: finished by the worker that measured it.
            let a = try await queue.claim(worker: "A/1", lease: 30)
            XCTAssertNil(a?.identity)
            let markedA = try await queue.markFinishing(id: ids[0], worker: "A/1", staged: "/out/a", outcome: JobOutcome(identity: figure, precision: "bf16"))
            XCTAssertEqual(markedA, .held)
            _ = try await queue.complete(id: ids[0], worker: "A/1", progress: nil) {}
            let doneA = try await queue.job(id: ids[0])
            XCTAssertEqual(doneA?.state, .succeeded)
            XCTAssertEqual(doneA?.identity, figure, "every field, the optional ones included, comes back")
            XCTAssertEqual(doneA?.precision, "bf16")
            let listed = try await queue.jobs(state: .succeeded, limit: 10)
            XCTAssertEqual(listed.first?.identity, figure)

            // b: its worker dies between markFinishing and complete; the next claim finishes the move and keeps it.
            let b = try await queue.claim(worker: "B/1", lease: 0.3)
            XCTAssertEqual(b?.id, ids[1])
            _ = try await queue.markFinishing(id: ids[1], worker: "B/1", staged: "/out/b", outcome: JobOutcome(identity: figure))
            try await Task.sleep(nanoseconds: 600_000_000)
            let resumed = try await queue.claim(worker: "C/1", lease: 30)
            XCTAssertEqual(resumed?.id, ids[1])
            XCTAssertEqual(resumed?.finishing, "/out/b")
            XCTAssertEqual(resumed?.identity, figure, "finishing the move keeps the figure of the output being moved")
            _ = try await queue.complete(id: ids[1], worker: "C/1", progress: nil) {}
            let doneB = try await queue.job(id: ids[1])
            XCTAssertEqual(doneB?.identity, figure)

            // c: the output is staged with a figure but the move fails: the retried attempt starts without it.
            ids += try await queue.enqueue([spec("c")]).inserted
            let c = try await queue.claim(worker: "D/1", lease: 30)
            XCTAssertEqual(c?.id, ids[2])
            _ = try await queue.markFinishing(id: ids[2], worker: "D/1", staged: "/out/c", outcome: JobOutcome(identity: figure, precision: "fp32"))
            let failed = try await queue.fail(id: ids[2], worker: "D/1", error: "rename: no space", policy: RetryPolicy(baseDelay: 0, maxDelay: 0))
            XCTAssertEqual(failed, .queued)
            let queuedC = try await queue.job(id: ids[2])
            XCTAssertNil(queuedC?.identity, "a failed attempt's figure describes no output")
            XCTAssertNil(queuedC?.precision, "nor does its precision")
            // A job without a figure (another kind, or no recognition model) records none.
            let again = try await queue.claim(worker: "E/1", lease: 30)
            XCTAssertEqual(again?.id, ids[2])
            _ = try await queue.markFinishing(id: ids[2], worker: "E/1", staged: "/out/c2")
            _ = try await queue.complete(id: ids[2], worker: "E/1", progress: nil) {}
            let doneC = try await queue.job(id: ids[2])
            XCTAssertEqual(doneC?.state, .succeeded)
            XCTAssertNil(doneC?.identity)
        }
    }

    /// A permanent failure ends the job at once whatever attempts are left; dead and cancelled jobs wait for a
    /// worker to remove their files, and retrying one takes it off that list.
    func permanentFailureIsDeadAtOnceAndAwaitsCleanup() async throws {
        try await withQueue { queue in
            let ids = try await queue.enqueue([spec("a", maxAttempts: 5), spec("b")]).inserted
            let awaited1 = try await queue.claim(worker: "w/1", lease: 30)
            let job = try XCTUnwrap(awaited1)
            let state = try await queue.fail(id: job.id, worker: "w/1", error: "settings.layout: bad", policy: RetryPolicy(), permanent: true)
            XCTAssertEqual(state, .dead)
            let awaited2 = try await queue.job(id: job.id)
            XCTAssertEqual(awaited2?.attempts, 1)
            XCTAssertEqual(awaited2?.lastError, "settings.layout: bad")
            _ = try await queue.cancel(id: ids[1])
            let pending = try await queue.pendingCleanups(limit: 10).map(\.id)
            XCTAssertEqual(pending, ids)
            try await queue.markCleaned(id: ids[0])
            _ = try await queue.retry(id: ids[1])
            let awaited3 = try await queue.pendingCleanups(limit: 10)
            XCTAssertEqual(awaited3.map(\.id), [], "cleaned, and retried (a retried job has a live attempt to protect)")
        }
    }

    /// The dashboard's name search: a case-insensitive substring of the input or output path, with `%`, `_` and
    /// quotes taken literally, newest first in keyset pages, combined with a state; too short a search is refused.
    func searchFindsJobsByInputOrOutputName() async throws {
        try await withQueue { plain in
            let queue = try XCTUnwrap(plain as? any QueueBrowsing)
            func named(_ key: String, _ input: String, _ output: String) throws -> JobSpec {
                let names = try JSONSerialization.data(withJSONObject: ["input": input, "output": output], options: [.sortedKeys])
                return JobSpec(key: key, kind: "avatar", payload: String(decoding: names, as: UTF8.self))
            }
            let ids = try await queue.enqueue([
                try named("a", "/clips/Interview_2024.mp4", "/out/interview_2024.avatar.mp4"),
                try named("b", "/clips/100%_real.mp4", "/out/100%_real.avatar.mp4"),
                try named("c", "/clips/walk.mp4", "/out/Interview-cut.mp4"),
                spec("d"),
                try named("e", "/clips/say \"hi\".mp4", "/out/say.mp4"),
            ]).inserted
            func search(_ text: String, state: JobState? = nil, before: Int64? = nil, limit: Int = 50) async throws -> [Int64] {
                try await queue.page(JobPageQuery(state: state, search: text, before: before, limit: limit)).jobs.map(\.id)
            }
            let interview = try await search("INTERVIEW")
            XCTAssertEqual(interview, [ids[2], ids[0]], "either path, any case, newest first")
            let underscore = try await search("view_")
            XCTAssertEqual(underscore, [ids[0]], "_ is a character, not a wildcard")
            let percent = try await search("0%_")
            XCTAssertEqual(percent, [ids[1]])
            let quoted = try await search("\"hi\"")
            XCTAssertEqual(quoted, [ids[4]])
            let none = try await search("no-such-clip")
            XCTAssertEqual(none, [])
            let first = try await queue.page(JobPageQuery(search: "mp4", limit: 2))
            XCTAssertEqual(first.jobs.map(\.id), [ids[4], ids[2]])
            let second = try await queue.page(JobPageQuery(search: "mp4", before: first.nextBefore, limit: 2))
            XCTAssertEqual(second.jobs.map(\.id), [ids[1], ids[0]])
            XCTAssertNil(second.nextBefore)
            _ = try await queue.claim(worker: "w", lease: 30)
            let running = try await search("interview", state: .running)
            XCTAssertEqual(running, [ids[0]])
            do {
                _ = try await search("ab")
                XCTFail("a two-character search cannot use the trigram index")
            } catch let error as QueueError {
                XCTAssertEqual(error, .searchTooShort("ab", minimum: 3))
            }
            // A NUL ends an FTS5 phrase and is refused by PostgreSQL; found by schemathesis through GET /api/jobs?q=.
            do {
                _ = try await search("mp4\u{0}x")
                XCTFail("a search with a NUL must be refused before either database sees it")
            } catch let error as QueueError {
                XCTAssertEqual(error, .searchHasNUL)
            }
        }
    }

    /// The piece ledger: the first claimer makes a piece and others find it busy while its lease holds; once the lease
    /// runs out (its maker died) the next claimer takes it over, and the stale maker can neither renew nor finish it; a
    /// done piece is made again only when its file is gone; a piece given up is claimable at once; attempts count
    /// every make.
    func piecesAreMadeOnceUnderLeases() async throws {
        try await withQueue { queue in
            func claim(_ owner: String, lease: TimeInterval = 30, missing: Bool = true) async throws -> PieceClaim {
                try await queue.claimPiece("work-1/clip.faces", owner: owner, lease: lease, fileMissing: missing)
            }
            let first = try await claim("A/piece-1", lease: 30)
            XCTAssertEqual(first, .make(attempt: 1))
            let waiting = try await claim("B/piece-1")
            XCTAssertEqual(waiting, .busy(owner: "A/piece-1"))
            let renewedByMaker = try await queue.renewPiece("work-1/clip.faces", owner: "A/piece-1", lease: 0.3)
            XCTAssertTrue(renewedByMaker)
            let renewedByOther = try await queue.renewPiece("work-1/clip.faces", owner: "B/piece-1", lease: 30)
            XCTAssertFalse(renewedByOther, "only the maker renews")
            let finishedByOther = try await queue.finishPiece("work-1/clip.faces", owner: "B/piece-1")
            XCTAssertFalse(finishedByOther, "only the maker finishes")

            // A stops renewing: once its lease (now 0.3 s) has run out, B takes the piece over.
            try await Task.sleep(nanoseconds: 700_000_000)
            let takeover = try await claim("B/piece-1")
            XCTAssertEqual(takeover, .make(attempt: 2))
            let staleRenewal = try await queue.renewPiece("work-1/clip.faces", owner: "A/piece-1", lease: 30)
            let staleFinish = try await queue.finishPiece("work-1/clip.faces", owner: "A/piece-1")
            XCTAssertFalse(staleRenewal || staleFinish, "the maker presumed dead can record nothing")
            let third = try await claim("C/piece-1")
            XCTAssertEqual(third, .busy(owner: "B/piece-1"))
            let finished = try await queue.finishPiece("work-1/clip.faces", owner: "B/piece-1")
            XCTAssertTrue(finished)

            let found = try await claim("C/piece-1", missing: false)
            XCTAssertEqual(found, .done)
            let remade = try await claim("C/piece-1", missing: true)
            XCTAssertEqual(remade, .make(attempt: 3), "done, but its file is gone: made again")
            try await queue.abandonPiece("work-1/clip.faces", owner: "C/piece-1")
            let afterGivingUp = try await claim("D/piece-1", lease: 30)
            XCTAssertEqual(afterGivingUp, .make(attempt: 4), "a piece given up is claimable at once")

            let other = try await queue.claimPiece("work-2/clip.faces", owner: "E/piece-1", lease: 30, fileMissing: true)
            XCTAssertEqual(other, .make(attempt: 1), "another work folder's piece is another row")
            let rows = try await queue.pieces(prefix: "work-1/")
            XCTAssertEqual(rows.map(\.key), ["work-1/clip.faces"])
            XCTAssertEqual(rows.first?.state, .making)
            XCTAssertEqual(rows.first?.owner, "D/piece-1")
            XCTAssertEqual(rows.first?.attempts, 4)
            let all = try await queue.pieces(prefix: "")
            XCTAssertEqual(all.count, 2)
        }
    }

    /// The ledger's rows go with their files: evicting pieces forgets the rows of those recorded done, while a piece
    /// being made keeps its row (its maker still holds it).
    func donePiecesAreForgottenWithTheirFiles() async throws {
        try await withQueue { queue in
            for name in ["a", "b", "c"] {
                let claimed = try await queue.claimPiece("work-1/\(name)", owner: "A/piece-\(name)", lease: 30, fileMissing: false)
                XCTAssertEqual(claimed, .make(attempt: 1))
            }
            for name in ["a", "b"] {
                let finished = try await queue.finishPiece("work-1/\(name)", owner: "A/piece-\(name)")
                XCTAssertTrue(finished)
            }
            let forgotten = try await queue.forgetPieces(["work-1/a", "work-1/c", "work-1/never-made"])
            XCTAssertEqual(forgotten, 1)
            let rows = try await queue.pieces(prefix: "work-1/")
            XCTAssertEqual(rows.map(\.key), ["work-1/b", "work-1/c"])
            let none = try await queue.forgetPieces([])
            XCTAssertEqual(none, 0)
            // Made again after its row went: a new row, counted from one.
            let again = try await queue.claimPiece("work-1/a", owner: "B/piece-1", lease: 30, fileMissing: false)
            XCTAssertEqual(again, .make(attempt: 1))
        }
    }
}
