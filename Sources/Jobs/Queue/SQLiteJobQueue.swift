import Foundation
import GRDB
import Pipeline

/// The embedded queue: one SQLite file in WAL mode, shared by any number of worker processes on one machine.
/// Every state change is an IMMEDIATE transaction (GRDB's default for writes), which takes SQLite's single write
/// lock up front; that serialises claims across processes, so two workers can never claim the same job.
/// Times are stored as Unix seconds (REAL) so that comparisons are plain numeric ones.
public final class SQLiteJobQueue: JobQueue, QueueStore {
    public let path: String
    let pool: DatabasePool

    public var displayLocation: String { "sqlite:\(path)" }

    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        // Other processes hold the write lock for a few milliseconds per state change; wait rather than fail.
        configuration.busyMode = .timeout(30)
        configuration.label = "avatarize-queue"
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            // DatabasePool opens the file in WAL mode, which lets readers (status, list) run beside a writer.
            // Switching a new file to WAL needs a moment of exclusive access and SQLite answers BUSY at once
            // (no busy handler) when another process is doing the same: try again briefly.
            var opened: DatabasePool?
            for attempt in 0..<20 {
                do {
                    opened = try DatabasePool(path: path, configuration: configuration)
                    break
                } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && attempt < 19 {
                    usleep(UInt32(10_000 * (attempt + 1)))
                }
            }
            pool = opened!
        } catch {
            throw QueueError.database("cannot open \(path): \(error)")
        }
    }

    public func migrate() async throws {
        let migrator = SQLiteMigrations.migrator
        // Several processes may open a new queue file at once: their migrators can race to the same step.
        // The DDL is idempotent, and a loser succeeds once it sees the winner's migration recorded.
        let finished = migrator
        var lastError: (any Error)?
        for attempt in 0..<5 {
            do {
                try migrator.migrate(pool)
                return
            } catch {
                lastError = error
                if (try? await pool.read({ db in try finished.hasCompletedMigrations(db) })) == true { return }
                try await Task.sleep(nanoseconds: UInt64(20_000_000 * (attempt + 1)))
            }
        }
        throw QueueError.migrationFailed(version: 1, reason: "\(lastError.map { "\($0)" } ?? "unknown")")
    }

    // MARK: - QueueStore

    /// SQLite's clock is its machine's: WAL mode needs every process that opens the file on one machine.
    func now() async throws -> Date { Date() }

    func insertJobs(_ specs: [JobSpec], at now: Date) async throws -> [Int64?] {
        try await write { db in
            try specs.map { spec -> Int64? in
                try db.execute(
                    sql: """
                        INSERT INTO avatarize_jobs (key, kind, payload, priority, state, attempts, max_attempts, run_after,
                                                    created_at, updated_at, clip)
                        VALUES (?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?)
                        ON CONFLICT (key) DO NOTHING
                        """,
                    arguments: [spec.key, spec.kind, spec.payload, spec.priority, spec.maxAttempts, now.timeIntervalSince1970,
                                now.timeIntervalSince1970, now.timeIntervalSince1970, spec.clip])
                guard db.changesCount == 1 else { return nil }
                let id = db.lastInsertedRowID
                try Self.record(db, JobEvent(jobID: id, at: now, kind: .enqueued, worker: nil, detail: nil))
                return id
            }
        }
    }

    func jobRow(id: Int64) async throws -> JobRow? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM avatarize_jobs WHERE id = ?", arguments: [id]).map(Self.decodeRow)
        }
    }

    func claimableJobs(at now: Date, limit: Int) async throws -> [JobRow] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM avatarize_jobs WHERE state = 'queued' AND run_after <= ? ORDER BY priority DESC, id LIMIT ?
                """, arguments: [now.timeIntervalSince1970, limit]).map(Self.decodeRow)
        }
    }

    func expiredJobs(at now: Date) async throws -> [JobRow] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM avatarize_jobs WHERE state = 'running' AND lease_expires_at < ?",
                             arguments: [now.timeIntervalSince1970]).map(Self.decodeRow)
        }
    }

    func updateJob(_ row: JobRow, event: JobEvent?, durable: Bool, beforeCommit: (@Sendable () throws -> Void)?) async throws -> Bool {
        let job = row.record
        let arguments: StatementArguments = [
            job.state.rawValue, job.priority, job.attempts, job.runAfter.timeIntervalSince1970, job.leaseOwner,
            job.leaseExpiresAt?.timeIntervalSince1970, job.lastError, job.progressDone, job.progressTotal,
            job.updatedAt.timeIntervalSince1970, job.finishedAt?.timeIntervalSince1970, job.finishing,
            try JobRecord.encodeIdentity(job.identity), job.precision, row.cleanupPending, job.id, row.version,
        ]
        return try await write { db in
            try db.execute(sql: """
                UPDATE avatarize_jobs
                SET state = ?, priority = ?, attempts = ?, run_after = ?, lease_owner = ?, lease_expires_at = ?, last_error = ?,
                    progress_done = ?, progress_total = ?, updated_at = ?, finished_at = ?, finishing = ?, identity_figure = ?,
                    precision = ?, cleanup_pending = ?
                WHERE id = ? AND version = ?
                """, arguments: arguments)
            guard db.changesCount == 1 else { return false }
            if let event { try Self.record(db, event) }
            try beforeCommit?()
            return true
        }
    }

    public func pendingCleanups(limit: Int) async throws -> [JobRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM avatarize_jobs WHERE cleanup_pending = 1 AND state IN ('dead', 'cancelled') ORDER BY id LIMIT ?
                """, arguments: [limit]).map(Self.decode)
        }
    }

    public func markCleaned(id: Int64) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE avatarize_jobs SET cleanup_pending = 0 WHERE id = ?", arguments: [id])
        }
    }

    public func job(id: Int64) async throws -> JobRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM avatarize_jobs WHERE id = ?", arguments: [id]).map(Self.decode)
        }
    }

    public func jobs(state: JobState?, limit: Int) async throws -> [JobRecord] {
        try await read { db in
            let rows: [Row]
            if let state {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM avatarize_jobs WHERE state = ? ORDER BY id LIMIT ?",
                                        arguments: [state.rawValue, limit])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM avatarize_jobs ORDER BY id LIMIT ?", arguments: [limit])
            }
            return try rows.map(Self.decode)
        }
    }

    public func events(jobID: Int64) async throws -> [JobEvent] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM avatarize_job_events WHERE job_id = ? ORDER BY id", arguments: [jobID]).map { row in
                let name: String = row["event"]
                guard let kind = JobEvent.Kind(rawValue: name) else { throw QueueError.corruptRow("unknown event '\(name)'") }
                return JobEvent(jobID: row["job_id"], at: Date(timeIntervalSince1970: row["at"]), kind: kind,
                                worker: row["worker"], detail: row["detail"])
            }
        }
    }

    public func counts() async throws -> [JobState: Int] {
        try await read { db in
            var counts: [JobState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM avatarize_jobs GROUP BY state") {
                let name: String = row["state"]
                guard let state = JobState(rawValue: name) else { throw QueueError.corruptRow("unknown state '\(name)'") }
                counts[state] = row["n"]
            }
            return counts
        }
    }

    public func clipsInUse() async throws -> Set<String> {
        try await read { db in Set(try String.fetchAll(db, sql: Self.clipsInUseQuery)) }
    }

    /// Answered from the partial index alone (`SQLiteQueueTests.testClipsInUseComeFromAnIndex` checks the plan); SQLite
    /// without statistics would rather take an index on state (every job of those states), hence INDEXED BY.
    static let clipsInUseQuery = """
        SELECT DISTINCT clip FROM avatarize_jobs INDEXED BY avatarize_jobs_clips_in_use
        WHERE state IN ('queued', 'running') AND clip IS NOT NULL
        """

    public func close() async throws {
        do { try pool.close() } catch { throw QueueError.database("closing \(path): \(error)") }
    }

    // MARK: - Helpers

    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch let error as DatabaseError {
            throw QueueError.database("\(error)")
        }
        // Anything else (a QueueError, or the caller's own error from `beforeCommit`) passes through unchanged.
    }

    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as DatabaseError {
            throw QueueError.database("\(error)")
        }
        // Anything else (a QueueError, or the caller's own error from `beforeCommit`) passes through unchanged.
    }

    static func record(_ db: Database, _ event: JobEvent) throws {
        try db.execute(sql: "INSERT INTO avatarize_job_events (job_id, at, event, worker, detail) VALUES (?, ?, ?, ?, ?)",
                       arguments: [event.jobID, event.at.timeIntervalSince1970, event.kind.rawValue, event.worker, event.detail])
    }

    static func decodeRow(_ row: Row) throws -> JobRow {
        JobRow(record: try decode(row), cleanupPending: row["cleanup_pending"], version: row["version"])
    }

    static func decode(_ row: Row) throws -> JobRecord {
        let stateName: String = row["state"]
        guard let state = JobState(rawValue: stateName) else { throw QueueError.corruptRow("unknown state '\(stateName)'") }
        func date(_ column: String) -> Date? {
            (row[column] as Double?).map(Date.init(timeIntervalSince1970:))
        }
        return JobRecord(
            id: row["id"], key: row["key"], kind: row["kind"], payload: row["payload"], priority: row["priority"],
            state: state, attempts: row["attempts"], maxAttempts: row["max_attempts"],
            runAfter: date("run_after") ?? Date(timeIntervalSince1970: 0),
            leaseOwner: row["lease_owner"], leaseExpiresAt: date("lease_expires_at"), lastError: row["last_error"],
            progressDone: row["progress_done"], progressTotal: row["progress_total"],
            createdAt: date("created_at") ?? Date(timeIntervalSince1970: 0),
            updatedAt: date("updated_at") ?? Date(timeIntervalSince1970: 0), finishedAt: date("finished_at"),
            finishing: row["finishing"], identity: try JobRecord.decodeIdentity(row["identity_figure"], id: row["id"]),
            precision: row["precision"])
    }
}
