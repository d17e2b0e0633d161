import Foundation

/// What a database gives the queue core (`QueueStore+Jobs`, `QueueStore+Pieces`): rows read as they are, a clock,
/// and writes that happen only if nothing changed since the read (insert-if-absent, update-where-version). Every
/// transition, every lease and every backoff is decided once, in the core; a backend only stores. The version is
/// kept by the database itself (a trigger bumps it on every update, by any writer), so a write decided on a row
/// that another process has changed since is refused and the core reads again.
protocol QueueStore: Sendable {
    /// The database's clock, by which leases and backoffs are reckoned: workers on machines with skewed clocks still
    /// agree on when a lease ran out.
    func now() async throws -> Date

    /// In one transaction: each spec whose key is new as a queued job with its `enqueued` event at `now`; the new
    /// ids in order, nil where the key existed.
    func insertJobs(_ specs: [JobSpec], at now: Date) async throws -> [Int64?]

    func jobRow(id: Int64) async throws -> JobRow?

    /// Queued jobs whose backoff has passed at `now`, in claim order (priority, then age), at most `limit`.
    func claimableJobs(at now: Date, limit: Int) async throws -> [JobRow]

    /// Running jobs whose lease ran out before `now`.
    func expiredJobs(at now: Date) async throws -> [JobRow]

    /// In one transaction: writes `row` over the job if its version is still `row.version`, then `event`, then runs
    /// `beforeCommit` (its error rolls all back). False, with nothing written, when the row changed since it was read.
    /// `durable: false` may commit without waiting for the disk, for changes whose loss in a crash is harmless.
    func updateJob(_ row: JobRow, event: JobEvent?, durable: Bool,
                   beforeCommit: (@Sendable () throws -> Void)?) async throws -> Bool

    func pieceRow(key: String) async throws -> PieceRow?

    /// Adds the piece's row unless its key exists; false if it did.
    func insertPiece(_ row: PieceRow, at now: Date) async throws -> Bool

    /// Writes `row` over the piece if its version is still `row.version`; false when it changed since it was read.
    func updatePiece(_ row: PieceRow, at now: Date) async throws -> Bool

    /// Deletes the rows among `keys` that are in `state`; how many went.
    func deletePieces(_ keys: [String], in state: PieceRecord.State) async throws -> Int
}

extension QueueStore {
    /// Runs `attempt` until it answers (nil: its write was refused because the row changed since its read). A row
    /// changes a few times a second at most, so a handful of rounds always suffices; a hundred mean something is wrong.
    func retrying<T>(_ row: String, _ attempt: () async throws -> T?) async throws -> T {
        for _ in 0..<100 {
            if let answer = try await attempt() { return answer }
        }
        throw QueueError.database("\(row) changed under every one of 100 attempts to change it")
    }
}

/// A job as the core reads and writes it: the record and what only the queue itself needs.
struct JobRow: Sendable, Equatable {
    var record: JobRecord
    /// A dead or cancelled job whose staging folder a worker still has to remove.
    var cleanupPending: Bool
    /// The row's version when it was read (see `QueueStore`).
    var version: Int64
}

/// A piece's ledger row as the core reads and writes it.
struct PieceRow: Sendable, Equatable {
    var record: PieceRecord
    var version: Int64
}
