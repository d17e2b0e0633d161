import Foundation
import PostgresNIO

extension PostgresJobQueue: QueueBrowsing {
    public func page(_ query: JobPageQuery) async throws -> JobPage {
        let search = try query.checkedSearch()
        return try await run {
            // Bound parameters throughout: the state, cursor and search text never become SQL.
            var sql = "SELECT * FROM avatarize_jobs WHERE TRUE"
            var bindings = PostgresBindings()
            if let state = query.state { bindings.append(state.rawValue); sql += " AND state = $\(bindings.count)" }
            if let before = query.before { bindings.append(before); sql += " AND id < $\(bindings.count)" }
            // Each side of the OR has its pg_trgm index (migration 4); the planner takes them when the search is
            // selective and walks the primary key backwards when almost everything matches.
            if let search {
                bindings.append(JobPageQuery.likePattern(search))
                let n = bindings.count
                sql += " AND ((payload::jsonb ->> 'input') ILIKE $\(n) OR (payload::jsonb ->> 'output') ILIKE $\(n))"
            }
            bindings.append(Int64(query.limit + 1))
            sql += " ORDER BY id DESC LIMIT $\(bindings.count)"
            let rows = try await self.client.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: self.logger).collect()
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

    public func requeue(id: Int64, priority: Int) async throws -> JobRecord {
        try await transaction { connection in
            let current = try await self.lockedRecord(connection, id: id)
            let p = Int64(priority)
            switch current.state {
            case .queued:
                try await connection.query("UPDATE avatarize_jobs SET priority = \(p), updated_at = now() WHERE id = \(id)", logger: self.logger)
            case .dead, .cancelled:
                try await connection.query("""
                    UPDATE avatarize_jobs
                    SET state = 'queued', priority = \(p), attempts = 0, run_after = now(), updated_at = now(), finished_at = NULL,
                        progress_done = 0, progress_total = 0
                    WHERE id = \(id)
                    """, logger: self.logger)
            case .running, .succeeded:
                throw QueueError.notRetryable(id: id, state: current.state)
            }
            try await self.record(connection, id, .requeued, worker: nil,
                                  detail: "was \(current.state.rawValue), priority \(current.priority) → \(priority)")
            return try await self.lockedRecord(connection, id: id)
        }
    }
}
