import Foundation
import PostgresNIO

/// The piece ledger in PostgreSQL. A claim is one INSERT … ON CONFLICT DO UPDATE … WHERE: the row lock it takes
/// makes "new, or its maker's lease expired, or done with its file gone" and the takeover one atomic step, and
/// leases are measured by the server's clock, so machines with skewed clocks agree on when a maker is presumed dead.
extension PostgresJobQueue {
    public func claimPiece(_ key: String, owner: String, lease: TimeInterval, fileMissing: Bool) async throws -> PieceClaim {
        try await run {
            let claimed = try await self.client.query("""
                INSERT INTO avatarize_pieces AS p (key, state, owner, lease_expires_at, attempts, created_at, updated_at)
                VALUES (\(key), 'making', \(owner), now() + make_interval(secs => \(lease)), 1, now(), now())
                ON CONFLICT (key) DO UPDATE
                SET state = 'making', owner = EXCLUDED.owner, lease_expires_at = EXCLUDED.lease_expires_at,
                    attempts = p.attempts + 1, updated_at = now(), made_at = NULL
                WHERE (p.state = 'making' AND p.lease_expires_at < now()) OR (p.state = 'done' AND \(fileMissing))
                RETURNING attempts
                """, logger: self.logger).collect()
            if let row = claimed.first { return .make(attempt: Int(try row.decode(Int64.self))) }
            // Not ours: say why. The row may have changed since (a busy piece finished): the caller asks again anyway.
            let rows = try await self.client.query("SELECT state, owner FROM avatarize_pieces WHERE key = \(key)",
                                                   logger: self.logger).collect()
            guard let row = rows.first else { return .busy(owner: nil) }
            let (state, holder) = try row.decode((String, String?).self)
            return state == PieceRecord.State.done.rawValue ? .done : .busy(owner: holder)
        }
    }

    public func renewPiece(_ key: String, owner: String, lease: TimeInterval) async throws -> Bool {
        try await run {
            !(try await self.client.query("""
                UPDATE avatarize_pieces SET lease_expires_at = now() + make_interval(secs => \(lease)), updated_at = now()
                WHERE key = \(key) AND state = 'making' AND owner = \(owner)
                RETURNING key
                """, logger: self.logger).collect().isEmpty)
        }
    }

    public func finishPiece(_ key: String, owner: String) async throws -> Bool {
        try await run {
            !(try await self.client.query("""
                UPDATE avatarize_pieces SET state = 'done', lease_expires_at = NULL, updated_at = now(), made_at = now()
                WHERE key = \(key) AND state = 'making' AND owner = \(owner)
                RETURNING key
                """, logger: self.logger).collect().isEmpty)
        }
    }

    public func abandonPiece(_ key: String, owner: String) async throws {
        _ = try await run {
            try await self.client.query("""
                UPDATE avatarize_pieces SET lease_expires_at = '-infinity', updated_at = now()
                WHERE key = \(key) AND state = 'making' AND owner = \(owner)
                """, logger: self.logger).collect()
        }
    }

    @discardableResult
    public func forgetPieces(_ keys: [String]) async throws -> Int {
        if keys.isEmpty { return 0 }
        return try await run {
            try await self.client.query("""
                DELETE FROM avatarize_pieces WHERE state = 'done' AND key = ANY(\(keys)) RETURNING key
                """, logger: self.logger).collect().count
        }
    }

    public func pieces(prefix: String) async throws -> [PieceRecord] {
        try await run {
            let rows = try await self.client.query("""
                SELECT key, state, owner, lease_expires_at, attempts, made_at FROM avatarize_pieces
                WHERE starts_with(key, \(prefix)) ORDER BY key
                """, logger: self.logger).collect()
            return try rows.map { row in
                let (key, name, owner, expires, attempts, made) = try row.decode((String, String, String?, Date?, Int64, Date?).self)
                guard let state = PieceRecord.State(rawValue: name) else { throw QueueError.corruptRow("unknown piece state '\(name)'") }
                return PieceRecord(key: key, state: state, owner: owner, leaseExpiresAt: expires, attempts: Int(attempts), madeAt: made)
            }
        }
    }
}
