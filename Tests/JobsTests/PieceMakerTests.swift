import Foundation
import XCTest
@testable import Jobs

/// The make-once coordinator in process against a real SQLite queue: two "machines" (PieceMakers with their own
/// worker names) sharing a work folder, a maker presumed dead, a piece whose file went missing, a failed make.
/// Pieces are made on threads of their own, as jobs make them (a PieceMaker blocks its caller while it waits).
final class PieceMakerTests: XCTestCase {
    private func open(_ label: String) async throws -> (TemporaryDirectory, any JobQueue, URL) {
        let directory = try TemporaryDirectory(label)
        let queue = try await QueueOpener.open(.sqlite(path: directory.path + "/queue.db"))
        return (directory, queue, directory.file("work"))
    }

    private func text(_ url: URL) -> String? { try? String(contentsOf: url, encoding: .utf8) }

    func testTwoMachinesSharingAWorkFolderMakeAPieceOnce() async throws {
        let (directory, queue, work) = try await open("pieces-once")
        let a = PieceMaker(folder: work, ledger: queue, worker: "a-1", lease: 30, pollInterval: 0.05, missingGrace: 0.05)
        let b = PieceMaker(folder: work, ledger: queue, worker: "b-1", lease: 30, pollInterval: 0.05, missingGrace: 0.05)
        let makes = Locked(0)
        let make: @Sendable (PieceMake) throws -> Void = { make in
            makes.mutate { $0 += 1 }
            Thread.sleep(forTimeInterval: 0.5)
            try Data("faces of the clip".utf8).write(to: make.file)
        }
        async let first = runOnOwnThread(named: "test-job") { flag in try a.piece("clip.faces", cancellation: flag, make: make) }
        try await Task.sleep(nanoseconds: 100_000_000)
        // b asks while a is at work: it waits for a rather than making the piece too.
        async let second = runOnOwnThread(named: "test-job") { flag in try b.piece("clip.faces", cancellation: flag, make: make) }
        let (made, found) = try await (first, second)
        XCTAssertEqual(made, found)
        XCTAssertEqual(text(made), "faces of the clip")
        XCTAssertEqual(makes.value, 1, "made once")
        let rows = try await queue.pieces(prefix: try a.folderIdentity() + "/")
        XCTAssertEqual(rows.map(\.attempts), [1])
        XCTAssertEqual(rows.first?.state, .done)
        XCTAssertEqual(rows.first?.owner, "a-1/piece-1")

        XCTAssertEqual(try a.folderIdentity(), try b.folderIdentity(), "one folder, one identity")
        let elsewhere = PieceMaker(folder: directory.file("other-machine"), ledger: queue, worker: "c-1", lease: 30, pollInterval: 0.05, missingGrace: 0.05)
        XCTAssertNotEqual(try elsewhere.folderIdentity(), try a.folderIdentity(), "another folder's pieces are other rows")
        XCTAssertEqual(TrackCache(folder: work).entries(inUse: []).map(\.name), ["clip.faces"],
                       "the folder's identity file is not a cache entry, so it is never evicted")
        try await queue.close()
        withExtendedLifetime(directory) {}
    }

