import Foundation
import Logging
import XCTest
@testable import Jobs

/// Bounded disk: the track cache evicts least recently used files of clips nobody needs, and temporary folders of
/// processes that are gone are removed.
final class TrackCacheTests: XCTestCase {
    private func file(_ folder: TemporaryDirectory, _ name: String, bytes: Int, age: TimeInterval) throws {
        let url = try folder.write(name, String(repeating: "x", count: bytes))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: url.path)
    }

    func testPruneEvictsLeastRecentlyUsedFilesNotInUse() throws {
        let folder = try TemporaryDirectory("cache")
        let busy = "aaaaaaaaaaaaaaaa", old = "bbbbbbbbbbbbbbbb", recent = "cccccccccccccccc"
        try file(folder, "\(busy)-1.track", bytes: 400, age: 900)
        try file(folder, "\(old)-1.track", bytes: 300, age: 600)
        try file(folder, "\(old)-1.faces", bytes: 100, age: 500)
        try file(folder, "\(recent)-1.track", bytes: 300, age: 10)
        let cache = TrackCache(folder: folder.url)
        XCTAssertEqual(cache.entries(inUse: [busy]).map(\.name), ["\(busy)-1.track", "\(old)-1.track", "\(old)-1.faces", "\(recent)-1.track"])
        let removed = cache.prune(to: 700, inUse: [busy], partialGrace: 30)
        XCTAssertEqual(removed.map(\.name), ["\(old)-1.track", "\(old)-1.faces"], "oldest unused first, until it fits")
        XCTAssertEqual(cache.entries(inUse: []).reduce(0) { $0 + $1.bytes }, 700)
        // A file of a clip still needed stays even when the cache cannot fit otherwise.
        cache.prune(to: 0, inUse: [busy], partialGrace: 30)
        XCTAssertEqual(cache.entries(inUse: []).map(\.name), ["\(busy)-1.track"])
        XCTAssertEqual(TrackCache.parseSize("2G"), 2 << 30)
        XCTAssertEqual(TrackCache.parseSize("500m"), 500 << 20)
        XCTAssertEqual(TrackCache.parseSize("4096"), 4096)
        XCTAssertNil(TrackCache.parseSize("lots"))
    }

    /// Sizes beyond 64 bits are refused rather than trapping (`--cache-max 9000000T` crashed the worker).
    func testSizesThatDoNotFitAreRefused() {
        XCTAssertNil(TrackCache.parseSize("9000000T"))
        XCTAssertNil(TrackCache.parseSize("8388608T"), "2^63 bytes is one more than fits")
        XCTAssertEqual(TrackCache.parseSize("8388607T"), 8_388_607 << 40)
        XCTAssertNil(TrackCache.parseSize("1e300"))
    }

    /// Two machines prune one shared work folder while both are making pieces: neither deletes the other's
    /// temporary files of a clip in use (hidden names, `.STEM.partial-…`), nor a fresh temporary of any clip (its
    /// maker may still write it); an old temporary of a clip nobody needs goes.
    func testPruningFromTwoMachinesLeavesFilesBeingMadeAlone() throws {
        let folder = try TemporaryDirectory("cache-two-machines")
        let busy = "aaaaaaaaaaaaaaaa", idle = "bbbbbbbbbbbbbbbb", gone = "cccccccccccccccc"
        let machineA = ".\(busy)-1.part-000-of-2.partial-101-7.mkv"
        let machineB = "..\(busy)-1.segment-1-of-2x8.partial-202-8.partial-202-9.track"
        let fresh = ".\(idle)-1.partial-303-1.faces"
        let stale = ".\(gone)-1.partial-404-1.track"
        try file(folder, machineA, bytes: 500, age: 900)
        try file(folder, machineB, bytes: 500, age: 900)
        try file(folder, fresh, bytes: 500, age: 5)
        try file(folder, stale, bytes: 500, age: 600)
        try file(folder, "\(gone)-1.track", bytes: 500, age: 700)
        // Each machine prunes to nothing at the same moment, as workers do after their jobs.
        let shared = folder.url
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            TrackCache(folder: shared).prune(to: 0, inUse: [busy], partialGrace: 30)
        }
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
        XCTAssertEqual(left, [machineA, machineB, fresh])
        XCTAssertEqual(Set(TrackCache(folder: folder.url).entries(inUse: [busy]).filter(\.inUse).map(\.name)), [machineA, machineB])
    }

    /// Pruning a work folder takes the ledger rows of the pieces it removed with them (`avatarize cache prune` and a
    /// worker's eviction alike): a made piece whose file went has no row left saying it is done, while a piece still
    /// in use keeps its file and its row, and a piece being made keeps its row. A real SQLite queue holds the ledger.
    func testPrunedPiecesLeaveTheLedgerWithTheirFiles() async throws {
        let folder = try TemporaryDirectory("cache-ledger")
        let queue = try await QueueOpener.open(.sqlite(path: folder.path + "/queue.db"))
        let work = folder.url.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let maker = PieceMaker(folder: work, ledger: queue, worker: "w", lease: 30, pollInterval: 0.1, logger: Logger(label: "test.cache"))
        let busy = "aaaaaaaaaaaaaaaa", old = "bbbbbbbbbbbbbbbb"
        let names = ["\(busy)-1.faces", "\(old)-1.faces", "\(old)-1.track"]
        for name in names {
            let claimed = try await queue.claimPiece(try maker.key(name), owner: "w/1", lease: 30, fileMissing: false)
            XCTAssertEqual(claimed, .make(attempt: 1))
            try Data(repeating: 7, count: 100).write(to: work.appendingPathComponent(name))
        }
        for name in names.prefix(2) {
            let finished = try await queue.finishPiece(try maker.key(name), owner: "w/1")
            XCTAssertTrue(finished)
        }
        let cache = TrackCache(folder: work)
        let removed = cache.prune(to: 0, inUse: [busy], partialGrace: 30)
        XCTAssertEqual(Set(removed.map(\.name)), ["\(old)-1.faces", "\(old)-1.track"])
        let forgotten = try await cache.forgetPieces(of: removed, in: queue)
        XCTAssertEqual(forgotten, 1, "the made piece's row goes; the one still being made keeps its row")
        let rows = try await queue.pieces(prefix: try maker.folderIdentity() + "/")
        XCTAssertEqual(rows.map(\.key), [try maker.key("\(busy)-1.faces"), try maker.key("\(old)-1.track")])
        // A folder without an identity has no rows to forget.
        let elsewhere = try TemporaryDirectory("cache-no-identity")
        let none = try await TrackCache(folder: elsewhere.url).forgetPieces(of: removed, in: queue)
        XCTAssertEqual(none, 0)
        try await queue.close()
    }

    func testScratchOfProcessesThatAreGoneIsRemoved() throws {
        let folder = try TemporaryDirectory("scratch")
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let me = ProcessInfo.processInfo.processIdentifier
        let names = ["avatarize-\(finished.processIdentifier)-dead", "avatarize-\(me)-alive", "avatarize-\(me)-before-it-started",
                     "avatarize-jobs-notscratch"]
        for name in names { try FileManager.default.createDirectory(at: folder.file(name), withIntermediateDirectories: true) }
        // A folder older than the process with its PID was made by an earlier process (a reused PID, a reboot).
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000)],
                                              ofItemAtPath: folder.file(names[2]).path)
        let removed = ScratchSweeper.sweep(in: folder.url)
        XCTAssertEqual(Set(removed), [names[0], names[2]])
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)), [names[1], names[3]])
    }
}
