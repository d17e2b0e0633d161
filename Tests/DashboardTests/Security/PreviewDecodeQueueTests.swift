import Foundation
import XCTest
@testable import Dashboard

/// Previews decode on threads of their own, a bounded number at a time, one decode per picture.
final class PreviewDecodeQueueTests: XCTestCase {
    /// A decode that blocks until the test lets it go, and counts how often it ran.
    final class Gate: @unchecked Sendable {
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private var runs = 0
        var count: Int { lock.withLock { runs } }
        func work(_ value: String) -> @Sendable () throws -> Data? {
            { [self] in
                lock.withLock { runs += 1 }
                started.signal()
                release.wait()
                return Data(value.utf8)
            }
        }
    }

    func testBlockingDecodesLeaveSwiftsCooperativePoolFree() throws {
        let queue = PreviewDecodeQueue(threads: 2, capacity: 16)
        let gate = Gate()
        let results = ResultBox()
        for i in 0..<8 {
            Task.detached { results.add(try? await queue.decode(key: "picture-\(i)", gate.work("\(i)"))) }
        }
        XCTAssertEqual(gate.started.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(gate.started.wait(timeout: .now() + 10), .success)
        // Both decode threads are blocked now; had they been the pool's, this task could not run.
        let ran = DispatchSemaphore(value: 0)
        Task.detached { ran.signal() }
        XCTAssertEqual(ran.wait(timeout: .now() + 5), .success, "a blocked decode must not hold a cooperative thread")
        for _ in 0..<8 { gate.release.signal() }
        XCTAssertTrue(results.waitFor(8))
        XCTAssertEqual(gate.count, 8)
    }

    func testOneDecodePerPictureAtATime() async throws {
        let queue = PreviewDecodeQueue(threads: 2, capacity: 16)
        let gate = Gate()
        let first = Task { try await queue.decode(key: "job-1/input.png", gate.work("first")) }
        XCTAssertEqual(gate.started.wait(timeout: .now() + 10), .success)
        let others = (0..<4).map { _ in Task { try await queue.decode(key: "job-1/input.png", gate.work("other")) } }
        try await waitUntil { queue.waiters(for: "job-1/input.png") == 5 }
        gate.release.signal()
        let a = try await first.value
        for t in others {
            let b = try await t.value
            XCTAssertEqual(b, a, "the waiting requests get the one decode's picture")
        }
        XCTAssertEqual(gate.count, 1)
    }

    func testPicturesBeyondTheCapacityAreRefusedNotQueued() async throws {
        let queue = PreviewDecodeQueue(threads: 1, capacity: 2)
        let gate = Gate()
        let a = Task { try await queue.decode(key: "a", gate.work("a")) }
        XCTAssertEqual(gate.started.wait(timeout: .now() + 10), .success)
        let b = Task { try await queue.decode(key: "b", gate.work("b")) }
        try await waitUntil { queue.inFlight == 2 }
        do {
            _ = try await queue.decode(key: "c", gate.work("c"))
            XCTFail("a third picture must be refused")
        } catch let error as PreviewError {
            XCTAssertEqual(error, .busy)
        }
        gate.release.signal(); gate.release.signal()
        let (ra, rb) = (try await a.value, try await b.value)
        XCTAssertEqual(ra, Data("a".utf8))
        XCTAssertEqual(rb, Data("b".utf8))
        let rc = try await queue.decode(key: "c") { Data("c".utf8) }
        XCTAssertEqual(rc, Data("c".utf8), "room again once done")
    }

    func testFramesOverThePixelCapAreRefusedBeforeDecoding() async throws {
        let clip = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("samples/turning-head.mp4")
        let small = MediaPreviews(maxPixels: 100 * 100)
        do {
            _ = try await small.firstFrame(of: clip, key: "1/input.png")()
            XCTFail("the sample's frames are over 100×100")
        } catch let PreviewError.tooLarge(width, height, maxPixels) {
            XCTAssertGreaterThan(width * height, maxPixels)
        }
        let png = try await MediaPreviews().firstFrame(of: clip, key: "1/input.png")()
        XCTAssertEqual(png?.prefix(4), Data([0x89, 0x50, 0x4E, 0x47]), "under the default cap the picture is made")
    }

    func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<400 {
            if condition() { return }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        XCTFail("timed out")
    }
}

final class ResultBox: @unchecked Sendable {
    private let condition = NSCondition()
    private var results: [Data?] = []
    func add(_ d: Data?) { condition.withLock { results.append(d); condition.broadcast() } }
    func waitFor(_ n: Int) -> Bool {
        condition.withLock {
            let deadline = Date() + 10
            while results.count < n { if !condition.wait(until: deadline) { return false } }
            return true
        }
    }
}
