import Foundation
import XCTest
@testable import Jobs

/// The example job file shipped in samples/ must stay valid as the job format and kinds evolve.
final class SampleJobFileTests: XCTestCase {
    func testSampleJobFilePlansOneAvatarJobPerStyle() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/jobs.yaml")
        let jobs = try JobPlanner().plan(try JobFileParser().parse(fileAt: file.path), outputRootOverride: nil)
        XCTAssertEqual(jobs.count, 2)
        XCTAssertEqual(Set(jobs.map { URL(fileURLWithPath: $0.payload.output).lastPathComponent }),
                       ["talking-head-sketch.mp4", "talking-head-poster.mp4"])
        let kind = try XCTUnwrap(JobKinds.builtIn["avatar"] as? AvatarJobKind)
        for job in jobs { XCTAssertNoThrow(try kind.renderSettings(job.payload.settings)) }
    }

    func testAvatarSettingsAreCheckedAtRun() throws {
        let kind = AvatarJobKind(environment: [:])
        XCTAssertThrowsError(try kind.renderSettings(JobSettings(style: "sketch", layout: "diagonal"))) {
            XCTAssertTrue("\($0)".contains("layout"))
        }
        XCTAssertEqual(try kind.renderSettings(JobSettings(style: "sketch", camera: "source")).camera, .follow)
    }
}