    func testAPieceWhoseMakerDiedIsTakenOverAndItsPartialFileRemoved() async throws {
        let (directory, queue, work) = try await open("pieces-takeover")
        let a = PieceMaker(folder: work, ledger: queue, worker: "a-1", lease: 30, pollInterval: 0.05, missingGrace: 0.05)
        // A maker on another machine claimed the piece, wrote half of it and died.
        let key = try a.key("clip.segment-0-of-2x8.track")
        let claimed = try await queue.claimPiece(key, owner: "b-2/piece-7", lease: 0.4, fileMissing: true)
        XCTAssertEqual(claimed, .make(attempt: 1))
        let partial = work.appendingPathComponent(".clip.segment-0-of-2x8.partial-4242-17.track")
        try Data("half a tr".utf8).write(to: partial)

        let url = try await runOnOwnThread(named: "test-job") { flag in
            try a.piece("clip.segment-0-of-2x8.track", cancellation: flag) { make in try Data("a whole track".utf8).write(to: make.file) }
        }
        XCTAssertEqual(text(url), "a whole track")
        XCTAssertFalse(FileManager.default.fileExists(atPath: partial.path), "the dead maker's partial file is removed")
        var rows = try await queue.pieces(prefix: key)
        XCTAssertEqual(rows.first?.attempts, 2)
        XCTAssertEqual(rows.first?.owner, "a-1/piece-1")
        XCTAssertEqual(rows.first?.state, .done)

        // Its file gone (evicted): made again by whoever needs it next.
        try FileManager.default.removeItem(at: url)
        _ = try await runOnOwnThread(named: "test-job") { flag in
            try a.piece("clip.segment-0-of-2x8.track", cancellation: flag) { make in try Data("a whole track".utf8).write(to: make.file) }
        }
        rows = try await queue.pieces(prefix: key)
        XCTAssertEqual(rows.first?.attempts, 3)
        XCTAssertEqual(text(url), "a whole track")
        try await queue.close()
        withExtendedLifetime(directory) {}
    }

    func testAFailedMakeLeavesNoFileAndGivesThePieceUp() async throws {
        let (directory, queue, work) = try await open("pieces-failure")
        let a = PieceMaker(folder: work, ledger: queue, worker: "a-1", lease: 30, pollInterval: 0.05, missingGrace: 0.05)
        struct Broken: Error {}
        do {
            _ = try await runOnOwnThread(named: "test-job") { flag in
                try a.piece("clip.faces", companions: ["clip.faces.json"], cancellation: flag) { make in
                    try Data("half".utf8).write(to: make.file)
                    throw Broken()
                }
            }
            XCTFail("the make's error must reach the job")
        } catch is Broken {}
        let names = try FileManager.default.contentsOfDirectory(atPath: work.path)
        XCTAssertEqual(names, [PieceMaker.identityFileName], "no partial file is left")
        // Given up: the next claimer makes it at once rather than waiting out a 30 s lease.
        let b = PieceMaker(folder: work, ledger: queue, worker: "b-1", lease: 30, pollInterval: 0.05, missingGrace: 0.05)
        let url = try await runOnOwnThread(named: "test-job") { flag in
            try b.piece("clip.faces", companions: ["clip.faces.json"], cancellation: flag) { make in
                try Data("{}".utf8).write(to: make.companions[0])
                try Data("faces".utf8).write(to: make.file)
            }
        }
        XCTAssertEqual(text(url), "faces")
        let rows = try await queue.pieces(prefix: try b.key("clip.faces"))
        XCTAssertEqual(rows.map(\.attempts), [2])

        // A piece without its companion is not whole: made again.
        try FileManager.default.removeItem(at: work.appendingPathComponent("clip.faces.json"))
        let remakes = Locked(0)
        _ = try await runOnOwnThread(named: "test-job") { flag in
            try b.piece("clip.faces", companions: ["clip.faces.json"], cancellation: flag) { make in
                remakes.mutate { $0 += 1 }
                try Data("{}".utf8).write(to: make.companions[0])
                try Data("faces".utf8).write(to: make.file)
            }
        }
        XCTAssertEqual(remakes.value, 1)

        // A job stopped while it waits for another maker's piece stops waiting.
        let busy = try await queue.claimPiece(try b.key("clip.track"), owner: "c-1/piece-1", lease: 30, fileMissing: true)
        XCTAssertEqual(busy, .make(attempt: 1))
        let flag = CancellationFlag()
        let stopper = Task {
            try await Task.sleep(nanoseconds: 200_000_000)
            flag.set()
        }
        do {
            _ = try await runOnOwnThread(named: "test-job") { _ in
                try b.piece("clip.track", cancellation: flag) { _ in XCTFail("another worker is making it") }
            }
            XCTFail("a stopped job must stop waiting")
        } catch let error as JobRunError {
            guard case .stopped = error else { return XCTFail("\(error)") }
        }
        _ = try await stopper.value
        try await queue.close()
        withExtendedLifetime(directory) {}
    }
}
