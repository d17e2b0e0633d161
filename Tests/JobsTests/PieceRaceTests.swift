import Foundation
import Logging
import XCTest
@testable import Jobs

/// The races of a shared work folder, each driven step by step against a real SQLite ledger: the other "machine"
/// acts from inside a make (or a wait) at the moment the race needs, and leases are reckoned on a clock the test
/// moves. The two makers of a piece write different bytes here (in use they write the same), so that a file
/// replaced by the wrong maker shows.
final class PieceRaceTests: XCTestCase {
    private struct Stopped: Error {}

    private func open(_ label: String) async throws -> (TemporaryDirectory, any JobQueue, URL) {
        let directory = try TemporaryDirectory(label)
        let queue = try await QueueOpener.open(.sqlite(path: directory.path + "/queue.db"))
        return (directory, queue, directory.file("work"))
    }

    private func maker(_ worker: String, _ work: URL, _ ledger: any PieceLedger, clock: ManualClock,
                       pause: @escaping @Sendable (TimeInterval) -> Void = { _ in }) -> PieceMaker {
        PieceMaker(folder: work, ledger: ledger, worker: worker, lease: 30, pollInterval: 0.01, missingGrace: 5, stallLimit: 300,
                   clock: { clock.now }, pause: pause, logger: Logger(label: "test.pieces"))
    }

    private static func text(_ url: URL) -> String? { try? String(contentsOf: url, encoding: .utf8) }

    private static func inode(_ url: URL) -> UInt? {
        var status = stat()
        return stat(url.path, &status) == 0 ? UInt(status.st_ino) : nil
    }

