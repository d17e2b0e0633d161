import Foundation
import PostgresNIO

/// The piece ledger's rows in PostgreSQL; the transitions are the queue core's (`QueueStore+Pieces`).
extension PostgresJobQueue {
    func pieceRow(key: String) async throws -> PieceRow? {
        try await pieceRows("SELECT key, state, owner, lease_expires_at, attempts, made_at, version FROM avatarize_pieces WHERE key = \(key)").first
    }

    func insertPiece(_ row: PieceRow, at now: Date) async throws -> Bool {
        let piece = row.record
        return try await changed("""
            INSERT INTO avatarize_pieces (key, state, owner, lease_expires_at, attempts, created_at, updated_at, made_at)
            VALUES (\(piece.key), \(piece.state.rawValue), \(piece.owner), \(piece.leaseExpiresAt), \(Int64(piece.attempts)),
                    \(now), \(now), \(piece.madeAt))
            ON CONFLICT (key) DO NOTHING
            RETURNING key
            """) == 1
    }

    func updatePiece(_ row: PieceRow, at now: Date) async throws -> Bool {
        let piece = row.record
        return try await changed("""
            UPDATE avatarize_pieces
            SET state = \(piece.state.rawValue), owner = \(piece.owner), lease_expires_at = \(piece.leaseExpiresAt),
                attempts = \(Int64(piece.attempts)), updated_at = \(now), made_at = \(piece.madeAt)
            WHERE key = \(piece.key) AND version = \(row.version)
            RETURNING key
            """) == 1
    }

    func deletePieces(_ keys: [String], in state: PieceRecord.State) async throws -> Int {
        try await changed("DELETE FROM avatarize_pieces WHERE state = \(state.rawValue) AND key = ANY(\(keys)) RETURNING key")
    }

    public func pieces(prefix: String) async throws -> [PieceRecord] {
        try await pieceRows("""
            SELECT key, state, owner, lease_expires_at, attempts, made_at, version FROM avatarize_pieces
            WHERE starts_with(key, \(prefix)) ORDER BY key
            """).map(\.record)
    }

    /// Rows a statement with RETURNING wrote.
    private func changed(_ query: PostgresQuery) async throws -> Int {
        try await run { try await self.client.query(query, logger: self.logger).collect().count }
    }

    private func pieceRows(_ query: PostgresQuery) async throws -> [PieceRow] {
        try await run {
            try await self.client.query(query, logger: self.logger).collect().map { row in
                let (key, name, owner, expires, attempts, made, version) =
                    try row.decode((String, String, String?, Date?, Int64, Date?, Int64).self)
                guard let state = PieceRecord.State(rawValue: name) else { throw QueueError.corruptRow("unknown piece state '\(name)'") }
                return PieceRow(record: PieceRecord(key: key, state: state, owner: owner, leaseExpiresAt: expires,
                                                    attempts: Int(attempts), madeAt: made), version: version)
            }
        }
    }
}
