import Foundation
import XCTest
@testable import Threads

/// Counts the threads a loop's chunks ran on, and how many ran at the same moment.
final class ThreadCensus: @unchecked Sendable {
    private let lock = NSLock()
    private var active = 0
    private(set) var mostAtOnce = 0
    private var threads: Set<ObjectIdentifier> = []
    var threadCount: Int { lock.withLock { threads.count } }

    /// Runs `work` counted as one chunk on the current thread.
    func chunk(_ work: () -> Void = { usleep(5_000) }) {
        lock.withLock {
            active += 1
            mostAtOnce = max(mostAtOnce, active)
            threads.insert(ObjectIdentifier(Thread.current))
        }
        work()
        lock.withLock { active -= 1 }
    }
}

final class ThreadTeamTests: XCTestCase {
    /// A team of three runs a loop on exactly three threads at once, even on a machine with fewer cores (chunks
    /// that sleep need no core), and never on more.
    func testALoopRunsOnExactlyTheTeamsThreads() {
        let team = ThreadTeam(size: 3)
        let census = ThreadCensus()
        team.run(60) { _ in census.chunk() }
        XCTAssertEqual(census.mostAtOnce, 3)
        XCTAssertEqual(census.threadCount, 3)
    }

    func testEveryIndexRunsOnce() {
        let team = ThreadTeam(size: 4)
        let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: 1000)
        hits.initialize(repeating: 0)
        defer { hits.deallocate() }
        team.run(1000) { i in hits[i] += 1 }
        XCTAssertEqual(Array(hits), [Int](repeating: 1, count: 1000))
    }

    /// Shrinking to one thread runs loops on the caller alone; growing again brings the helpers back.
    func testResizeLimitsTheThreads() {
        let team = ThreadTeam(size: 4)
        team.resize(1)
        let alone = ThreadCensus()
        team.run(20) { _ in alone.chunk() }
        XCTAssertEqual(alone.threadCount, 1)
        team.resize(2)
        let pair = ThreadCensus()
        team.run(40) { _ in pair.chunk() }
        XCTAssertEqual(pair.mostAtOnce, 2)
        XCTAssertEqual(pair.threadCount, 2)
    }

    /// Loops started inside a chunk, and loops started from several threads at once, all finish with every index
    /// run once.
    func testNestedAndConcurrentLoopsFinish() {
        let team = ThreadTeam(size: 3)
        let lock = NSLock()
        var total = 0
        team.run(6) { _ in
            team.run(50) { i in lock.withLock { total += i } }
        }
        XCTAssertEqual(total, 6 * (49 * 50 / 2))

        let sum = Sum()
        let group = DispatchGroup()
        for _ in 0..<4 {
            DispatchQueue.global().async(group: group) { team.run(100) { i in sum.add(i) } }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(sum.value, 4 * (99 * 100 / 2))
    }
}

private final class Sum: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    var value: Int { lock.withLock { total } }
    func add(_ n: Int) { lock.withLock { total += n } }
}
