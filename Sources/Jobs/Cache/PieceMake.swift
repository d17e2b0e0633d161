import Foundation
import Logging

/// One make of a piece (its mutable state behind a lock: the job's thread and the renewal timer share it), handed
/// to the code that makes it: where to write the piece and its companions (temporary
/// siblings, placed by `PieceMaker` once the make returns), and `proceed`, which the make calls as it progresses.
///
/// The lease is renewed every third of it, from `proceed` and from a timer (`tick`), but only while the make has
/// progressed within the stall limit: a maker that hangs stops renewing and is taken over, while one that is slow to
/// start (loading models on a busy machine) or between two progress calls keeps its piece. A maker that cannot
/// renew for a whole lease (the database is unreachable) must presume another has taken the piece over: `proceed`
/// then answers false and the make stops.
final class PieceMake: @unchecked Sendable {
    /// Where the make writes the piece.
    let file: URL
    /// Where it writes each companion, in the order they were named.
    let companions: [URL]

    private let state: Locked<State>
    /// Renews the lease; true: retry while the database restarts (`confirm`), false: one try.
    private let renew: (_ patient: Bool) throws -> Bool
    private let clock: @Sendable () -> TimeInterval
    private let lease: TimeInterval
    private let stallLimit: TimeInterval
    private let cancellation: CancellationFlag
    private let logger: Logger
    private let name: String

    struct State {
        /// When the last renewal (or the claim) that the ledger accepted was sent: the ledger's lease runs from a
        /// moment after that, so this side's reckoning always ends first.
        var heldSince: TimeInterval
        var lastTry: TimeInterval
        /// The make's start, then its last `proceed`.
        var lastProgress: TimeInterval
        var lost = false
    }

    init(name: String, file: URL, companions: [URL], claimedAt: TimeInterval, lease: TimeInterval, stallLimit: TimeInterval,
         clock: @escaping @Sendable () -> TimeInterval, cancellation: CancellationFlag, logger: Logger,
         renew: @escaping (_ patient: Bool) throws -> Bool) {
        self.name = name
        self.file = file
        self.companions = companions
        self.lease = lease
        self.stallLimit = stallLimit
        self.clock = clock
        self.cancellation = cancellation
        self.logger = logger
        self.renew = renew
        state = Locked(State(heldSince: claimedAt, lastTry: claimedAt, lastProgress: claimedAt))
    }

    /// True once the make must not place its file: another maker may hold the piece now.
    var lost: Bool { state.value.lost }

    /// Notes progress, renewing the lease when due; false once the make should stop (the job was stopped, or the
    /// lease is lost or could not be renewed for its whole length).
    func proceed() -> Bool {
        if cancellation.isSet { return false }
        state.mutate { $0.lastProgress = max($0.lastProgress, clock()) }
        return renewIfDue()
    }

    /// From the timer: renews when due, unless the make has not progressed within the stall limit (it hangs).
    func tick() {
        let stalled = state.mutate { clock() - $0.lastProgress >= stallLimit }
        if !stalled { _ = renewIfDue() }
    }

    private func renewIfDue() -> Bool {
        let now = clock()
        let due = state.mutate { current -> Bool? in
            if current.lost { return nil }
            if now - current.heldSince >= lease { return nil }
            guard now - current.lastTry >= lease / 3 else { return false }
            current.lastTry = now
            return true
        }
        guard let due else {
            if !lost { markLost("could not renew its lease for \(lease) s") }
            return false
        }
        guard due else { return true }
        do {
            if try renew(false) {
                state.mutate { $0.heldSince = max($0.heldSince, now) }
            } else {
                markLost("another worker took it over")
                return false
            }
        } catch {
            // Survivable while the lease lasts: the next progress or tick tries again.
            logger.warning("renewing the lease on \(name) failed: \(error)")
        }
        return true
    }

    /// Checks ownership immediately before placing: a renewal the ledger accepts also leaves a whole lease for the
    /// placement. False (and lost) when another holds the piece.
    func confirm() throws -> Bool {
        if lost { return false }
        let now = clock()
        guard try renew(true) else {
            markLost("another worker took it over")
            return false
        }
        state.mutate { $0.heldSince = max($0.heldSince, now) }
        return true
    }

    private func markLost(_ why: String) {
        let first = state.mutate { current -> Bool in
            defer { current.lost = true }
            return !current.lost
        }
        if first { logger.warning("stopping the make of \(name): \(why)") }
    }
}
