import Foundation
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
        let removed = cache.prune(to: 700, inUse: [busy])
        XCTAssertEqual(removed.map(\.name), ["\(old)-1.track", "\(old)-1.faces"], "oldest unused first, until it fits")
        XCTAssertEqual(cache.entries(inUse: []).reduce(0) { $0 + $1.bytes }, 700)
        // A file of a clip still needed stays even when the cache cannot fit otherwise.
        cache.prune(to: 0, inUse: [busy])
        XCTAssertEqual(cache.entries(inUse: []).map(\.name), ["\(busy)-1.track"])
        XCTAssertEqual(TrackCache.parseSize("2G"), 2 << 30)
        XCTAssertEqual(TrackCache.parseSize("500m"), 500 << 20)
        XCTAssertEqual(TrackCache.parseSize("4096"), 4096)
        XCTAssertNil(TrackCache.parseSize("lots"))
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
