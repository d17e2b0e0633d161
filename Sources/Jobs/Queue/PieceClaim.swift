/// What `JobQueue.claimPiece` answered: whether the caller makes the piece, finds it made, or waits for its maker.
public enum PieceClaim: Sendable, Equatable {
    /// The caller makes the piece (it is new, its maker's lease expired, or it was done but its file is gone) and holds
    /// it until its lease runs out; `attempt` counts every make of it so far, this one included.
    case make(attempt: Int)
    /// Made: its file was renamed into place before the row said so.
    case done
    /// Another worker (`owner`) is making it and its lease holds: ask again later.
    case busy(owner: String?)
}
