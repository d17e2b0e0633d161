import Foundation

/// The piece ledger's transitions, once for both backends, as the job transitions are (`QueueStore+Jobs`): read the
/// row and the database's clock, decide, write only if the row is unchanged (or, for a new piece, absent).
extension QueueStore {
    public func claimPiece(_ key: String, owner: String, lease: TimeInterval, fileMissing: Bool) async throws -> PieceClaim {
        try await retrying("piece \(key)") {
            let now = try await now()
            guard var row = try await pieceRow(key: key) else {
                let new = PieceRow(record: PieceRecord(key: key, state: .making, owner: owner, leaseExpiresAt: now + lease,
                                                       attempts: 1, madeAt: nil), version: 0)
                return try await insertPiece(new, at: now) ? .make(attempt: 1) : nil
            }
            // Taken over: a make whose maker's lease ran out (it died, hung or was cut off), or a made piece whose file
            // is gone.
            let takeOver = switch row.record.state {
            case .done: fileMissing
            case .making: (row.record.leaseExpiresAt ?? .distantPast) < now
            }
            guard takeOver else { return row.record.state == .done ? .done : .busy(owner: row.record.owner) }
            row.record.state = .making
            row.record.owner = owner
            row.record.leaseExpiresAt = now + lease
            row.record.attempts += 1
            row.record.madeAt = nil
            return try await updatePiece(row, at: now) ? .make(attempt: row.record.attempts) : nil
        }
    }

    public func renewPiece(_ key: String, owner: String, lease: TimeInterval) async throws -> Bool {
        try await changePiece(key, heldBy: owner) { row, now in row.record.leaseExpiresAt = now + lease }
    }

    public func finishPiece(_ key: String, owner: String) async throws -> Bool {
        try await changePiece(key, heldBy: owner) { row, now in
            row.record.state = .done
            row.record.leaseExpiresAt = nil
            row.record.madeAt = now
        }
    }

    public func abandonPiece(_ key: String, owner: String) async throws {
        // A lease that ran out long ago: the next claimer takes the piece over at once.
        _ = try await changePiece(key, heldBy: owner) { row, _ in row.record.leaseExpiresAt = Date(timeIntervalSince1970: 0) }
    }

    @discardableResult
    public func forgetPieces(_ keys: [String]) async throws -> Int {
        // A piece being made keeps its row: its maker still holds it.
        keys.isEmpty ? 0 : try await deletePieces(keys, in: .done)
    }

    /// Changes the piece as `change` says while `owner` makes it; false when it does not (another took it over, it
    /// is done, or its row is gone).
    private func changePiece(_ key: String, heldBy owner: String, _ change: (inout PieceRow, Date) -> Void) async throws -> Bool {
        try await retrying("piece \(key)") {
            guard var row = try await pieceRow(key: key), row.record.state == .making, row.record.owner == owner else { return false }
            let now = try await now()
            change(&row, now)
            return try await updatePiece(row, at: now) ? true : nil
        }
    }
}
