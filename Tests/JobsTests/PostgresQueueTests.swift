import TestSupport
import XCTest
@testable import Jobs

/// The shared queue and worker scenarios against a real PostgreSQL server this class starts for itself.
final class PostgresQueueTests: XCTestCase {
    nonisolated(unsafe) private static var cluster: PostgresCluster?
    nonisolated(unsafe) private static var startError: (any Error)?

    override class func setUp() {
        super.setUp()
        do {
            cluster = try PostgresCluster.start()
        } catch {
            startError = error
        }
    }

    override class func tearDown() {
        cluster?.stop()
        cluster = nil
        super.tearDown()
    }

    override func setUpWithError() throws {
        // XCTSkip outside CI when the server is not installed; any other error (CI without it, initdb failing)
        // fails every test loudly.
        if let error = Self.startError { throw error }
    }

    private var backend: PostgresBackend {
        get throws { PostgresBackend(cluster: try XCTUnwrap(Self.cluster)) }
    }
    private var queue: QueueScenarios { get throws { QueueScenarios(backend: try backend) } }
    private var workers: WorkerScenarios { get throws { WorkerScenarios(backend: try backend) } }

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
    // The segmented clip's byte equality with the unsplit run is SQLite's test (the CI budget); this one checks it
    // on PostgreSQL too, across two machines and three kills.
    func testSegmentPiecesAreMadeOnceAcrossMachines() async throws { try await workers.segmentPiecesAreMadeOnceAcrossMachines() }
    // Crashes the class's server twice; it is running again when the test returns.
    func testWorkerKillsAndDatabaseCrashesLoseAndDoubleNothing() async throws { try await workers.workerKillsAndDatabaseCrashesLoseAndDoubleNothing() }

    /// A search whose matches are all older than the probe of recent jobs comes from the trigram indexes, in
    /// keyset pages, with or without a state; a probe that runs out of jobs asks no further.
    func testSearchReachesMatchesOlderThanTheProbe() async throws {
        let directory = try TemporaryDirectory("search-probe")
        let opened = try await backend.openQueue(try backend.makeQueueURL(in: directory))
        let queue = try XCTUnwrap(opened as? PostgresJobQueue)
        let names = ["needle-a", "needle-b", "needle-c", "hay-1", "hay-2", "hay-3", "hay-4", "hay-5"]
        let ids = try await queue.enqueue(try names.map { name in
            let payload = try JSONSerialization.data(withJSONObject: ["input": "/clips/\(name).mp4", "output": "/out/\(name).mp4"])
            return JobSpec(key: name, kind: "avatar", payload: String(decoding: payload, as: UTF8.self))
        }).inserted
        func search(state: JobState? = nil, before: Int64? = nil) async throws -> JobPage {
            try await queue.page(JobPageQuery(state: state, search: "NEEDLE", before: before, limit: 2), probe: 2)
        }
        let first = try await search()
        XCTAssertEqual(first.jobs.map(\.id), [ids[2], ids[1]])
        XCTAssertEqual(first.nextBefore, ids[1])
        let second = try await search(before: first.nextBefore)
        XCTAssertEqual(second.jobs.map(\.id), [ids[0]])
        XCTAssertNil(second.nextBefore)
        _ = try await queue.claim(worker: "w", lease: 30)
        let running = try await search(state: .running)
        XCTAssertEqual(running.jobs.map(\.id), [ids[0]], "the one running job, found by the probe alone")
        let queued = try await search(state: .queued)
        XCTAssertEqual(queued.jobs.map(\.id), [ids[2], ids[1]])
        XCTAssertNil(queued.nextBefore)
        try await queue.close()
    }

