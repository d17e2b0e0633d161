import Foundation
import GRDB

/// The piece ledger's rows in SQLite; the transitions are the queue core's (`QueueStore+Pieces`).
extension SQLiteJobQueue {
    func pieceRow(key: String) async throws -> PieceRow? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM avatarize_pieces WHERE key = ?", arguments: [key]).map(Self.decodePiece)
        }
    }

    func insertPiece(_ row: PieceRow, at now: Date) async throws -> Bool {
        let piece = row.record
        return try await write { db in
            try db.execute(sql: """
                INSERT INTO avatarize_pieces (key, state, owner, lease_expires_at, attempts, created_at, updated_at, made_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (key) DO NOTHING
                """, arguments: [piece.key, piece.state.rawValue, piece.owner, piece.leaseExpiresAt?.timeIntervalSince1970,
                                 piece.attempts, now.timeIntervalSince1970, now.timeIntervalSince1970,
                                 piece.madeAt?.timeIntervalSince1970])
            return db.changesCount == 1
        }
    }

    func updatePiece(_ row: PieceRow, at now: Date) async throws -> Bool {
        let piece = row.record
        return try await write { db in
            try db.execute(sql: """
                UPDATE avatarize_pieces SET state = ?, owner = ?, lease_expires_at = ?, attempts = ?, updated_at = ?, made_at = ?
                WHERE key = ? AND version = ?
                """, arguments: [piece.state.rawValue, piece.owner, piece.leaseExpiresAt?.timeIntervalSince1970, piece.attempts,
                                 now.timeIntervalSince1970, piece.madeAt?.timeIntervalSince1970, piece.key, row.version])
            return db.changesCount == 1
        }
    }

    func deletePieces(_ keys: [String], in state: PieceRecord.State) async throws -> Int {
        try await write { db in
            var removed = 0
            // In slices, under SQLite's limit on bound parameters.
            for start in stride(from: 0, to: keys.count, by: 500) {
                let slice = Array(keys[start..<min(start + 500, keys.count)])
                let marks = Array(repeating: "?", count: slice.count).joined(separator: ", ")
                try db.execute(sql: "DELETE FROM avatarize_pieces WHERE state = ? AND key IN (\(marks))",
                               arguments: StatementArguments([state.rawValue] + slice))
                removed += db.changesCount
            }
            return removed
        }
    }

    public func pieces(prefix: String) async throws -> [PieceRecord] {
        try await read { db in
            // A range on the primary key rather than LIKE, whose wildcards the prefix could contain.
            try Row.fetchAll(db, sql: "SELECT * FROM avatarize_pieces WHERE key >= ? AND key < ? ORDER BY key",
                             arguments: [prefix, prefix + "\u{10FFFF}"]).map { try Self.decodePiece($0).record }
        }
    }

    private static func decodePiece(_ row: Row) throws -> PieceRow {
        let name: String = row["state"]
        guard let state = PieceRecord.State(rawValue: name) else { throw QueueError.corruptRow("unknown piece state '\(name)'") }
        func date(_ column: String) -> Date? { (row[column] as Double?).map(Date.init(timeIntervalSince1970:)) }
        return PieceRow(record: PieceRecord(key: row["key"], state: state, owner: row["owner"], leaseExpiresAt: date("lease_expires_at"),
                                            attempts: row["attempts"], madeAt: date("made_at")),
                        version: row["version"])
    }
}
