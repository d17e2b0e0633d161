import Foundation
import PostgresNIO

extension PostgresJobQueue: QueueBrowsing {
    public func page(_ query: JobPageQuery) async throws -> JobPage {
        try await page(query, probe: Self.searchProbe)
    }

    /// `probe`: jobs read by key before a search turns to the trigram indexes (a parameter for the tests).
    func page(_ query: JobPageQuery, probe: Int) async throws -> JobPage {
        guard let search = try query.checkedSearch() else { return try await keysetPage(query) }
        return try await searchPage(query, search: search, probe: probe)
    }

    /// Newest first below the cursor: a backward range scan of the primary key, or of (state, id), one page long.
    private func keysetPage(_ query: JobPageQuery) async throws -> JobPage {
        try await run {
            // Bound parameters throughout: the state and cursor never become SQL.
            var sql = "SELECT * FROM avatarize_jobs WHERE TRUE"
            var bindings = PostgresBindings()
            if let state = query.state { bindings.append(state.rawValue); sql += " AND state = $\(bindings.count)" }
            if let before = query.before { bindings.append(before); sql += " AND id < $\(bindings.count)" }
            bindings.append(Int64(query.limit + 1))
            sql += " ORDER BY id DESC LIMIT $\(bindings.count)"
            let rows = try await self.client.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: self.logger).collect()
            return JobPage(jobs: try rows.map(Self.decode), limit: query.limit)
        }
    }

    /// Jobs read by key before a search turns to the trigram indexes.
    static let searchProbe = 500

    /// A search in two steps, so that neither way PostgreSQL has of answering it reads the whole table. Left to
    /// itself the planner either walks the primary key backwards testing every job (fast when matches are many
    /// and recent, but it reads nearly every job when they are few and old: 300 ms at 100 000 jobs) or takes the
    /// pg_trgm indexes and sorts their matches (cost: the matches). So: (1) the newest `probe` jobs below the
    /// cursor are read by key and tested, which fills the page of a search that matches much; (2) only if they do
    /// not, and there are older jobs, the rest comes from the trigram indexes alone: the key and state comparisons
    /// and the order are written (`id + 0`, `state || ''`) so that no other index can serve them, and sequential
    /// scans are switched off for that one statement, which leaves the bitmap of the trigram matches, sorted.
    private func searchPage(_ query: JobPageQuery, search: String, probe: Int) async throws -> JobPage {
        let pattern = JobPageQuery.likePattern(search)
        let wanted = query.limit + 1
        let ids: [Int64] = try await transaction { connection in
            var bindings = PostgresBindings()
            bindings.append(pattern)
            var sql = """
                SELECT id, COALESCE((payload::jsonb ->> 'input') ILIKE $1 OR (payload::jsonb ->> 'output') ILIKE $1, false)
                FROM avatarize_jobs WHERE TRUE
                """
            if let state = query.state { bindings.append(state.rawValue); sql += " AND state = $\(bindings.count)" }
            if let before = query.before { bindings.append(before); sql += " AND id < $\(bindings.count)" }
            bindings.append(Int64(probe))
            sql += " ORDER BY id DESC LIMIT $\(bindings.count)"
            let probed = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: self.logger).collect()
                .map { try $0.decode((Int64, Bool).self) }
            var ids = Array(probed.filter(\.1).map(\.0).prefix(wanted))
            guard ids.count < wanted, probed.count == probe, let lowest = probed.last?.0 else { return ids }
            try await connection.query("SET LOCAL enable_seqscan = off", logger: self.logger)
            var older = PostgresBindings()
            older.append(pattern)
            older.append(lowest)
            var rest = """
                SELECT id FROM avatarize_jobs
                WHERE ((payload::jsonb ->> 'input') ILIKE $1 OR (payload::jsonb ->> 'output') ILIKE $1) AND id + 0 < $2
                """
            if let state = query.state { older.append(state.rawValue); rest += " AND state || '' = $\(older.count)" }
            older.append(Int64(wanted - ids.count))
            rest += " ORDER BY id + 0 DESC LIMIT $\(older.count)"
            ids += try await connection.query(PostgresQuery(unsafeSQL: rest, binds: older), logger: self.logger).collect()
                .map { try $0.decode(Int64.self) }
            return ids
        }
        guard !ids.isEmpty else { return JobPage(jobs: [], limit: query.limit) }
        return try await run {
            let rows = try await self.client.query("SELECT * FROM avatarize_jobs WHERE id = ANY(\(ids)) ORDER BY id DESC",
                                                   logger: self.logger).collect()
            return JobPage(jobs: try rows.map(Self.decode), limit: query.limit)
        }
    }

    public func throughput(since: Date) async throws -> QueueThroughput {
        try await run {
            let rows = try await self.client.query("""
                SELECT COUNT(*), COALESCE(SUM(progress_total), 0)::BIGINT FROM avatarize_jobs
                WHERE state = 'succeeded' AND finished_at >= \(since)
                """, logger: self.logger).collect()
            let (n, frames): (Int64, Int64) = try rows.first.map { try $0.decode((Int64, Int64).self) } ?? (0, 0)
            let first = try await self.client.query("""
                SELECT MIN(at) FROM avatarize_job_events WHERE at >= \(since) AND event = 'claimed'
                """, logger: self.logger).collect()
            let firstClaim = try first.first?.decode(Date?.self)
            return QueueThroughput(since: since, firstClaim: firstClaim ?? nil, jobs: Int(n), frames: Int(frames))
        }
    }

    public func workers(since: Date) async throws -> [WorkerSighting] {
        try await run {
            let events = try await self.client.query("""
                SELECT worker, MAX(at) FROM avatarize_job_events WHERE at >= \(since) AND worker IS NOT NULL GROUP BY worker
                """, logger: self.logger).collect().map { try $0.decode((String, Date).self) }
            let running = try await self.client.query("""
                SELECT lease_owner, updated_at, id FROM avatarize_jobs WHERE state = 'running' AND lease_owner IS NOT NULL
                """, logger: self.logger).collect().map { try $0.decode((String, Date, Int64).self) }
            return WorkerSighting.merge(events: events, running: running)
        }
    }

    public func waitingRetryCount() async throws -> Int {
        try await run {
            // Only a failed attempt puts run_after in the future: attempts > 0 lets the partial index answer.
            let rows = try await self.client.query("""
                SELECT COUNT(*) FROM avatarize_jobs WHERE state = 'queued' AND attempts > 0 AND run_after > now()
                """, logger: self.logger).collect()
            return Int(try rows.first?.decode(Int64.self) ?? 0)
        }
    }

    public func recentFailures(limit: Int) async throws -> [JobRecord] {
        try await run {
            try await self.client.query("""
                SELECT * FROM avatarize_jobs WHERE state = 'dead' ORDER BY finished_at DESC LIMIT \(Int64(limit))
                """, logger: self.logger).collect().map(Self.decode)
        }
    }
}

