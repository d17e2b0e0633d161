import GRDB
import TestSupport
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
    func testSearchFindsJobsByInputOrOutputName() async throws { try await queue.searchFindsJobsByInputOrOutputName() }
    func testIdentityFigureIsKeptWithTheFinishedOutput() async throws { try await queue.identityFigureIsKeptWithTheFinishedOutput() }
    func testPiecesAreMadeOnceUnderLeases() async throws { try await queue.piecesAreMadeOnceUnderLeases() }
    func testDonePiecesAreForgottenWithTheirFiles() async throws { try await queue.donePiecesAreForgottenWithTheirFiles() }
    func testClipsInUseFollowTheJobs() async throws { try await queue.clipsInUseFollowTheJobs() }
    func testOwedWebhooksAreWrittenWithTheOutcomeAndLeased() async throws { try await queue.owedWebhooksAreWrittenWithTheOutcomeAndLeased() }

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

    /// A queue file made before the identity figure (migrations up to v4, with jobs in it) gains the column on the
    /// next open; its jobs read back without a figure and can record one.
    func testAQueueFileFromBeforeTheIdentityFigureIsMigrated() async throws {
        let directory = try TemporaryDirectory("schema-v4")
        let path = directory.path + "/queue.db"
        let made = try SQLiteJobQueue(path: path)
        try await made.migrate()
        let ids = try await made.enqueue([JobSpec(key: "old", kind: "transcode", payload: "{}")]).inserted
        // Back to the schema of the version before: the column and its migration's record gone.
        try await made.write { db in
            try db.execute(sql: "ALTER TABLE avatarize_jobs DROP COLUMN identity_figure")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v5-identity-figure'")
        }
        try await made.close()

        let queue = try await QueueOpener.open(.sqlite(path: path))
        try await QueueScenarios.migratedJobTakesAFigure(queue, id: ids[0])
    }

    /// A queue file made before row versions and clips (migrations up to v6, with jobs and pieces in it) gains them on
    /// the next open and loses nothing.
    func testAQueueFileFromBeforeRowVersionsIsMigrated() async throws {
        let directory = try TemporaryDirectory("schema-v6")
        let path = directory.path + "/queue.db"
        let made = try SQLiteJobQueue(path: path)
        try await made.migrate()
        let ids = try await QueueScenarios.queueFromBeforeRowVersions(made)
        let old = try SQLiteJobQueue(path: path)
        try await old.write { db in
            for table in ["avatarize_jobs", "avatarize_pieces"] {
                try db.execute(sql: "DROP TRIGGER \(table)_version")
                try db.execute(sql: "ALTER TABLE \(table) DROP COLUMN version")
            }
            try db.execute(sql: "DROP INDEX avatarize_jobs_clips_in_use")
            try db.execute(sql: "ALTER TABLE avatarize_jobs DROP COLUMN clip")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier IN ('v7-row-versions', 'v8-clips')")
        }
        try await old.close()

        let queue = try await QueueOpener.open(.sqlite(path: path))
        try await QueueScenarios.migratedQueueKeptItsWork(queue, ids: ids)
    }

    /// Which clips are in use is answered from the partial index alone: no payload, no row of the jobs table is read.
    func testClipsInUseComeFromAnIndex() async throws {
        let directory = try TemporaryDirectory("clips-plan")
        let queue = try SQLiteJobQueue(path: directory.path + "/queue.db")
        try await queue.migrate()
        let plan = try await queue.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + SQLiteJobQueue.clipsInUseQuery).map { $0["detail"] as String }
        }
        XCTAssertEqual(plan.count, 1, "\(plan)")
        XCTAssertTrue(plan.first?.contains("COVERING INDEX avatarize_jobs_clips_in_use") == true, "\(plan)")
        try await queue.close()
    }

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

    /// Every page the dashboard asks for is an index walk that stops at the page's end: SQLite's plan never sorts
    /// (which would read every match first), and a filtered page reads the jobs table only by key. (The unfiltered
    /// first page is a SCAN in rowid order that LIMIT stops after one page.)
    func testBrowsingPagesUseIndexesNotScans() async throws {
        let directory = try TemporaryDirectory("plans")
        let queue = try SQLiteJobQueue(path: directory.path + "/queue.db")
        try await queue.migrate()
        let queries = [JobPageQuery(), JobPageQuery(before: 5_000), JobPageQuery(state: .dead, before: 5_000),
                       JobPageQuery(search: "clip-0042"), JobPageQuery(state: .queued, search: "clip", before: 5_000)]
        for query in queries {
            let (sql, arguments) = try SQLiteJobQueue.pageStatement(query)
            let plan = try await queue.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
            }
            let text = plan.joined(separator: " | ")
            if query != JobPageQuery() {
                XCTAssertFalse(plan.contains { $0.hasPrefix("SCAN j") || $0.hasPrefix("SCAN avatarize_jobs") }, "\(query): \(text)")
            }
            XCTAssertFalse(text.contains("TEMP B-TREE"), "\(query): \(text)")
            if query.search != nil {
                XCTAssertTrue(text.contains("SCAN n VIRTUAL TABLE"), "the name index drives the search: \(text)")
            }
        }
        try await queue.close()
    }
}
