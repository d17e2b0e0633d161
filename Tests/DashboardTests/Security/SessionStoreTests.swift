import XCTest
@testable import Dashboard

/// Sessions end after their idle time without use and after their absolute lifetime whatever the use.
final class SessionStoreTests: XCTestCase {
    let start = Date(timeIntervalSince1970: 1_000_000)

    func testIdleSessionExpiresAndUseKeepsItAlive() {
        let store = SessionStore(limits: .init(idle: 60, absolute: 3600))
        let kept = store.open(now: start)
        let idle = store.open(now: start)
        XCTAssertTrue(store.validate(kept, now: start + 50))
        XCTAssertTrue(store.validate(kept, now: start + 100), "used 50 s ago: still live")
        XCTAssertFalse(store.validate(idle, now: start + 100), "unused for 100 s of a 60 s idle limit")
        XCTAssertFalse(store.validate(idle, now: start + 101), "an expired session does not come back")
    }

    func testAbsoluteLifetimeEndsASessionInUse() {
        let store = SessionStore(limits: .init(idle: 60, absolute: 150))
        let id = store.open(now: start)
        for t in stride(from: 30.0, to: 150, by: 30) { XCTAssertTrue(store.validate(id, now: start + t), "\(t)") }
        XCTAssertFalse(store.validate(id, now: start + 150))
    }

    func testUnknownIdsAndClosedSessionsAreRefusedAndTheCountIsCapped() {
        let store = SessionStore(limits: .init(idle: 60, absolute: 3600, maxSessions: 3))
        XCTAssertFalse(store.validate("0123", now: start))
        let first = store.open(now: start)
        for i in 1...5 { _ = store.open(now: start + Double(i)) }
        XCTAssertEqual(store.count, 3)
        XCTAssertFalse(store.validate(first, now: start + 6), "the oldest makes room")
        let last = store.open(now: start + 7)
        store.close(last)
        XCTAssertFalse(store.validate(last, now: start + 7))
    }

    func testIdsAreLongAndDistinct() {
        let store = SessionStore()
        let ids = (0..<100).map { _ in store.open() }
        XCTAssertEqual(Set(ids).count, 100)
        XCTAssertTrue(ids.allSatisfy { $0.count == 64 })
    }
}
