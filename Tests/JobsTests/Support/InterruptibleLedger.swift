import Foundation
@testable import Jobs

/// A real queue's piece ledger as one machine sees it while its database connection is down: every call fails the
/// way an unreachable server does, while other machines keep using the database.
final class InterruptibleLedger: PieceLedger {
    let queue: any JobQueue
    let down = Locked(false)
    /// Calls refused while down.
    let refused = Locked(0)

    init(_ queue: any JobQueue) { self.queue = queue }

    private func reach() throws {
        guard down.value else { return }
        refused.mutate { $0 += 1 }
        throw QueueError.database("connection refused (the test took the database away)")
    }

    func claimPiece(_ key: String, owner: String, lease: TimeInterval, fileMissing: Bool) async throws -> PieceClaim {
        try reach()
        return try await queue.claimPiece(key, owner: owner, lease: lease, fileMissing: fileMissing)
    }

    func renewPiece(_ key: String, owner: String, lease: TimeInterval) async throws -> Bool {
        try reach()
        return try await queue.renewPiece(key, owner: owner, lease: lease)
    }

    func finishPiece(_ key: String, owner: String) async throws -> Bool {
        try reach()
        return try await queue.finishPiece(key, owner: owner)
    }

    func abandonPiece(_ key: String, owner: String) async throws {
        try reach()
        try await queue.abandonPiece(key, owner: owner)
    }

    func forgetPieces(_ keys: [String]) async throws -> Int {
        try reach()
        return try await queue.forgetPieces(keys)
    }

    func pieces(prefix: String) async throws -> [PieceRecord] {
        try reach()
        return try await queue.pieces(prefix: prefix)
    }
}