    private static func names(_ folder: URL) -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).subtracting([PieceMaker.identityFileName])
    }

    /// A maker whose lease ran out while it worked (it hung, or its machine was cut off) finishes its make after
    /// another machine took the piece over, made it and recorded it done: its file must not replace that one.
    func testAStaleMakerNeverReplacesThePieceOfTheMakerThatTookItOver() async throws {
        let (directory, queue, work) = try await open("race-stale")
        let clock = ManualClock()
        let a = maker("a-1", work, queue, clock: clock), b = maker("b-1", work, queue, clock: clock)
        let key = try a.key("clip.faces")
        let url = try await runOnOwnThread(named: "test-job") { flag in
            try a.piece("clip.faces", cancellation: flag) { make in
                // a's lease runs out in the ledger (giving it up stands in for expiry); b takes over and finishes.
                try blocking { try await queue.abandonPiece(key, owner: "a-1/piece-1") }
                let fresh = try b.piece("clip.faces", cancellation: CancellationFlag()) { make in
                    try Data("made by b".utf8).write(to: make.file)
                }
                XCTAssertEqual(Self.text(fresh), "made by b")
                // Only now does a, unaware, write its file and return.
                try Data("made by a, stale".utf8).write(to: make.file)
            }
        }
        XCTAssertEqual(Self.text(url), "made by b", "the stale maker replaced the piece")
        XCTAssertEqual(Self.names(work), ["clip.faces"], "the stale maker's temporary file is removed")
        let rows = try await queue.pieces(prefix: key)
        XCTAssertEqual(rows.first?.state, .done)
        XCTAssertEqual(rows.first?.owner, "b-1/piece-1")
        XCTAssertEqual(rows.first?.attempts, 2)
        try await queue.close()
        withExtendedLifetime(directory) {}
    }

    /// The database is unreachable from a's machine for longer than the lease while a makes a piece; meanwhile the
    /// database, seeing the lease run out, lets b take the piece over. a must stop making once it could not renew
    /// for a whole lease, and place nothing.
    func testADatabaseOutageLongerThanTheLeaseStopsTheMaker() async throws {
        let (directory, queue, work) = try await open("race-outage")
        let clock = ManualClock()
        let cutOff = InterruptibleLedger(queue)
        let a = maker("a-1", work, cutOff, clock: clock), b = maker("b-1", work, queue, clock: clock)
        let key = try a.key("clip.track")
        let stoppedAfter = Locked<TimeInterval?>(nil)
        let url = try await runOnOwnThread(named: "test-job") { flag in
            try a.piece("clip.track", cancellation: flag) { make in
                try Data("made by a, ".utf8).write(to: make.file)
                cutOff.down.value = true
                let began = clock.now
                // Progress every 5 s: renewals at 10 s and 20 s fail; at 30 s the lease is spent.
                for _ in 0..<12 {
                    clock.advance(by: 5)
                    if !make.proceed() {
                        stoppedAfter.value = clock.now - began
                        break
                    }
                }
                try blocking { try await queue.abandonPiece(key, owner: "a-1/piece-1") }
                _ = try b.piece("clip.track", cancellation: CancellationFlag()) { make in
                    try Data("made by b".utf8).write(to: make.file)
                }
                cutOff.down.value = false
                // A pipeline stops with an error of its own when its progress callback answers false.
                if stoppedAfter.value != nil { throw Stopped() }
                try Data("stale".utf8).write(to: make.file)
            }
        }
        XCTAssertEqual(stoppedAfter.value, 30, "the maker stops once it could not renew for a whole lease")
        XCTAssertGreaterThanOrEqual(cutOff.refused.value, 2, "renewals were tried during the outage")
        XCTAssertEqual(Self.text(url), "made by b")
        XCTAssertEqual(Self.names(work), ["clip.track"])
        let rows = try await queue.pieces(prefix: key)
        XCTAssertEqual(rows.first?.owner, "b-1/piece-1")
        XCTAssertEqual(rows.first?.state, .done)
        try await queue.close()
        withExtendedLifetime(directory) {}
    }

    /// Renewal follows progress: a maker that hangs (no progress for the stall limit, 1 s here) stops renewing and
    /// a waiter takes the piece over once the lease runs out in the ledger. Leases here are real (0.5 s): the
    /// ledger reckons them by the database's clock.
    func testAHungMakerIsTakenOver() async throws {
        let (directory, queue, work) = try await open("race-hung")
        let a = PieceMaker(folder: work, ledger: queue, worker: "a-1", lease: 0.5, pollInterval: 0.05, missingGrace: 0.05, stallLimit: 1)
        let b = PieceMaker(folder: work, ledger: queue, worker: "b-1", lease: 0.5, pollInterval: 0.05, missingGrace: 0.05)
        let key = try a.key("clip.faces")
        let hang = DispatchSemaphore(value: 0)
        let claimed = Locked(false)
        async let stale = runOnOwnThread(named: "test-hung-job") { flag in
            try a.piece("clip.faces", cancellation: flag) { make in
                claimed.value = true
                hang.wait()
                try Data("made by a, stale".utf8).write(to: make.file)
            }
        }
        while !claimed.value { try await Task.sleep(nanoseconds: 10_000_000) }
        // b gives up after 20 s (five times a timer's renewal would keep a's lease alive for ever).
        let giveUp = CancellationFlag()
        let watchdog = Task {
            try await Task.sleep(nanoseconds: 20_000_000_000)
            giveUp.set()
        }
        let fresh: URL
        do {
            fresh = try await runOnOwnThread(named: "test-job") { _ in
                try b.piece("clip.faces", cancellation: giveUp) { make in try Data("made by b".utf8).write(to: make.file) }
            }
        } catch {
            // Let the hung maker go, or the test would wait for it for ever.
            hang.signal()
            _ = try? await stale
            throw error
        }
        watchdog.cancel()
        XCTAssertEqual(Self.text(fresh), "made by b")
        hang.signal()
        let url = try await stale
        XCTAssertEqual(Self.text(url), "made by b")
        let rows = try await queue.pieces(prefix: key)
        XCTAssertEqual(rows.first?.owner, "b-1/piece-1")
        XCTAssertEqual(rows.first?.attempts, 2)
        try await queue.close()
        withExtendedLifetime(directory) {}
    }

    /// A maker that shows no progress for longer than the lease but within the stall limit (loading models on a busy
    /// machine) keeps its piece: its timer renews the lease, so a waiter does not take over and make it again.
    func testAMakerSlowToStartKeepsItsPiece() async throws {
        let (directory, queue, work) = try await open("race-slow")
        let a = PieceMaker(folder: work, ledger: queue, worker: "a-1", lease: 0.5, pollInterval: 0.05, missingGrace: 0.05, stallLimit: 300)
        let key = try a.key("clip.faces")
        let started = Locked(false)
        let release = DispatchSemaphore(value: 0)
        async let made = runOnOwnThread(named: "test-slow-job") { flag in
            try a.piece("clip.faces", cancellation: flag) { make in
                started.value = true
                release.wait()
                try Data("made by a".utf8).write(to: make.file)
            }
        }
        while !started.value { try await Task.sleep(nanoseconds: 10_000_000) }
        // Four leases without a progress call.
        try await Task.sleep(nanoseconds: 2_000_000_000)
        let asked = try await queue.claimPiece(key, owner: "b-1/piece-1", lease: 0.5, fileMissing: false)
        XCTAssertEqual(asked, .busy(owner: "a-1/piece-1"), "a slow maker's piece was taken over")
        release.signal()
        let url = try await made
        XCTAssertEqual(Self.text(url), "made by a")
        let rows = try await queue.pieces(prefix: key)
        XCTAssertEqual(rows.map(\.attempts), [1])
        try await queue.close()
        withExtendedLifetime(directory) {}
    }

    /// On NFS a machine's cached "no such file" hides a piece another machine made for up to a minute. A piece the
    /// ledger says is done but that is not seen is looked for again (a listing, after a grace period) before anyone
    /// remakes it over a file others may be reading.
    func testAPieceDoneButNotYetSeenIsNotMadeAgain() async throws {
        let (directory, queue, work) = try await open("race-nfs")
        let clock = ManualClock()
        let a = maker("a-1", work, queue, clock: clock)
        let made = try await runOnOwnThread(named: "test-job") { flag in
            try a.piece("clip.faces", cancellation: flag) { make in try Data("made by a".utf8).write(to: make.file) }
        }
        // b's view of the folder lacks the file until its cache expires, which the grace period outlasts.
        let hidden = directory.file("hidden.faces")
        try FileManager.default.moveItem(at: made, to: hidden)
        let waits = Locked<[TimeInterval]>([])
        let b = maker("b-1", work, queue, clock: clock) { seconds in
            waits.mutate { $0.append(seconds) }
            try? FileManager.default.moveItem(at: hidden, to: made)
        }
        let remakes = Locked(0)
        let found = try await runOnOwnThread(named: "test-job") { flag in
            try b.piece("clip.faces", cancellation: flag) { make in
                remakes.mutate { $0 += 1 }
                try Data("made by b".utf8).write(to: make.file)
            }
        }
        XCTAssertEqual(remakes.value, 0, "a piece that was there was made again")
        XCTAssertEqual(waits.value, [5], "one grace period")
        XCTAssertEqual(Self.text(found), "made by a")
        let rows = try await queue.pieces(prefix: try a.key("clip.faces"))
        XCTAssertEqual(rows.map(\.attempts), [1])

        // Really gone (evicted): after the grace period the listing agrees, and it is made again.
        try FileManager.default.removeItem(at: made)
        let c = maker("c-1", work, queue, clock: clock)
        let remade = try await runOnOwnThread(named: "test-job") { flag in
            try c.piece("clip.faces", cancellation: flag) { make in try Data("made by c".utf8).write(to: make.file) }
        }
        XCTAssertEqual(Self.text(remade), "made by c")
        let after = try await queue.pieces(prefix: try a.key("clip.faces"))
        XCTAssertEqual(after.map(\.attempts), [2])
        try await queue.close()
        withExtendedLifetime(directory) {}
    }

    /// A maker placed its file and died before recording it done: the next maker finds the file whole in place (files
    /// are only ever placed whole) and records it, rather than making it again over a file others may be reading.
    func testACrashBetweenPlacingAndRecordingLeavesAPieceThatIsRecordedNotRemade() async throws {
        let (directory, queue, work) = try await open("race-crash")
        let clock = ManualClock()
        let a = maker("a-1", work, queue, clock: clock)
        let key = try a.key("clip.segment-0-of-2x8.track")
        // b claimed the piece with a lease that has run out by the next claim, placed its file and died.
        let claimed = try await queue.claimPiece(key, owner: "b-2/piece-7", lease: 0, fileMissing: false)
        XCTAssertEqual(claimed, .make(attempt: 1))
        let target = work.appendingPathComponent("clip.segment-0-of-2x8.track")
        try Data("made by b".utf8).write(to: target)
        let before = Self.inode(target)
        let makes = Locked(0)
        let url = try await runOnOwnThread(named: "test-job") { flag in
            try a.piece("clip.segment-0-of-2x8.track", cancellation: flag) { make in
                makes.mutate { $0 += 1 }
                try Data("made by a".utf8).write(to: make.file)
            }
        }
        XCTAssertEqual(makes.value, 0, "a piece in place was made again")
        XCTAssertEqual(Self.text(url), "made by b")
        XCTAssertEqual(Self.inode(url), before, "the file in place was replaced")
        let rows = try await queue.pieces(prefix: key)
        XCTAssertEqual(rows.first?.state, .done)
        XCTAssertEqual(rows.first?.owner, "a-1/piece-1")
        XCTAssertEqual(rows.first?.attempts, 2)
        try await queue.close()
        withExtendedLifetime(directory) {}
    }

    /// Remaking `STEM.track` removes the dead maker's temporaries of that file only: another worker's live
    /// temporary of `STEM.faces` (same stem) stays.
    func testLeftoverCleanupMatchesWholeNames() async throws {
        let (directory, queue, work) = try await open("race-leftovers")
        let a = maker("a-1", work, queue, clock: ManualClock())
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let live = ".abcdef0123456789-0011.partial-77-88.faces"
        // The writer's nested temporary and its column spool, as a SIGKILLed track maker leaves them.
        let dead = [".abcdef0123456789-0011.partial-11-22.track", "..abcdef0123456789-0011.partial-11-22.partial-33-44.track",
                    "..abcdef0123456789-0011.partial-11-22.partial-33-44.track.columns"]
        let otherPiece = ".abcdef0123456789-0011.segment-0-of-2x8.partial-55-66.track"
        for name in [live, otherPiece] + dead { try Data("x".utf8).write(to: work.appendingPathComponent(name)) }
        XCTAssertEqual(a.removeLeftovers(of: work.appendingPathComponent("abcdef0123456789-0011.track")), 3)
        XCTAssertEqual(Self.names(work), [live, otherPiece])
        XCTAssertFalse(PieceMaker.isTemporary(".stem.partial-1-2.trackx", of: "stem.track"))
        XCTAssertFalse(PieceMaker.isTemporary(".stem.partial-1-2.track", of: "stem.track.json"))
        XCTAssertTrue(PieceMaker.isTemporary(".stem.partial-1-2", of: "stem"))
        XCTAssertTrue(PieceMaker.isTemporary(".stem.partial-1-2.columns", of: "stem"))
        XCTAssertFalse(PieceMaker.isTemporary(".stem.partial-1-2.faces.columns", of: "stem.track"))
        XCTAssertFalse(PieceMaker.isTemporary(".stem.partial-1-2.track.7", of: "stem.track"))
        try await queue.close()
        withExtendedLifetime(directory) {}
    }

    /// Placing never replaces: a second file for the same name is dropped and the first stays, same inode.
    func testPlacementNeverReplacesAFile() throws {
        let folder = try TemporaryDirectory("placement")
        let target = folder.file("piece.track")
        let first = try folder.write(".piece.partial-1-1.track", "first")
        let second = try folder.write(".piece.partial-2-2.track", "second")
        XCTAssertEqual(try FilePlacement.place(first, at: target), .placed)
        let placed = Self.inode(target)
        XCTAssertEqual(try FilePlacement.place(second, at: target), .alreadyThere)
        XCTAssertEqual(Self.text(target), "first")
        XCTAssertEqual(Self.inode(target), placed)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)), ["piece.track"])
        try FilePlacement.syncFolder(folder.url)
    }
}