    /// Runs `sql` with psql in the database of queue URL `url`; its output, trimmed.
    private func psql(_ sql: String, in url: String) throws -> String {
        let cluster = try XCTUnwrap(Self.cluster)
        let database = try XCTUnwrap(URL(string: url)?.path.dropFirst())
        let output = try ProcessRunner.run("/usr/bin/env", ["psql", "-h", "127.0.0.1", "-p", "\(cluster.port)", "-U", "postgres",
                                                            "-d", String(database), "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql],
                                           environment: ["PGPASSWORD": cluster.password, "PATH": "/usr/bin:/bin"])
        XCTAssertEqual(output.status, 0, output.stderr)
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testSchemaVersionIsRecordedAndNewerSchemaIsRefused() async throws {
        let directory = try TemporaryDirectory("schema")
        let url = try backend.makeQueueURL(in: directory)
        let queue = try await backend.openQueue(url)
        try await queue.close()
        func psql(_ sql: String) throws -> String { try self.psql(sql, in: url) }
        XCTAssertEqual(try psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM avatarize_schema_migrations"),
                       PostgresMigrations.all.map { "\($0.version)" }.joined(separator: ","))
        _ = try psql("INSERT INTO avatarize_schema_migrations (version, name) VALUES (99, 'from the future')")
        do {
            _ = try await backend.openQueue(url)
            XCTFail("a schema newer than this build must be refused")
        } catch let error as QueueError {
            XCTAssertEqual(error, .schemaTooNew(found: 99, known: PostgresMigrations.latestVersion))
        }
    }

    /// A queue made before the identity figure (schema version 4, with jobs in it) gains the column on the next
    /// migrate; its jobs read back without a figure and can record one.
    func testADatabaseFromBeforeTheIdentityFigureIsMigrated() async throws {
        let directory = try TemporaryDirectory("schema-v4")
        let url = try backend.makeQueueURL(in: directory)
        let made = try await backend.openQueue(url)
        let ids = try await made.enqueue([JobSpec(key: "old", kind: "transcode", payload: "{}")]).inserted
        try await made.close()
        _ = try psql("ALTER TABLE avatarize_jobs DROP COLUMN identity_figure", in: url)
        _ = try psql("DROP TABLE avatarize_pieces", in: url)
        _ = try psql("DROP FUNCTION avatarize_bump_version CASCADE", in: url)
        _ = try psql("ALTER TABLE avatarize_jobs DROP COLUMN version", in: url)
        _ = try psql("ALTER TABLE avatarize_jobs DROP COLUMN clip", in: url)
        _ = try psql("DELETE FROM avatarize_schema_migrations WHERE version >= 5", in: url)
        XCTAssertEqual(try psql("SELECT count(*) FROM information_schema.columns WHERE column_name = 'identity_figure'", in: url), "0")

        let queue = try await backend.openQueue(url)
        XCTAssertEqual(try psql("SELECT max(version) FROM avatarize_schema_migrations", in: url), "\(PostgresMigrations.latestVersion)")
        try await QueueScenarios.migratedJobTakesAFigure(queue, id: ids[0])
    }

    /// A queue made before row versions and clips (schema version 6, with jobs and pieces in it) gains them on the
    /// next migrate and loses nothing.
    func testADatabaseFromBeforeRowVersionsIsMigrated() async throws {
        let directory = try TemporaryDirectory("schema-v6")
        let url = try backend.makeQueueURL(in: directory)
        let ids = try await QueueScenarios.queueFromBeforeRowVersions(try await backend.openQueue(url))
        _ = try psql("DROP FUNCTION avatarize_bump_version CASCADE", in: url)
        _ = try psql("ALTER TABLE avatarize_jobs DROP COLUMN version", in: url)
        _ = try psql("ALTER TABLE avatarize_pieces DROP COLUMN version", in: url)
        _ = try psql("ALTER TABLE avatarize_jobs DROP COLUMN clip", in: url)
        _ = try psql("DELETE FROM avatarize_schema_migrations WHERE version >= 7", in: url)

        let queue = try await backend.openQueue(url)
        XCTAssertEqual(try psql("SELECT max(version) FROM avatarize_schema_migrations", in: url), "\(PostgresMigrations.latestVersion)")
        try await QueueScenarios.migratedQueueKeptItsWork(queue, ids: ids)
    }

    func testWrongPasswordErrorDoesNotShowThePassword() async throws {
        let cluster = try XCTUnwrap(Self.cluster)
        let wrong = "not-the-password-\(UUID().uuidString.prefix(6))"
        let url = "postgres://postgres:\(wrong)@127.0.0.1:\(cluster.port)/postgres?sslmode=disable"
        do {
            _ = try await backend.openQueue(url)
            XCTFail("connecting with a wrong password must fail")
        } catch {
            let text = "\(error)"
            XCTAssertFalse(text.contains(wrong), text)
            XCTAssertFalse(text.contains(cluster.password), text)
            XCTAssertTrue(text.contains("127.0.0.1 port \(cluster.port)") && text.contains("Check the password (taken from the URL)"), text)
        }
    }
}
