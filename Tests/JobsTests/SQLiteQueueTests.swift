import XCTest
@testable import Jobs

/// The shared queue and worker scenarios against the embedded SQLite backend.
final class SQLiteQueueTests: XCTestCase {
    private var queue: QueueScenarios { QueueScenarios(backend: SQLiteBackend()) }
    private var workers: WorkerScenarios { WorkerScenarios(backend: SQLiteBackend()) }

    func testMigrationsAreRepeatable() async throws { try await queue.migrationsAreRepeatable() }
    func testDuplicateEnqueueIsNoOp() async throws { try await queue.duplicateEnqueueIsNoOp() }
    func testClaimsFollowPriorityThenAge() async throws { try await queue.claimsFollowPriorityThenAge() }
    func testExpiredLeaseMakesJobClaimableAgain() async throws { try await queue.expiredLeaseMakesJobClaimableAgain() }
    func testExpiredLeaseOnLastAttemptIsDead() async throws { try await queue.expiredLeaseOnLastAttemptIsDead() }
    func testFailuresRetryWithBackoffThenDie() async throws { try await queue.failuresRetryWithBackoffThenDie() }
    func testCancelStopsQueuedAndRunningJobs() async throws { try await queue.cancelStopsQueuedAndRunningJobs() }
    func testReleaseReturnsJobWithoutUsingAnAttempt() async throws { try await queue.releaseReturnsJobWithoutUsingAnAttempt() }
    func testFailedCommitLeavesJobRunning() async throws { try await queue.failedCommitLeavesJobRunning() }
    func testConcurrentClaimsNeverShareAJob() async throws { try await queue.concurrentClaimsNeverShareAJob() }
    func testFinishingJobIsNeverDeadByExpiry() async throws { try await queue.finishingJobIsNeverDeadByExpiry() }
    func testPermanentFailureIsDeadAtOnceAndAwaitsCleanup() async throws { try await queue.permanentFailureIsDeadAtOnceAndAwaitsCleanup() }

    func testTwoHundredJobsOverFourWorkersFinishExactlyOnce() async throws {
        try await workers.twoHundredJobsOverFourWorkersFinishExactlyOnce()
    }
    func testKilledWorkersJobRunsAgainAfterLeaseExpiry() async throws { try await workers.killedWorkersJobRunsAgainAfterLeaseExpiry() }
    func testNotMediaInputIsDeadAtOnce() async throws { try await workers.notMediaInputIsDeadAtOnce() }
    func testSigtermReleasesRunningJob() async throws { try await workers.sigtermReleasesRunningJob() }
    func testBadJobFileChangesNothing() async throws { try await workers.badJobFileChangesNothing() }
    func testSigtermLetsRunningJobFinish() async throws { try await workers.sigtermLetsRunningJobFinish() }
    func testCancellingARunningJobStopsItsWorker() async throws { try await workers.cancellingARunningJobStopsItsWorker() }
    func testSegmentedClipEqualsTheUnsplitRun() async throws { try await workers.segmentedClipEqualsTheUnsplitRun() }

    func testDatabaseIsInWALMode() async throws {
        let directory = try TemporaryDirectory("wal")
        let queue = try await QueueOpener.open(.sqlite(path: directory.path + "/queue.db"))
        try await queue.close()
        // The journal mode is stored in the file: a fresh connection sees it.
        let mode = try ProcessRunner.run("/usr/bin/env", ["sqlite3", directory.path + "/queue.db", "PRAGMA journal_mode"])
        if mode.status == 0 {
            XCTAssertEqual(mode.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "wal")
        } else {
            // No sqlite3 shell: read the header instead (bytes 18 and 19 are 2 for WAL).
            let header = try Data(contentsOf: URL(fileURLWithPath: directory.path + "/queue.db")).prefix(20)
            XCTAssertEqual(Array(header.suffix(2)), [2, 2])
        }
    }
}
