import Foundation
import XCTest
@testable import Jobs

/// What the dashboard makes of the queue's rows: workers by name rather than by lease token, and throughput over
/// the time work has actually been going on.
final class QueueBrowsingTests: XCTestCase {
    func testSightingsGroupAWorkersClaimTokens() {
        let t = Date(timeIntervalSince1970: 1_000_000)
        let sightings = WorkerSighting.merge(
            events: [("render-1/1", t), ("render-1/2", t.addingTimeInterval(5)), ("render/2/x", t), ("lab-7", t.addingTimeInterval(1))],
            running: [("render-1/3", t.addingTimeInterval(9), 42)])
        XCTAssertEqual(sightings, [
            WorkerSighting(name: "render-1", lastSeen: t.addingTimeInterval(9), currentJob: 42),
            WorkerSighting(name: "lab-7", lastSeen: t.addingTimeInterval(1), currentJob: nil),
            WorkerSighting(name: "render/2/x", lastSeen: t, currentJob: nil),
        ], "a claim number after the last / goes; any other / is part of the name")
    }

    func testThroughputWindowStartsAtTheFirstClaimWhenWorkBeganWithinTheHour() {
        let now = Date(timeIntervalSince1970: 2_000_000)
        let hourAgo = now.addingTimeInterval(-3600)
        let recent = QueueThroughput(since: hourAgo, firstClaim: now.addingTimeInterval(-120), jobs: 6, frames: 600, now: now)
        XCTAssertEqual(recent.minutes, 2, accuracy: 1e-9)
        XCTAssertEqual(recent.jobsPerMinute, 3, accuracy: 1e-9)
        XCTAssertEqual(recent.since, now.addingTimeInterval(-120))
        let allHour = QueueThroughput(since: hourAgo, firstClaim: nil, jobs: 6, frames: 600, now: now)
        XCTAssertEqual(allHour.minutes, 60, accuracy: 1e-9)
        XCTAssertEqual(allHour.framesPerMinute, 10, accuracy: 1e-9)
    }
}
