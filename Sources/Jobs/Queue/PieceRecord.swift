import Foundation

/// One row of the queue's piece ledger: an intermediate file of a shared clip (a face pass, a segment's track or
/// video) in a work folder, who makes or made it, and how many times it was made.
public struct PieceRecord: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable {
        /// Being made by `owner` until `leaseExpiresAt` (renewed by its maker while it works).
        case making
        /// Its file is in place; `owner` was its last maker.
        case done
    }

    /// The work folder's identity and the piece's file name (`ID/NAME`).
    public var key: String
    public var state: State
    public var owner: String?
    public var leaseExpiresAt: Date?
    /// Makes begun, the first included: more than one means a maker died (or failed) or the file went missing.
    public var attempts: Int
    public var madeAt: Date?

    public init(key: String, state: State, owner: String?, leaseExpiresAt: Date?, attempts: Int, madeAt: Date?) {
        self.key = key; self.state = state; self.owner = owner; self.leaseExpiresAt = leaseExpiresAt
        self.attempts = attempts; self.madeAt = madeAt
    }
}
