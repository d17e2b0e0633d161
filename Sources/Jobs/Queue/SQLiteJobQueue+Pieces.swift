import Foundation
import GRDB

/// The piece ledger in SQLite. Each call is one IMMEDIATE transaction, so the read that decides and the write that
/// claims cannot interleave with another process's.
extension SQLiteJobQueue {
    public func claimPiece(_ key: String, owner: String, lease: TimeInterval, fileMissing: Bool) async throws -> PieceClaim {
        try await write { db in
            let now = Self.now()
            guard let row = try Row.fetchOne(db, sql: """
                SELECT state, owner, lease_expires_at FROM avatarize_pieces WHERE key = ?
                """, arguments: [key]) else {
                try db.execute(sql: """
                    INSERT INTO avatarize_pieces (key, state, owner, lease_expires_at, attempts, created_at, updated_at)
                    VALUES (?, 'making', ?, ?, 1, ?, ?)
                    """, arguments: [key, owner, now + lease, now, now])
                return .make(attempt: 1)
            }
            let state: String = row["state"]
            let expires: Double? = row["lease_expires_at"]
            let takeOver = state == "done" ? fileMissing : (expires ?? 0) < now
            guard takeOver else { return state == "done" ? .done : .busy(owner: row["owner"]) }
            try db.execute(sql: """
                UPDATE avatarize_pieces
                SET state = 'making', owner = ?, lease_expires_at = ?, attempts = attempts + 1, updated_at = ?, made_at = NULL
                WHERE key = ?
                """, arguments: [owner, now + lease, now, key])
            return .make(attempt: try Int.fetchOne(db, sql: "SELECT attempts FROM avatarize_pieces WHERE key = ?", arguments: [key]) ?? 0)
        }
    }

    public func renewPiece(_ key: String, owner: String, lease: TimeInterval) async throws -> Bool {
        try await write { db in
            let now = Self.now()
            try db.execute(sql: """
                UPDATE avatarize_pieces SET lease_expires_at = ?, updated_at = ? WHERE key = ? AND state = 'making' AND owner = ?
                """, arguments: [now + lease, now, key, owner])
            return db.changesCount == 1
        }
    }

    public func finishPiece(_ key: String, owner: String) async throws -> Bool {
        try await write { db in
            let now = Self.now()
            try db.execute(sql: """
                UPDATE avatarize_pieces SET state = 'done', lease_expires_at = NULL, updated_at = ?, made_at = ?
                WHERE key = ? AND state = 'making' AND owner = ?
                """, arguments: [now, now, key, owner])
            return db.changesCount == 1
        }
    }

    public func abandonPiece(_ key: String, owner: String) async throws {
        try await write { db in
            try db.execute(sql: """
                UPDATE avatarize_pieces SET lease_expires_at = 0, updated_at = ? WHERE key = ? AND state = 'making' AND owner = ?
                """, arguments: [Self.now(), key, owner])
        }
    }

    @discardableResult
    public func forgetPieces(_ keys: [String]) async throws -> Int {
        try await write { db in
            var removed = 0
            // In slices, under SQLite's limit on bound parameters.
            for start in stride(from: 0, to: keys.count, by: 500) {
                let slice = Array(keys[start..<min(start + 500, keys.count)])
                let marks = Array(repeating: "?", count: slice.count).joined(separator: ", ")
                try db.execute(sql: "DELETE FROM avatarize_pieces WHERE state = 'done' AND key IN (\(marks))", arguments: StatementArguments(slice))
                removed += db.changesCount
            }
            return removed
        }
    }

    public func pieces(prefix: String) async throws -> [PieceRecord] {
        try await read { db in
            // A range on the primary key rather than LIKE, whose wildcards the prefix could contain.
            try Row.fetchAll(db, sql: """
                SELECT * FROM avatarize_pieces WHERE key >= ? AND key < ? ORDER BY key
                """, arguments: [prefix, prefix + "\u{10FFFF}"]).map { row in
                let name: String = row["state"]
                guard let state = PieceRecord.State(rawValue: name) else { throw QueueError.corruptRow("unknown piece state '\(name)'") }
                func date(_ column: String) -> Date? { (row[column] as Double?).map(Date.init(timeIntervalSince1970:)) }
                return PieceRecord(key: row["key"], state: state, owner: row["owner"], leaseExpiresAt: date("lease_expires_at"),
                                   attempts: row["attempts"], madeAt: date("made_at"))
            }
        }
    }
}