extension PostgresJobQueue {
    public func jobIDs(keys: [String]) async throws -> [String: Int64] {
        guard !keys.isEmpty else { return [:] }
        return try await run {
            var ids: [String: Int64] = [:]
            for try await (key, id) in try await self.client.query("SELECT key, id FROM avatarize_jobs WHERE key = ANY(\(keys))",
                                                                   logger: self.logger).decode((String, Int64).self) {
                ids[key] = id
            }
            return ids
        }
    }

    public func submission(idempotencyKey: String) async throws -> StoredSubmission? {
        try await run {
            let rows = try await self.client.query("""
                SELECT request_digest, job_ids FROM avatarize_api_submissions WHERE idempotency_key = \(idempotencyKey)
                """, logger: self.logger).collect()
            guard let row = rows.first else { return nil }
            let (digest, ids) = try row.decode((String, [Int64]).self)
            return StoredSubmission(idempotencyKey: idempotencyKey, requestDigest: digest, jobIDs: ids)
        }
    }

    public func recordSubmission(_ submission: StoredSubmission) async throws -> StoredSubmission {
        try await run {
            try await self.client.query("""
                INSERT INTO avatarize_api_submissions (idempotency_key, request_digest, job_ids)
                VALUES (\(submission.idempotencyKey), \(submission.requestDigest), \(submission.jobIDs))
                ON CONFLICT (idempotency_key) DO NOTHING
                """, logger: self.logger)
        }
        guard let stored = try await self.submission(idempotencyKey: submission.idempotencyKey) else {
            throw QueueError.database("the submission under \(submission.idempotencyKey) vanished as it was recorded")
        }
        return stored
    }

    public func completeSubmission(idempotencyKey: String, jobIDs: [Int64]) async throws {
        try await run {
            try await self.client.query("""
                UPDATE avatarize_api_submissions SET job_ids = \(jobIDs) WHERE idempotency_key = \(idempotencyKey)
                """, logger: self.logger)
        }
    }
}
