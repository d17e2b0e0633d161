import Foundation

/// The queue's piece ledger (`PieceMaker`): who makes each intermediate file that several jobs share, under a lease
/// measured by the database's clock (SQLite's: its one machine's), and whether it is made. Every change is decided once
/// for both databases (`QueueStore+Pieces`) and written only if the row is unchanged since it was read. A protocol of its own
/// so that a piece maker needs nothing else of the queue.
public protocol PieceLedger: Sendable {
    /// Atomically: starts the piece `key` for `owner` (a new row, or one whose maker's lease expired, or, when
    /// `fileMissing`, a done one whose file is gone) with a lease of `lease` seconds and its attempts counted; else
    /// says it is done or whose it is.
    func claimPiece(_ key: String, owner: String, lease: TimeInterval, fileMissing: Bool) async throws -> PieceClaim

    /// Extends the lease while `owner` still makes the piece; false when another took it over.
    func renewPiece(_ key: String, owner: String, lease: TimeInterval) async throws -> Bool

    /// Records the piece made (its file already renamed into place), if `owner` still holds it.
    func finishPiece(_ key: String, owner: String) async throws -> Bool

    /// Gives the piece up (its maker failed or was stopped) so that the next claimer makes it at once.
    func abandonPiece(_ key: String, owner: String) async throws

    /// Removes the rows of pieces recorded done among `keys` (their files were evicted); a piece being made keeps
    /// its row. Returns how many went.
    @discardableResult
    func forgetPieces(_ keys: [String]) async throws -> Int

    /// The ledger's rows whose key starts with `prefix`, by key.
    func pieces(prefix: String) async throws -> [PieceRecord]
}
