import Foundation
import TestSupport
import XCTest
@testable import Jobs

/// A batch of avatar jobs over different clips under a small `--cache-max`: the jobs' cache of latent tracks is
/// watched while the worker runs, and never holds more than the limit plus the track being made (eviction runs
/// after each job); at the end it is within the limit and the oldest tracks are the ones gone.
final class CacheLimitTests: XCTestCase {
    func testTrackCacheStaysUnderItsLimitOverABatch() async throws {
        let batch = try Batch(backend: SQLiteBackend(), label: "cache-limit")
        batch.extraEnvironment["AVATARIZE_CACHE"] = batch.url("cache").path
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/talking-head.mp4")
        let ffmpeg = try XCTUnwrap(ProcessRunner.which("ffmpeg"))
        // Four clips of three frames each from different moments of the sample: four different tracks.
        try FileManager.default.createDirectory(at: batch.url("clips"), withIntermediateDirectories: true)
        for (i, start) in ["0.2", "1.0", "1.8", "2.6"].enumerated() {
            let cut = try ProcessRunner.run(ffmpeg, ["-v", "error", "-y", "-ss", start, "-i", sample.path, "-frames:v", "3",
                                                     "-c:v", "libx264", "-preset", "veryfast", "-an", batch.url("clips/c\(i).mp4").path])
            XCTAssertEqual(cut.status, 0, cut.stderr)
        }
        try batch.directory.write("jobs.yaml", """
            kind: avatar
            inputs: [clips/c*.mp4]
            output: out/{clip}-{style}.mp4
            settings: [{style: sketch}]
            """)
        // One worker, so that the tracks are made one after another and the watch below sees each.
        XCTAssertEqual(try batch.avatarize(["enqueue", batch.url("jobs.yaml").path, "--queue", batch.queueURL]).status, 0)

        // A three-frame demo track is about 7 KB: 16 KB holds two.
        let limit: Int64 = 16 << 10
        let tracks = batch.url("cache/jobs/tracks")
        func sizes() -> [String: Int64] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: tracks.path)) ?? []
            var out: [String: Int64] = [:]
            for name in names where name.hasSuffix(".track") {
                let attributes = try? FileManager.default.attributesOfItem(atPath: tracks.appendingPathComponent(name).path)
                out[name] = (attributes?[.size] as? NSNumber)?.int64Value ?? 0
            }
            return out
        }
        let worker = try batch.startWorker(["--drain", "--poll-seconds", "0.1", "--cache-max", "16K"])
        var highWater: Int64 = 0, largest: Int64 = 0
        var seen: Set<String> = []  // finished tracks (a track being made is a hidden .partial file)
        while worker.process.isRunning {
            let now = sizes()
            highWater = max(highWater, now.values.reduce(0, +))
            largest = max(largest, now.values.max() ?? 0)
            seen.formUnion(now.keys.filter { !$0.hasPrefix(".") })
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        XCTAssertEqual(worker.process.terminationStatus, 0, worker.output)
        let final = sizes()
        print("cache limit: \(limit) bytes; high-water mark \(highWater) bytes; \(seen.count) tracks made, \(final.count) kept")
        XCTAssertEqual(seen.count, 4, "every clip made its own track")
        XCTAssertGreaterThan(largest, 4 << 10, "tracks are big enough for the limit to bite")
        XCTAssertLessThanOrEqual(final.values.reduce(0, +), limit)
        XCTAssertLessThan(final.count, 4, "tracks were evicted")
        XCTAssertLessThanOrEqual(highWater, limit + largest, "at most the track being made is over the limit")
        XCTAssertTrue(worker.output.contains("evicted"), worker.output)
        let queue = try await batch.openQueue()
        let states = try await queue.jobs(state: nil, limit: 10).map(\.state)
        try await queue.close()
        XCTAssertEqual(states, Array(repeating: .succeeded, count: 4))
    }
}
