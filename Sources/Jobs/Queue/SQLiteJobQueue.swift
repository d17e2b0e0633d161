import Foundation
import GRDB
import Pipeline

/// The embedded queue: one SQLite file in WAL mode, shared by any number of worker processes on one machine.
/// Every state change is an IMMEDIATE transaction (GRDB's default for writes), which takes SQLite's single write
/// lock up front; that serialises claims across processes, so two workers can never claim the same job.
/// Times are stored as Unix seconds (REAL) so that comparisons are plain numeric ones.
public final class SQLiteJobQueue: JobQueue {
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
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-jobs") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS avatarize_jobs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    key TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    priority INTEGER NOT NULL DEFAULT 0,
                    state TEXT NOT NULL CHECK (state IN ('queued','running','succeeded','dead','cancelled')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
                    run_after REAL NOT NULL,
                    lease_owner TEXT,
                    lease_expires_at REAL,
                    last_error TEXT,
                    progress_done INTEGER NOT NULL DEFAULT 0,
                    progress_total INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    finished_at REAL
                );
                CREATE INDEX IF NOT EXISTS avatarize_jobs_claim ON avatarize_jobs (state, priority DESC, id);
                CREATE TABLE IF NOT EXISTS avatarize_job_events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    job_id INTEGER NOT NULL REFERENCES avatarize_jobs (id) ON DELETE CASCADE,
                    at REAL NOT NULL,
                    event TEXT NOT NULL,
                    worker TEXT,
                    detail TEXT
                );
                CREATE INDEX IF NOT EXISTS avatarize_job_events_job ON avatarize_job_events (job_id, id);
                """)
        }
        // finishing: the staged output of an attempt that is being moved into place; cleanup_pending: a dead or
        // cancelled job whose staging folder a worker still has to remove.
        migrator.registerMigration("v2-finishing-cleanup") { db in
            try db.execute(sql: """
                ALTER TABLE avatarize_jobs ADD COLUMN finishing TEXT;
                ALTER TABLE avatarize_jobs ADD COLUMN cleanup_pending INTEGER NOT NULL DEFAULT 0;
                """)
        }
        // The dashboard's browsing queries (QueueBrowsing): keyset pages per state, the last hour's finished jobs,
        // and the workers seen lately, each a range scan of an index rather than of the table.
        migrator.registerMigration("v3-browsing") { db in
            try db.execute(sql: """
                CREATE INDEX IF NOT EXISTS avatarize_jobs_state_id ON avatarize_jobs (state, id);
                CREATE INDEX IF NOT EXISTS avatarize_jobs_state_finished ON avatarize_jobs (state, finished_at);
                CREATE INDEX IF NOT EXISTS avatarize_job_events_at ON avatarize_job_events (at);
                """)
        }
        // Search by input or output name: an FTS5 table with the trigram tokenizer (SQLite 3.34+) whose rowid is the
        // job's id, kept by triggers. Contentless (content=''), since a phrase of trigrams is matched from positions
        // alone and the names already live in the payload; a contentless row is removed by the 'delete' command
        // with the values it was indexed with. Also the queued jobs waiting out a retry's backoff: only a failed
        // attempt sets run_after in the future, so they are the queued jobs with attempts > 0, a small partial index
        // (one the claim query, which does not ask for attempts > 0, cannot pick instead of its own). And claims by
        // time, where the throughput's window starts (the hour's first claim is found without passing its enqueues).
        migrator.registerMigration("v4-name-search-and-retries") { db in
            func names(_ row: String) -> String {
                ["input", "output"].map { "CASE WHEN json_valid(\(row).payload) THEN json_extract(\(row).payload, '$.\($0)') END" }
                    .joined(separator: ", ")
            }
            try db.execute(sql: """
                CREATE VIRTUAL TABLE IF NOT EXISTS avatarize_job_names USING fts5(input, output, content = '', tokenize = 'trigram');
                INSERT INTO avatarize_job_names (rowid, input, output) SELECT id, \(names("avatarize_jobs")) FROM avatarize_jobs;
                CREATE TRIGGER IF NOT EXISTS avatarize_jobs_names_added AFTER INSERT ON avatarize_jobs BEGIN
                    INSERT INTO avatarize_job_names (rowid, input, output) VALUES (new.id, \(names("new")));
                END;
                CREATE TRIGGER IF NOT EXISTS avatarize_jobs_names_removed AFTER DELETE ON avatarize_jobs BEGIN
                    INSERT INTO avatarize_job_names (avatarize_job_names, rowid, input, output) VALUES ('delete', old.id, \(names("old")));
                END;
                CREATE INDEX IF NOT EXISTS avatarize_jobs_waiting_retry ON avatarize_jobs (run_after) WHERE state = 'queued' AND attempts > 0;
                CREATE INDEX IF NOT EXISTS avatarize_job_events_claims ON avatarize_job_events (at) WHERE event = 'claimed';
                """)
        }
        // An avatar job's identity figure (JobRecord.identity), JSON, kept with its finished output.
        migrator.registerMigration("v5-identity-figure") { db in
            try db.execute(sql: "ALTER TABLE avatarize_jobs ADD COLUMN identity_figure TEXT")
        }
        // The piece ledger (PieceMaker): who makes each intermediate file of a shared clip, under a lease, and how many
        // times it was made.
        migrator.registerMigration("v6-pieces") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS avatarize_pieces (
                    key TEXT PRIMARY KEY,
                    state TEXT NOT NULL CHECK (state IN ('making','done')),
                    owner TEXT,
                    lease_expires_at REAL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    made_at REAL
                );
                """)
        }
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

    public func enqueue(_ specs: [JobSpec]) async throws -> EnqueueSummary {
        try await write { db in
            let now = Self.now()
            var inserted: [Int64] = []
            for spec in specs {
                try db.execute(
                    sql: """
                        INSERT INTO avatarize_jobs (key, kind, payload, priority, state, attempts, max_attempts, run_after,
                                                    created_at, updated_at)
                        VALUES (?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?)
                        ON CONFLICT (key) DO NOTHING
                        """,
                    arguments: [spec.key, spec.kind, spec.payload, spec.priority, spec.maxAttempts, now, now, now])
                if db.changesCount == 1 {
                    let id = db.lastInsertedRowID
                    inserted.append(id)
                    try Self.record(db, id, .enqueued, worker: nil, detail: nil, at: now)
                }
            }
            return EnqueueSummary(inserted: inserted, existing: specs.count - inserted.count)
        }
    }

    public func claim(worker: String, lease: TimeInterval) async throws -> JobRecord? {
        try await write { db in
            let now = Self.now()
            try Self.sweepExpiredLeases(db, now: now)
            guard let id = try Int64.fetchOne(db, sql: """
                SELECT id FROM avatarize_jobs
                WHERE state = 'queued' AND run_after <= ?
                ORDER BY priority DESC, id
                LIMIT 1
                """, arguments: [now]) else { return nil }
            try db.execute(sql: """
                UPDATE avatarize_jobs
                SET state = 'running', attempts = attempts + (CASE WHEN finishing IS NULL THEN 1 ELSE 0 END),
                    identity_figure = (CASE WHEN finishing IS NULL THEN NULL ELSE identity_figure END),
                    lease_owner = ?, lease_expires_at = ?, updated_at = ?,
                    progress_done = 0, progress_total = 0
                WHERE id = ?
                """, arguments: [worker, now + lease, now, id])
            let record = try Self.fetch(db, id: id)
            let detail = record.finishing == nil ? "attempt \(record.attempts) of \(record.maxAttempts)"
                : "to finish moving the output of attempt \(record.attempts) into place"
            try Self.record(db, id, .claimed, worker: worker, detail: detail, at: now)
            return record
        }
    }

    /// Running jobs whose worker stopped heartbeating: back to the queue, or dead on their last attempt.
    private static func sweepExpiredLeases(_ db: Database, now: Double) throws {
        let rows = try Row.fetchAll(db, sql: """
            SELECT id, lease_owner, attempts, max_attempts, finishing FROM avatarize_jobs
            WHERE state = 'running' AND lease_expires_at < ?
            """, arguments: [now])
        for row in rows {
            let id: Int64 = row["id"]
            let owner: String? = row["lease_owner"]
            let attempts: Int = row["attempts"]
            let maxAttempts: Int = row["max_attempts"]
            let finishing: String? = row["finishing"]
            let message = "lease of worker \(owner ?? "?") expired during attempt \(attempts) of \(maxAttempts)"
            // A job that was moving its finished output into place is never dead: the next claim finishes the move.
            if attempts >= maxAttempts, finishing == nil {
                try db.execute(sql: """
                    UPDATE avatarize_jobs
                    SET state = 'dead', lease_owner = NULL, lease_expires_at = NULL, last_error = ?, updated_at = ?, finished_at = ?,
                        cleanup_pending = 1
                    WHERE id = ?
                    """, arguments: [message, now, now, id])
                try record(db, id, .dead, worker: owner, detail: message, at: now)
            } else {
                try db.execute(sql: """
                    UPDATE avatarize_jobs
                    SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, last_error = ?, run_after = ?, updated_at = ?
                    WHERE id = ?
                    """, arguments: [message, now, now, id])
                try record(db, id, .expired, worker: owner, detail: message, at: now)
            }
        }
    }

    public func heartbeat(id: Int64, worker: String, lease: TimeInterval, progress: JobProgress?) async throws -> LeaseStatus {
        try await write { db in
            let now = Self.now()
            try db.execute(sql: """
                UPDATE avatarize_jobs
                SET lease_expires_at = ?, updated_at = ?,
                    progress_done = COALESCE(?, progress_done), progress_total = COALESCE(?, progress_total)
                WHERE id = ? AND state = 'running' AND lease_owner = ?
                """, arguments: [now + lease, now, progress?.done, progress?.total, id, worker])
            if db.changesCount == 1 { return .held }
            return try Self.lossReason(db, id: id)
        }
    }

    public func complete(id: Int64, worker: String, progress: JobProgress?, beforeCommit: @escaping @Sendable () throws -> Void) async throws -> LeaseStatus {
        try await write { db in
            let now = Self.now()
            try db.execute(sql: """
                UPDATE avatarize_jobs
                SET state = 'succeeded', lease_owner = NULL, lease_expires_at = NULL, updated_at = ?, finished_at = ?,
                    finishing = NULL, progress_done = COALESCE(?, progress_done), progress_total = COALESCE(?, progress_total)
                WHERE id = ? AND state = 'running' AND lease_owner = ?
                """, arguments: [now, now, progress?.done, progress?.total, id, worker])
            guard db.changesCount == 1 else { return try Self.lossReason(db, id: id) }
            try Self.record(db, id, .succeeded, worker: worker, detail: nil, at: now)
            try beforeCommit()
            return .held
        }
    }

    public func markFinishing(id: Int64, worker: String, staged: String, identity: IdentityFigure.Summary?) async throws -> LeaseStatus {
        let figure = try JobRecord.encodeIdentity(identity)
        return try await write { db in
            try db.execute(sql: """
                UPDATE avatarize_jobs SET finishing = ?, identity_figure = ?, updated_at = ?
                WHERE id = ? AND state = 'running' AND lease_owner = ?
                """, arguments: [staged, figure, Self.now(), id, worker])
            if db.changesCount == 1 { return .held }
            return try Self.lossReason(db, id: id)
        }
    }

    public func fail(id: Int64, worker: String, error: String, policy: RetryPolicy, permanent: Bool) async throws -> JobState? {
        try await write { db in
            let now = Self.now()
            guard let row = try Row.fetchOne(db, sql: """
                SELECT attempts, max_attempts FROM avatarize_jobs WHERE id = ? AND state = 'running' AND lease_owner = ?
                """, arguments: [id, worker]) else { return nil }
            let attempts: Int = row["attempts"]
            let maxAttempts: Int = row["max_attempts"]
            if permanent || attempts >= maxAttempts {
                try db.execute(sql: """
                    UPDATE avatarize_jobs
                    SET state = 'dead', lease_owner = NULL, lease_expires_at = NULL, last_error = ?, updated_at = ?, finished_at = ?,
                        finishing = NULL, identity_figure = NULL, cleanup_pending = 1
                    WHERE id = ?
                    """, arguments: [error, now, now, id])
                try Self.record(db, id, .dead, worker: worker, detail: permanent ? "permanent: \(error)" : error, at: now)
                return .dead
            }
            let delay = policy.delay(afterAttempt: attempts)
            try db.execute(sql: """
                UPDATE avatarize_jobs
                SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, last_error = ?, run_after = ?, updated_at = ?,
                    finishing = NULL, identity_figure = NULL
                WHERE id = ?
                """, arguments: [error, now + delay, now, id])
            try Self.record(db, id, .retryScheduled, worker: worker, detail: "in \(Self.seconds(delay)): \(error)", at: now)
            return .queued
        }
    }

    public func release(id: Int64, worker: String) async throws -> Bool {
        try await write { db in
            let now = Self.now()
            try db.execute(sql: """
                UPDATE avatarize_jobs
                SET state = 'queued', attempts = MAX(attempts - 1, 0), lease_owner = NULL, lease_expires_at = NULL,
                    run_after = ?, updated_at = ?
                WHERE id = ? AND state = 'running' AND lease_owner = ?
                """, arguments: [now, now, id, worker])
            guard db.changesCount == 1 else { return false }
            try Self.record(db, id, .released, worker: worker, detail: nil, at: now)
            return true
        }
    }

    public func cancel(id: Int64) async throws -> JobRecord {
        try await write { db in
            let now = Self.now()
            let current = try Self.fetch(db, id: id)
            guard current.state == .queued || current.state == .running else {
                throw QueueError.notCancellable(id: id, state: current.state)
            }
            try db.execute(sql: """
                UPDATE avatarize_jobs
                SET state = 'cancelled', lease_owner = NULL, lease_expires_at = NULL, updated_at = ?, finished_at = ?,
                    cleanup_pending = 1
                WHERE id = ?
                """, arguments: [now, now, id])
            try Self.record(db, id, .cancelled, worker: nil, detail: "was \(current.state.rawValue)", at: now)
            return try Self.fetch(db, id: id)
        }
    }

    public func retry(id: Int64) async throws -> JobRecord {
        try await write { db in
            let now = Self.now()
            let current = try Self.fetch(db, id: id)
            guard current.state == .dead || current.state == .cancelled else {
                throw QueueError.notRetryable(id: id, state: current.state)
            }
            try db.execute(sql: """
                UPDATE avatarize_jobs
                SET state = 'queued', attempts = 0, run_after = ?, updated_at = ?, finished_at = NULL,
                    progress_done = 0, progress_total = 0, cleanup_pending = 0, identity_figure = NULL
                WHERE id = ?
                """, arguments: [now, now, id])
            try Self.record(db, id, .requeued, worker: nil, detail: "was \(current.state.rawValue)", at: now)
            return try Self.fetch(db, id: id)
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

    static func now() -> Double { Date().timeIntervalSince1970 }

    private static func seconds(_ interval: TimeInterval) -> String { String(format: "%.2fs", interval) }

    static func record(_ db: Database, _ id: Int64, _ kind: JobEvent.Kind, worker: String?, detail: String?, at: Double) throws {
        try db.execute(sql: "INSERT INTO avatarize_job_events (job_id, at, event, worker, detail) VALUES (?, ?, ?, ?, ?)",
                       arguments: [id, at, kind.rawValue, worker, detail])
    }

    private static func lossReason(_ db: Database, id: Int64) throws -> LeaseStatus {
        let state = try String.fetchOne(db, sql: "SELECT state FROM avatarize_jobs WHERE id = ?", arguments: [id])
        return state == JobState.cancelled.rawValue ? .cancelled : .lost
    }

    static func fetch(_ db: Database, id: Int64) throws -> JobRecord {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM avatarize_jobs WHERE id = ?", arguments: [id]) else {
            throw QueueError.noSuchJob(id)
        }
        return try decode(row)
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
            finishing: row["finishing"], identity: try JobRecord.decodeIdentity(row["identity_figure"], id: row["id"]))
    }
}
