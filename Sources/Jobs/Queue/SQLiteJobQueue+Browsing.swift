import Foundation
import GRDB

extension SQLiteJobQueue: QueueBrowsing {
    public func page(_ query: JobPageQuery) async throws -> JobPage {
        let (sql, arguments) = try Self.pageStatement(query)
        return try await read { db in
            JobPage(jobs: try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.decode), limit: query.limit)
        }
    }

    /// The page's SQL (one row more than the page, to know whether another follows) and its arguments.
    static func pageStatement(_ query: JobPageQuery) throws -> (String, StatementArguments) {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        let sql: String
        if let search = try query.checkedSearch() {
            // Newest first through the name index itself: FTS5 walks its rowids (the job ids) downwards and stops
            // at the page's end, so a search costs its matches, never a pass over every job.
            conditions.append("avatarize_job_names MATCH ?"); arguments += [JobPageQuery.trigramPhrase(search)]
            if let before = query.before { conditions.append("n.rowid < ?"); arguments += [before] }
            if let state = query.state { conditions.append("j.state = ?"); arguments += [state.rawValue] }
            sql = "SELECT j.* FROM avatarize_job_names n JOIN avatarize_jobs j ON j.id = n.rowid WHERE "
                + conditions.joined(separator: " AND ") + " ORDER BY n.rowid DESC LIMIT ?"
        } else {
            if let state = query.state { conditions.append("state = ?"); arguments += [state.rawValue] }
            if let before = query.before { conditions.append("id < ?"); arguments += [before] }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            sql = "SELECT * FROM avatarize_jobs \(filter) ORDER BY id DESC LIMIT ?"
        }
        arguments += [query.limit + 1]
        return (sql, arguments)
    }

    public func throughput(since: Date) async throws -> QueueThroughput {
        try await read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT COUNT(*) AS n, COALESCE(SUM(progress_total), 0) AS frames FROM avatarize_jobs
                WHERE state = 'succeeded' AND finished_at >= ?
                """, arguments: [since.timeIntervalSince1970])
            let firstClaim = try Double.fetchOne(db, sql: """
                SELECT MIN(at) FROM avatarize_job_events INDEXED BY avatarize_job_events_claims WHERE at >= ? AND event = 'claimed'
                """, arguments: [since.timeIntervalSince1970])
            return QueueThroughput(since: since, firstClaim: firstClaim.map(Date.init(timeIntervalSince1970:)),
                                   jobs: row?["n"] ?? 0, frames: row?["frames"] ?? 0)
        }
    }

    public func workers(since: Date) async throws -> [WorkerSighting] {
        try await read { db in
            let events = try Row.fetchAll(db, sql: """
                SELECT worker, MAX(at) AS last FROM avatarize_job_events WHERE at >= ? AND worker IS NOT NULL GROUP BY worker
                """, arguments: [since.timeIntervalSince1970]).map { row -> (String, Date) in
                (row["worker"], Date(timeIntervalSince1970: row["last"]))
            }
            let running = try Row.fetchAll(db, sql: """
                SELECT lease_owner, updated_at, id FROM avatarize_jobs WHERE state = 'running' AND lease_owner IS NOT NULL
                """).map { row -> (String, Date, Int64) in
                (row["lease_owner"], Date(timeIntervalSince1970: row["updated_at"]), row["id"])
            }
            return WorkerSighting.merge(events: events, running: running)
        }
    }

    public func waitingRetryCount() async throws -> Int {
        try await read { db in
            // Only a failed attempt puts run_after in the future: attempts > 0 lets the partial index answer. SQLite
            // without statistics would rather take an index on state (every queued job), hence INDEXED BY.
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM avatarize_jobs INDEXED BY avatarize_jobs_waiting_retry
                WHERE state = 'queued' AND attempts > 0 AND run_after > ?
                """, arguments: [Date().timeIntervalSince1970]) ?? 0
        }
    }

    public func recentFailures(limit: Int) async throws -> [JobRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM avatarize_jobs WHERE state = 'dead' ORDER BY finished_at DESC LIMIT ?",
                             arguments: [limit]).map(Self.decode)
        }
    }
}

extension SQLiteJobQueue {
    public func jobIDs(keys: [String]) async throws -> [String: Int64] {
        guard !keys.isEmpty else { return [:] }
        return try await read { db in
            let marks = Array(repeating: "?", count: keys.count).joined(separator: ",")
            let rows = try Row.fetchAll(db, sql: "SELECT key, id FROM avatarize_jobs WHERE key IN (\(marks))",
                                        arguments: StatementArguments(keys))
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["key"] as String, $0["id"] as Int64) })
        }
    }

    public func submission(idempotencyKey: String) async throws -> StoredSubmission? {
        try await read { db in try Self.submission(db, idempotencyKey) }
    }

    public func recordSubmission(_ submission: StoredSubmission) async throws -> StoredSubmission {
        let ids = String(decoding: try JSONEncoder().encode(submission.jobIDs), as: UTF8.self)
        return try await write { db in
            try db.execute(sql: """
                INSERT INTO avatarize_api_submissions (idempotency_key, request_digest, job_ids, created_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (idempotency_key) DO NOTHING
                """, arguments: [submission.idempotencyKey, submission.requestDigest, ids, Date().timeIntervalSince1970])
            guard let stored = try Self.submission(db, submission.idempotencyKey) else {
                throw QueueError.database("the submission under \(submission.idempotencyKey) vanished as it was recorded")
            }
            return stored
        }
    }

    public func completeSubmission(idempotencyKey: String, jobIDs: [Int64]) async throws {
        let ids = String(decoding: try JSONEncoder().encode(jobIDs), as: UTF8.self)
        try await write { db in
            try db.execute(sql: "UPDATE avatarize_api_submissions SET job_ids = ? WHERE idempotency_key = ?", arguments: [ids, idempotencyKey])
        }
    }

    static func submission(_ db: Database, _ key: String) throws -> StoredSubmission? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM avatarize_api_submissions WHERE idempotency_key = ?", arguments: [key]) else {
            return nil
        }
        let ids = try JSONDecoder().decode([Int64].self, from: Data((row["job_ids"] as String).utf8))
        return StoredSubmission(idempotencyKey: key, requestDigest: row["request_digest"], jobIDs: ids)
    }
}
