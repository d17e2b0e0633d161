import Foundation
import XCTest
@testable import Pipeline

final class BehindStageTests: XCTestCase {
    /// A thread-safe record of what ran.
    final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [Int] = []
        func append(_ i: Int) { lock.lock(); items.append(i); lock.unlock() }
        var all: [Int] { lock.lock(); defer { lock.unlock() }; return items }
    }

    /// A door items wait at until the test opens it.
    final class Gate: @unchecked Sendable {
        private let cond = NSCondition()
        private var isOpen = false
        func wait() { cond.lock(); while !isOpen { cond.wait() }; cond.unlock() }
        func open() { cond.lock(); isOpen = true; cond.broadcast(); cond.unlock() }
    }

    struct Boom: Error, Equatable { var at: Int }

    func testRunsEverythingInOrderOffTheCallersThread() throws {
        let stage = BehindStage(name: "test.behind", depth: 2)
        let log = Log()
        let caller = Thread.current
        let elsewhere = Log()
        for i in 0..<50 {
            try stage.submit {
                if Thread.current != caller { elsewhere.append(i) }
                if i % 7 == 0 { Thread.sleep(forTimeInterval: 0.002) }
                log.append(i)
            }
        }
        try stage.finish()
        XCTAssertEqual(log.all, Array(0..<50))
        XCTAssertEqual(elsewhere.all.count, 50, "the work runs on the stage's own thread")
    }

    func testAtMostDepthItemsWaitSoTheCallerIsHeldBack() throws {
        let stage = BehindStage(name: "test.behind", depth: 2)
        let gate = Gate()
        let started = Log()
        try stage.submit {
            started.append(0)
            gate.wait()
        }
        while started.all.isEmpty { Thread.sleep(forTimeInterval: 0.001) }
        try stage.submit {}
        try stage.submit {}
        // The first item is still running and two wait: the next submit must block until the gate opens.
        let submitted = Log()
        let t = Thread {
            try? stage.submit {}
            submitted.append(1)
        }
        t.start()
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(submitted.all, [], "a fourth item was accepted while the stage was full")
        gate.open()
        while submitted.all.isEmpty { Thread.sleep(forTimeInterval: 0.001) }
        try stage.finish()
    }

    func testTheFirstErrorSurfacesAndLaterWorkDoesNotRun() throws {
        let stage = BehindStage(name: "test.behind", depth: 1)
        let log = Log()
        var thrown: Error?
        for i in 0..<20 {
            do {
                try stage.submit {
                    if i == 3 { throw Boom(at: 3) }
                    log.append(i)
                }
            } catch {
                thrown = error
                break
            }
        }
        XCTAssertThrowsError(try stage.finish()) { XCTAssertEqual($0 as? Boom, Boom(at: 3)) }
        if let thrown { XCTAssertEqual(thrown as? Boom, Boom(at: 3)) }
        XCTAssertEqual(log.all, [0, 1, 2], "nothing after the failing item runs")
    }

    func testCancelDropsWhatWaits() throws {
        let stage = BehindStage(name: "test.behind", depth: 8)
        let log = Log()
        let gate = Gate()
        let started = Log()
        try stage.submit {
            started.append(0)
            gate.wait()
            log.append(0)
        }
        while started.all.isEmpty { Thread.sleep(forTimeInterval: 0.001) }
        for i in 1..<6 { try stage.submit { log.append(i) } }
        let releaser = Thread {
            Thread.sleep(forTimeInterval: 0.05)
            gate.open()
        }
        releaser.start()
        stage.cancel()
        XCTAssertEqual(log.all, [0], "the item in progress ends; the waiting ones are dropped")
    }

    func testDepthZeroRunsEachItemInTheCallersThreadAtOnce() throws {
        let stage = BehindStage(name: "test.inline", depth: 0)
        let log = Log()
        let caller = Thread.current
        for i in 0..<3 {
            try stage.submit {
                XCTAssertEqual(Thread.current, caller)
                log.append(i)
            }
            XCTAssertEqual(log.all.last, i, "item \(i) ran before submit returned")
        }
        XCTAssertThrowsError(try stage.submit { throw Boom(at: 3) })
        XCTAssertThrowsError(try stage.submit { log.append(4) }) { XCTAssertEqual($0 as? Boom, Boom(at: 3)) }
        XCTAssertThrowsError(try stage.finish())
        XCTAssertEqual(log.all, [0, 1, 2])
    }
}
