import Foundation
import TestSupport
import XCTest
import Models
@testable import Jobs

extension WorkerScenarios {
    /// A farm having a bad day, on a real PostgreSQL server: a mixed batch (transcodes, an avatar job,
    /// an input that is not media) run by three worker processes that a supervisor keeps SIGKILLing at random and
    /// replacing, while the database itself crashes (`pg_ctl -m immediate`) and comes back twice. The batch must end
    /// as if nothing had happened: every job succeeded exactly once, or dead by design; every output whole; no
    /// staging folder or partial file left anywhere under the output root.
    func workerKillsAndDatabaseCrashesLoseAndDoubleNothing() async throws {
        let cluster = try XCTUnwrap((backend as? PostgresBackend)?.cluster, "the chaos scenario crashes a PostgreSQL server")
        let batch = try Batch(backend: backend, label: "chaos")
        for i in 0..<6 {
            try ClipMaker.make(batch.url("clips/c\(i).mp4"), seconds: 3, size: "320x180", rate: 25)
        }
        try batch.directory.write("clips/broken.mp4", "this is not a video\n")
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/talking-head.mp4")
        // The first second of the sample: the avatar job is the slow one (a debug build renders about a frame a second).
        try ClipMaker.trim(sample, to: batch.url("clips/talk.mp4"), seconds: 1)
        batch.extraEnvironment["AVATARIZE_CACHE"] = batch.url("cache").path
        try batch.directory.write("transcodes.yaml", """
            inputs: [clips/c*.mp4, clips/broken.mp4]
            output: out/{clip}-{style}.mp4
            output_root: out
            max_attempts: 8
            settings: [{style: copy}]
            """)
        try batch.directory.write("avatar.yaml", """
            kind: avatar
            inputs: [clips/talk.mp4]
            output: out/{clip}-{style}.mp4
            output_root: out
            max_attempts: 8
            settings: [{style: sketch}]
            """)
        for file in ["transcodes.yaml", "avatar.yaml"] {
            let enqueue = try batch.avatarize(["enqueue", batch.url(file).path, "--queue", batch.queueURL])
            XCTAssertEqual(enqueue.status, 0, enqueue.stderr)
        }

        // Seeded, so a failing run can be replayed with the same kills.
        var random = SplitMix64(seed: 0xC4A05)
        let workerArguments = ["--lease-seconds", "2", "--poll-seconds", "0.1", "--retry-base-seconds", "0.2", "--retry-max-seconds", "1"]
        // Named workers, so that the supervisor can aim at one that holds a job.
        var started = 0
        func startWorker() throws -> (name: String, process: WorkerProcess) {
            started += 1
            return ("chaos-\(started)", try batch.startWorker(workerArguments + ["--name", "chaos-\(started)"]))
        }
        var workers = try (0..<3).map { _ in try startWorker() }
        var retired: [WorkerProcess] = []
        var kills = 0, crashes = 0, exited = 0
        let crashAt: Set<Int> = [3, 9]
        let deadline = Date().addingTimeInterval(420)
        var tick = 0
        var finished = false
        while Date() < deadline {
            try await Task.sleep(nanoseconds: 700_000_000)
            tick += 1
            if crashAt.contains(tick) {
                try cluster.crashAndRestart()
                crashes += 1
            } else if tick <= 24, Int.random(in: 0..<2, using: &random) == 0 {
                // SIGKILL a worker, as the OOM killer or a pulled plug would, and start a replacement.
                // Mostly one in the middle of a job (an idle worker's death tests little).
                var holders: Set<String> = []
                if let queue = try? await batch.openQueue() {
                    holders = Set(((try? await queue.jobs(state: .running, limit: 10)) ?? []).compactMap(\.leaseOwner))
                    try? await queue.close()
                }
                let busy = workers.indices.filter { holders.contains(workers[$0].name) }
                let k = !busy.isEmpty && Int.random(in: 0..<4, using: &random) != 0 ? busy[Int.random(in: 0..<busy.count, using: &random)] : Int.random(in: 0..<workers.count, using: &random)
                workers[k].process.signal(SIGKILL)
                _ = await workers[k].process.wait(timeout: 10)
                retired.append(workers[k].process)
                workers[k] = try startWorker()
                kills += 1
            }
            // A supervisor (systemd, Kubernetes) restarts a worker that exited on its own.
            for k in workers.indices where !workers[k].process.process.isRunning {
                exited += 1
                retired.append(workers[k].process)
                workers[k] = try startWorker()
            }
            if tick > 24 || tick.isMultiple(of: 4) {
                guard let queue = try? await batch.openQueue() else { continue }
                let open = try? await queue.hasUnfinishedJobs()
                try? await queue.close()
                if open == false { finished = true; break }
            }
        }
        for worker in workers { worker.process.signal(SIGTERM) }
        for worker in workers { _ = await worker.process.wait(timeout: 30) }
        XCTAssertTrue(finished, "the batch did not finish within the time limit")

        let queue = try await batch.openQueue()
        let jobs = try await queue.jobs(state: nil, limit: 100)
        XCTAssertEqual(jobs.count, 8)
        var recomputed = 0
        for job in jobs {
            let payload = try job.decodedPayload()
            let events = try await queue.events(jobID: job.id).map(\.kind)
            recomputed += max(0, job.attempts - 1)
            if payload.input.hasSuffix("broken.mp4") {
                XCTAssertEqual(job.state, .dead, "the input that is not media dies by design")
                XCTAssertFalse(FileManager.default.fileExists(atPath: payload.output))
                continue
            }
            XCTAssertEqual(job.state, .succeeded, "\(payload.input): \(job.lastError ?? "")")
            XCTAssertEqual(events.filter { $0 == .succeeded }.count, 1, "\(payload.input) succeeded once: \(events)")
            let source = try ClipMaker.probe(URL(fileURLWithPath: payload.input))
            let output = try ClipMaker.probe(URL(fileURLWithPath: payload.output))
            XCTAssertEqual(output.frames, source.frames, "\(payload.output) is whole")
            XCTAssertTrue(output.hasAudio, payload.output)
        }
        try await queue.close()
        // Nothing but the outputs under the output root: no staging folders, no partial files.
        let left = try FileManager.default.contentsOfDirectory(atPath: batch.url("out").path).sorted()
        XCTAssertEqual(left, ["c0-copy.mp4", "c1-copy.mp4", "c2-copy.mp4", "c3-copy.mp4", "c4-copy.mp4", "c5-copy.mp4", "talk-sketch.mp4", "talk-sketch.report.html"])
        XCTAssertEqual(batch.stagingLeftovers(under: "out"), [])
        for worker in workers.map(\.process) + retired { batch.assertNoSecrets(worker.output) }
        print("chaos: \(jobs.count) jobs, \(kills) workers SIGKILLed, \(crashes) database crashes, \(exited) workers exited on their own and were restarted, \(recomputed) attempts repeated")
        XCTAssertGreaterThanOrEqual(kills, 4, "the chaos must actually have happened")
        XCTAssertGreaterThan(recomputed, 0, "some kill must have hit a job in progress")
        XCTAssertEqual(crashes, 2)
    }
}
