import XCTest
@testable import Dashboard

/// Wrong sign-in tokens are limited per address and overall, in a sliding window.
final class LoginThrottleTests: XCTestCase {
    let start = Date(timeIntervalSince1970: 1_000_000)

    func testAClientOverItsLimitWaitsUntilItsOldestFailureLeavesTheWindow() {
        let throttle = LoginThrottle(perClient: 3, overall: 100, window: 60)
        for i in 0..<3 {
            XCTAssertNil(throttle.wait(client: "a", now: start + Double(i)))
            throttle.recordFailure(client: "a", now: start + Double(i))
        }
        XCTAssertEqual(throttle.wait(client: "a", now: start + 10), 50)
        XCTAssertNil(throttle.wait(client: "b", now: start + 10), "another address is not held up")
        XCTAssertNil(throttle.wait(client: "a", now: start + 60.5), "the first failure has left the window")
    }

    func testAllClientsTogetherAreLimited() {
        let throttle = LoginThrottle(perClient: 3, overall: 4, window: 60)
        for (i, c) in ["a", "b", "c", "d"].enumerated() { throttle.recordFailure(client: c, now: start + Double(i)) }
        XCTAssertEqual(throttle.wait(client: "e", now: start + 5), 55)
    }

    func testSuccessClearsTheClientsCount() {
        let throttle = LoginThrottle(perClient: 2, overall: 100, window: 60)
        throttle.recordFailure(client: "a", now: start)
        throttle.recordSuccess(client: "a")
        throttle.recordFailure(client: "a", now: start + 1)
        XCTAssertNil(throttle.wait(client: "a", now: start + 2))
        throttle.recordFailure(client: "a", now: start + 2)
        XCTAssertNotNil(throttle.wait(client: "a", now: start + 3))
    }
}
