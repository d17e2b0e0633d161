import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import XCTest
@testable import Jobs

/// `worker --metrics-port`: a real worker process serving Prometheus text that reflects what it did.
final class WorkerMetricsTests: XCTestCase {
    func testWorkerServesPrometheusMetrics() async throws {
        let batch = try Batch(backend: SQLiteBackend(), label: "metrics")
        try ClipMaker.make(batch.url("clips/tiny.mp4"), seconds: 0.2)
        try batch.directory.write("jobs.yaml", """
            inputs: [clips/tiny.mp4]
            output: out/{clip}-{style}.mp4
            settings: [{style: a}, {style: b}, {style: c}]
            """)
        XCTAssertEqual(try batch.avatarize(["enqueue", batch.url("jobs.yaml").path, "--queue", batch.queueURL]).status, 0)
        let port = try PostgresCluster.freePort()
        let worker = try batch.startWorker(["--metrics-port", "\(port)", "--poll-seconds", "0.1"])
        defer { if worker.process.isRunning { worker.signal(SIGKILL) } }

        // Poll until the worker has done all three jobs and the queue gauges have caught up (refreshed every 2 s).
        var text = ""
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let (data, response) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!),
               (response as? HTTPURLResponse)?.statusCode == 200 {
                text = String(decoding: data, as: UTF8.self)
                if text.contains(#"avatarize_queue_jobs{state="succeeded"} 3"#) { break }
            }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        XCTAssertTrue(text.contains(#"avatarize_queue_jobs{state="succeeded"} 3"#), text)
        XCTAssertTrue(text.contains(#"avatarize_queue_jobs{state="queued"} 0"#), text)
        XCTAssertTrue(text.contains(#"avatarize_worker_jobs_total{outcome="succeeded"} 3"#), text)
        XCTAssertTrue(text.contains(#"avatarize_worker_jobs_total{outcome="failed"} 0"#), text)
        XCTAssertTrue(text.contains("avatarize_worker_frames_total 6"), text)
        XCTAssertTrue(text.contains("# TYPE avatarize_worker_frames_per_second gauge"), text)

        let (_, missing) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/other")!)
        XCTAssertEqual((missing as? HTTPURLResponse)?.statusCode, 404)

        worker.signal(SIGTERM)
        let status = await worker.wait(timeout: 20)
        XCTAssertEqual(status, 0, worker.output)
    }
}
