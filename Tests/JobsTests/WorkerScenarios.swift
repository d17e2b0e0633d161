import Foundation
import XCTest
@testable import Jobs
import Pipeline
import Tensors

/// Behaviour of real worker processes against a real queue, run once per backend.
struct WorkerScenarios {
    let backend: any QueueBackend

    /// The worker process of a lease owner (`WORKER/CLAIM`).
    static func process(_ owner: String) -> String { String(owner.split(separator: "/").first ?? "") }

    /// 200 jobs over 4 worker processes: every job succeeds exactly once, every output exists, nothing is left over.
    func twoHundredJobsOverFourWorkersFinishExactlyOnce() async throws {
        let batch = try Batch(backend: backend, label: "many")
        try ClipMaker.make(batch.url("clips/tiny.mp4"), seconds: 0.2)
        let styles = (0..<200).map { String(format: "s%03d", $0) }
        try batch.directory.write("jobs.yaml", """
            inputs: [clips/tiny.mp4]
            output: out/{clip}-{style}.mp4
            settings:
            \(styles.map { "  - style: \($0)" }.joined(separator: "\n"))
            """)
        let enqueue = try batch.avatarize(["enqueue", batch.url("jobs.yaml").path, "--queue", batch.queueURL])
        XCTAssertEqual(enqueue.status, 0, enqueue.stderr)

        let workers = try (0..<4).map { _ in
            try batch.startWorker(["--drain", "--lease-seconds", "20", "--poll-seconds", "0.1"])
        }
        var succeededByWorkers = 0
        for worker in workers {
            let status = await worker.wait(timeout: 150)
            XCTAssertEqual(status, 0, worker.output)
            batch.assertNoSecrets(worker.output)
            // "worker NAME: N succeeded, …"
            if let line = worker.stdout.split(separator: "\n").last(where: { $0.hasPrefix("worker ") }),
               let count = line.split(separator: ":").last?.split(separator: " ").first.flatMap({ Int($0) }) {
                succeededByWorkers += count
            } else {
                XCTFail("no summary line from worker:\n\(worker.output)")
            }
        }
        XCTAssertEqual(succeededByWorkers, 200, "the workers together report each job done once")

        let queue = try await batch.openQueue()
        let jobs = try await queue.jobs(state: nil, limit: 1000)
        XCTAssertEqual(jobs.count, 200)
        XCTAssertTrue(jobs.allSatisfy { $0.state == .succeeded }, "states: \(Set(jobs.map(\.state)))")
        XCTAssertTrue(jobs.allSatisfy { $0.attempts == 1 }, "no job ran twice")
        var owners = Set<String>()
        for job in jobs {
            let events = try await queue.events(jobID: job.id)
            XCTAssertEqual(events.filter { $0.kind == .claimed }.count, 1, "job \(job.id) claimed once")
            XCTAssertEqual(events.filter { $0.kind == .succeeded }.count, 1, "job \(job.id) finished once")
            // Lease owners are WORKER/CLAIM; the process is the part before the slash.
            if let owner = events.first(where: { $0.kind == .succeeded })?.worker { owners.insert(Self.process(owner)) }
        }
        XCTAssertGreaterThanOrEqual(owners.count, 2, "the work was shared between processes")
        try await queue.close()

        let outputs = try FileManager.default.contentsOfDirectory(atPath: batch.url("out").path).filter { $0.hasSuffix(".mp4") }
        XCTAssertEqual(Set(outputs), Set(styles.map { "tiny-\($0).mp4" }))
        XCTAssertEqual(batch.stagingLeftovers(under: "out"), [])
        for sample in ["tiny-s000.mp4", "tiny-s199.mp4"] {
            let probe = try ClipMaker.probe(batch.url("out/\(sample)"))
            XCTAssertEqual(probe.frames, 2, sample)
            XCTAssertTrue(probe.hasAudio, sample)
        }
    }

    /// A worker SIGKILLed mid-job: after its lease expires another worker re-runs the job, and the final output is
    /// whole.
    func killedWorkersJobRunsAgainAfterLeaseExpiry() async throws {
        let batch = try Batch(backend: backend, label: "kill")
        try ClipMaker.make(batch.url("clips/long.mp4"), seconds: 12, size: "640x360", rate: 25)
        let source = try ClipMaker.probe(batch.url("clips/long.mp4"))
        try batch.directory.write("jobs.yaml", """
            inputs: [clips/long.mp4]
            output: out/{clip}-{style}.mp4
            settings: [{style: whole}]
            """)
        XCTAssertEqual(try batch.avatarize(["enqueue", batch.url("jobs.yaml").path, "--queue", batch.queueURL]).status, 0)
        let queue = try await batch.openQueue()
        let awaited1 = try await queue.jobs(state: nil, limit: 1).first?.id
        let id = try XCTUnwrap(awaited1)

        let doomed = try batch.startWorker(["--lease-seconds", "2", "--poll-seconds", "0.1"])
        let deadline = Date().addingTimeInterval(60)
        var seen: JobRecord?
        while Date() < deadline {
            seen = try await queue.job(id: id)
            if let seen, seen.state == .running, seen.progressDone > 0 { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        doomed.signal(SIGKILL)
        _ = await doomed.wait(timeout: 10)
        let awaited2 = try await queue.job(id: id)
        let atKill = try XCTUnwrap(awaited2)
        XCTAssertEqual(atKill.state, .running, "the job must still be running when its worker dies (clip too short?)")
        XCTAssertGreaterThan(atKill.progressDone, 0)
        XCTAssertLessThan(atKill.progressDone, source.frames)
        XCTAssertFalse(FileManager.default.fileExists(atPath: batch.url("out/long-whole.mp4").path),
                       "no output appears for a job that died")
        XCTAssertFalse(batch.stagingLeftovers(under: "out").isEmpty, "the dead attempt leaves its staging folder (and nothing else)")

        let rescuer = try batch.startWorker(["--drain", "--lease-seconds", "2", "--poll-seconds", "0.1"])
        let status = await rescuer.wait(timeout: 120)
        XCTAssertEqual(status, 0, rescuer.output)
        batch.assertNoSecrets(rescuer.output + doomed.output)

        let awaited3 = try await queue.job(id: id)
        let final = try XCTUnwrap(awaited3)
        XCTAssertEqual(final.state, .succeeded)
        XCTAssertEqual(final.attempts, 2)
        XCTAssertEqual(final.progressDone, source.frames)
        let events = try await queue.events(jobID: id).map(\.kind)
        XCTAssertEqual(events, [.enqueued, .claimed, .expired, .claimed, .succeeded])
        try await queue.close()
        let output = try ClipMaker.probe(batch.url("out/long-whole.mp4"))
        XCTAssertEqual(output.frames, source.frames, "the re-run output is complete")
        XCTAssertTrue(output.hasAudio)
        XCTAssertEqual(batch.stagingLeftovers(under: "out"), [], "the re-run cleared the dead attempt's staging folder")
    }

    /// A job whose input is not media fails in a way no retry can cure: it is dead after one attempt with the
    /// reason kept, and leaves no partial file; its neighbour succeeds. (Backoff between transient failures is
    /// covered by the queue scenarios.)
    func notMediaInputIsDeadAtOnce() async throws {
        let batch = try Batch(backend: backend, label: "retry")
        try ClipMaker.make(batch.url("clips/good.mp4"), seconds: 0.2)
        try batch.directory.write("clips/broken.mp4", "this is not a video\n")
        try batch.directory.write("jobs.json", """
            {
            \t"inputs": ["clips/good.mp4", "clips/broken.mp4"],
            \t"output": "out/{clip}.mp4",
            \t"max_attempts": 3,
            \t"settings": [{"style": "plain"}]
            }
            """)
        XCTAssertEqual(try batch.avatarize(["enqueue", batch.url("jobs.json").path, "--queue", batch.queueURL]).status, 0)
        let worker = try batch.startWorker(["--drain", "--retry-base-seconds", "0.2", "--poll-seconds", "0.05", "--lease-seconds", "10"])
        let status = await worker.wait(timeout: 60)
        XCTAssertEqual(status, 0, worker.output)

        let queue = try await batch.openQueue()
        let jobs = try await queue.jobs(state: nil, limit: 10)
        let good = try XCTUnwrap(jobs.first { (try? $0.decodedPayload())?.clip == "good" })
        let broken = try XCTUnwrap(jobs.first { (try? $0.decodedPayload())?.clip == "broken" })
        XCTAssertEqual(good.state, .succeeded)
        XCTAssertEqual(broken.state, .dead)
        XCTAssertEqual(broken.attempts, 1, "no attempt is spent on an input that is not media")
        XCTAssertTrue((broken.lastError ?? "").contains("broken.mp4"), broken.lastError ?? "nil")
        let events = try await queue.events(jobID: broken.id)
        XCTAssertEqual(events.map(\.kind), [.enqueued, .claimed, .dead])
        XCTAssertTrue(events.last?.detail?.hasPrefix("permanent:") == true, "\(events)")
        try await queue.close()
        XCTAssertFalse(FileManager.default.fileExists(atPath: batch.url("out/broken.mp4").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: batch.url("out/good.mp4").path))
        XCTAssertEqual(batch.stagingLeftovers(under: "out"), [])
    }

    /// SIGTERM with no grace time: the worker stops its job, releases it without using an attempt, and exits; the
    /// next worker runs it from the start.
    func sigtermReleasesRunningJob() async throws {
        let batch = try Batch(backend: backend, label: "term")
        try ClipMaker.make(batch.url("clips/long.mp4"), seconds: 12, size: "640x360", rate: 25)
        try batch.directory.write("jobs.yaml", """
            inputs: clips/long.mp4
            output: out/{clip}.mp4
            settings: [{style: a}]
            """)
        XCTAssertEqual(try batch.avatarize(["enqueue", batch.url("jobs.yaml").path, "--queue", batch.queueURL]).status, 0)
        let queue = try await batch.openQueue()
        let awaited4 = try await queue.jobs(state: nil, limit: 1).first?.id
        let id = try XCTUnwrap(awaited4)
        let worker = try batch.startWorker(["--grace-seconds", "0", "--lease-seconds", "2", "--poll-seconds", "0.1"])
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, (try await queue.job(id: id))?.progressDone ?? 0 == 0 {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        worker.signal(SIGTERM)
        let status = await worker.wait(timeout: 30)
        XCTAssertEqual(status, 0, worker.output)
        XCTAssertTrue(worker.output.contains("released"), worker.output)
        let awaited5 = try await queue.job(id: id)
        let released = try XCTUnwrap(awaited5)
        XCTAssertEqual(released.state, .queued)
        XCTAssertEqual(released.attempts, 0)
        let awaited6 = try await queue.events(jobID: id).map(\.kind)
        XCTAssertEqual(awaited6, [.enqueued, .claimed, .released])
        XCTAssertFalse(FileManager.default.fileExists(atPath: batch.url("out/long.mp4").path))
        XCTAssertEqual(batch.stagingLeftovers(under: "out"), [], "a released job leaves nothing behind")
        try await queue.close()
    }

    /// A job file with errors enqueues nothing, and says where each error is.
    func badJobFileChangesNothing() async throws {
        let batch = try Batch(backend: backend, label: "bad")
        try ClipMaker.make(batch.url("clips/a.mp4"), seconds: 0.2)
        try ClipMaker.make(batch.url("clips/b.mp4"), seconds: 0.2)
        try batch.directory.write("good.yaml", """
            inputs: [clips/a.mp4]
            output: out/{clip}-{style}.mp4
            settings: [{style: x}]
            """)
        let first = try batch.avatarize(["enqueue", batch.url("good.yaml").path, "--queue", batch.queueURL])
        XCTAssertEqual(first.status, 0, first.stderr)
        // Duplicate enqueue: a no-op.
        let again = try batch.avatarize(["enqueue", batch.url("good.yaml").path, "--queue", batch.queueURL, "--json"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("\"alreadyQueued\" : 1"), again.stdout)
        XCTAssertTrue(again.stdout.contains("\"enqueued\" : [\n\n  ]") || again.stdout.contains("\"enqueued\" : []"), again.stdout)

        let queue = try await batch.openQueue()
        let before = try await queue.jobs(state: nil, limit: 100)
        XCTAssertEqual(before.count, 1)

        // Mostly valid: only the second settings entry is wrong, and that is enough to enqueue nothing.
        try batch.directory.write("bad.yaml", """
            inputs:
              - clips/*.mp4
            output: out/{clip}-{style}.mp4
            output_root: out
            settings:
              - style: y
              - style: z
                smoothing: [not, a, string]
            """)
        try batch.directory.write("escape.yaml", """
            inputs: [clips/*.mp4]
            output: ../{clip}.mp4
            settings: [{style: y}]
            """)
        let bad = try batch.avatarize(["enqueue", batch.url("bad.yaml").path, "--queue", batch.queueURL])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("bad.yaml:8:"), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("settings[1].smoothing"), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("nothing was enqueued"), bad.stderr)
        let escape = try batch.avatarize(["enqueue", batch.url("escape.yaml").path, "--queue", batch.queueURL])
        XCTAssertNotEqual(escape.status, 0)
        XCTAssertTrue(escape.stderr.contains("escape.yaml:2:"), escape.stderr)
        XCTAssertTrue(escape.stderr.contains("outside the output root"), escape.stderr)

        let after = try await queue.jobs(state: nil, limit: 100)
        XCTAssertEqual(after, before, "the queue is exactly as it was")
        try await queue.close()
    }

    /// SIGTERM with grace time: the worker claims nothing more but finishes the job it is running, then exits.
    func sigtermLetsRunningJobFinish() async throws {
        let batch = try Batch(backend: backend, label: "finish")
        try ClipMaker.make(batch.url("clips/long.mp4"), seconds: 12, size: "640x360", rate: 25)
        try batch.directory.write("jobs.yaml", """
            inputs: clips/long.mp4
            output: out/{clip}-{style}.mp4
            settings: [{style: first}, {style: second}]
            """)
        XCTAssertEqual(try batch.avatarize(["enqueue", batch.url("jobs.yaml").path, "--queue", batch.queueURL]).status, 0)
        let queue = try await batch.openQueue()
        let worker = try batch.startWorker(["--grace-seconds", "60", "--lease-seconds", "1.5", "--poll-seconds", "0.1"])
        let deadline = Date().addingTimeInterval(60)
        var midJob = false
        while Date() < deadline, !midJob {
            let running = try await queue.jobs(state: .running, limit: 1)
            midJob = running.first.map { $0.progressDone > 0 } == true
            if !midJob { try await Task.sleep(nanoseconds: 20_000_000) }
        }
        XCTAssertTrue(midJob, "never saw the first job running with progress")
        worker.signal(SIGTERM)
        let status = await worker.wait(timeout: 60)
        XCTAssertEqual(status, 0, worker.output)
        let jobs = try await queue.jobs(state: nil, limit: 10)
        XCTAssertEqual(jobs.map(\.state), [.succeeded, .queued], "the running job finished; the other was never claimed")
        XCTAssertEqual(jobs.last?.attempts, 0)
        try await queue.close()
        XCTAssertEqual(try ClipMaker.probe(batch.url("out/long-first.mp4")).frames, 300)
        XCTAssertFalse(FileManager.default.fileExists(atPath: batch.url("out/long-second.mp4").path))
    }

    /// `avatarize jobs cancel` on a running job: its worker stops at the next heartbeat and writes nothing.
    func cancellingARunningJobStopsItsWorker() async throws {
        let batch = try Batch(backend: backend, label: "cancel")
        try ClipMaker.make(batch.url("clips/long.mp4"), seconds: 12, size: "640x360", rate: 25)
        try batch.directory.write("jobs.yaml", """
            inputs: clips/long.mp4
            output: out/{clip}.mp4
            settings: [{style: a}]
            """)
        XCTAssertEqual(try batch.avatarize(["enqueue", batch.url("jobs.yaml").path, "--queue", batch.queueURL]).status, 0)
        let queue = try await batch.openQueue()
        let awaited1 = try await queue.jobs(state: nil, limit: 1).first?.id
        let id = try XCTUnwrap(awaited1)
        let worker = try batch.startWorker(["--drain", "--lease-seconds", "1.5", "--poll-seconds", "0.1"])
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, (try await queue.job(id: id))?.progressDone ?? 0 == 0 {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let cancel = try batch.avatarize(["jobs", "cancel", "\(id)", "--queue", batch.queueURL])
        XCTAssertEqual(cancel.status, 0, cancel.stderr)
        XCTAssertTrue(cancel.stdout.contains("cancelled"), cancel.stdout)
        let status = await worker.wait(timeout: 30)
        XCTAssertEqual(status, 0, worker.output)
        XCTAssertTrue(worker.output.contains("abandoned"), worker.output)
        let awaited2 = try await queue.job(id: id)
        let final = try XCTUnwrap(awaited2)
        XCTAssertEqual(final.state, .cancelled)
        XCTAssertLessThan(final.progressDone, 300, "the worker stopped before the end")
        let awaited3 = try await queue.events(jobID: id).map(\.kind)
        XCTAssertEqual(awaited3, [.enqueued, .claimed, .cancelled])
        try await queue.close()
        XCTAssertFalse(FileManager.default.fileExists(atPath: batch.url("out/long.mp4").path))
        XCTAssertEqual(batch.stagingLeftovers(under: "out"), [])

        // And an operator can bring it back.
        let retry = try batch.avatarize(["jobs", "retry", "\(id)", "--queue", batch.queueURL])
        XCTAssertEqual(retry.status, 0, retry.stderr)
        let show = try batch.avatarize(["jobs", "show", "\(id)", "--queue", batch.queueURL, "--json"])
        XCTAssertEqual(show.status, 0, show.stderr)
        XCTAssertTrue(show.stdout.contains("\"state\" : \"queued\""), show.stdout)
        XCTAssertTrue(show.stdout.contains("\"requeued\""), show.stdout)
        let statusReport = try batch.avatarize(["status", "--queue", batch.queueURL, "--json"])
        XCTAssertEqual(statusReport.status, 0, statusReport.stderr)
        XCTAssertTrue(statusReport.stdout.contains("\"queued\" : 1"), statusReport.stdout)
        let list = try batch.avatarize(["jobs", "list", "--queue", batch.queueURL, "--state", "queued"])
        XCTAssertTrue(list.stdout.contains("out/long.mp4"), list.stdout)
        let wrong = try batch.avatarize(["jobs", "retry", "\(id)", "--queue", batch.queueURL])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.stderr.contains("only dead or cancelled jobs can be retried"), wrong.stderr)
    }

    /// A clip split into segments and shared by three workers gives the same video, byte for byte, as one job
    /// rendering it whole: the face pass and the smoothing windows see the whole clip across segment borders.
    func segmentedClipEqualsTheUnsplitRun() async throws {
        let batch = try Batch(backend: backend, label: "segments")
        // A cache of its own, so the segments' face pass and tracks are made here rather than found.
        batch.extraEnvironment["AVATARIZE_CACHE"] = batch.url("cache").path
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/talking-head.mp4")
        try FileManager.default.createDirectory(at: batch.url("clips"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: sample, to: batch.url("clips/talk.mp4"))
        for (name, extra) in [("split", "segment_seconds: 1.6\n"), ("whole", "")] {
            try batch.directory.write("\(name).yaml", """
                kind: avatar
                inputs: [clips/talk.mp4]
                output: out/{clip}-\(name).mp4
                \(extra)settings:
                  - style: sketch
                """)
            let enqueue = try batch.avatarize(["enqueue", batch.url("\(name).yaml").path, "--queue", batch.queueURL])
            XCTAssertEqual(enqueue.status, 0, enqueue.stderr)
        }
        let workers = try (0..<3).map { _ in try batch.startWorker(["--drain", "--poll-seconds", "0.1"]) }
        for worker in workers {
            let status = await worker.wait(timeout: 300)
            XCTAssertEqual(status, 0, worker.output)
        }
        let queue = try await batch.openQueue()
        let jobs = try await queue.jobs(state: nil, limit: 100)
        // 100 frames at 25 fps in 40-frame segments: three segment jobs, one join job, one whole-clip job.
        XCTAssertEqual(jobs.count, 5)
        XCTAssertTrue(jobs.allSatisfy { $0.state == .succeeded && $0.attempts == 1 }, "\(jobs.map { ($0.id, $0.state, $0.attempts) })")
        var owners = Set<String>()
        for job in jobs where job.payload.contains("\"index\"") {
            if let owner = try await queue.events(jobID: job.id).first(where: { $0.kind == .succeeded })?.worker {
                owners.insert(Self.process(owner))
            }
        }
        XCTAssertGreaterThanOrEqual(owners.count, 2, "the segments were shared between workers")
        // Without --work-dir the pieces live in this machine's jobs cache, and are made once each through the queue.
        let work = AvatarJobKind.workFolder(environment: Batch.environment.merging(batch.extraEnvironment) { $1 })
        let identity = try String(contentsOf: work.appendingPathComponent(PieceMaker.identityFileName), encoding: .utf8)
        let pieces = try await queue.pieces(prefix: identity.trimmingCharacters(in: .whitespacesAndNewlines) + "/")
        XCTAssertEqual(pieces.filter { $0.key.hasSuffix(".mkv") }.count, 3, "\(pieces.map(\.key))")
        XCTAssertTrue(pieces.allSatisfy { $0.state == .done && $0.attempts == 1 }, "\(pieces.map { ($0.key, $0.attempts) })")
        try await queue.close()
        try checkIdentityFigures(jobs, batch: batch)

        let split = try Data(contentsOf: batch.url("out/talk-split.mp4"))
        XCTAssertEqual(split, try Data(contentsOf: batch.url("out/talk-whole.mp4")), "segmented and whole runs must give the same video")
        let probe = try ClipMaker.probe(batch.url("out/talk-split.mp4"))
        XCTAssertEqual(probe.frames, 100)
        XCTAssertTrue(probe.hasAudio)
        XCTAssertEqual(batch.stagingLeftovers(under: "out"), [])
        let kept = try FileManager.default.contentsOfDirectory(atPath: batch.url("out/.talk-split.mp4.segments").path)
        XCTAssertEqual(kept.filter { $0.hasSuffix(".mkv") || $0.hasSuffix(".report.json") }, [], "segments are pieces in the work folder")
        let inWork = try FileManager.default.contentsOfDirectory(atPath: work.path)
        XCTAssertEqual(inWork.filter { $0.hasSuffix(".mkv") }.count, 3)
        XCTAssertEqual(inWork.filter { $0.hasSuffix(".report.json") }.count, 3, "each segment video keeps its report part")

        // Both leave a clip report beside their video; the segmented one, put together by the join job from its
        // segments' parts, draws what the whole run's draws (the frame steps across segment boundaries included).
        let splitReport = try String(contentsOf: batch.url("out/talk-split.report.html"), encoding: .utf8)
        let wholeReport = try String(contentsOf: batch.url("out/talk-whole.report.html"), encoding: .utf8)
        XCTAssertTrue(splitReport.contains("Rendered in 3 segments by separate jobs"))
        let splitSections = Self.reportSections(splitReport), wholeSections = Self.reportSections(wholeReport)
        XCTAssertEqual(splitSections.keys.sorted(), wholeSections.keys.sorted())
        XCTAssertTrue(Set(splitSections.keys).isSuperset(of: ["Contact sheet", "Edits", "Face timeline", "Head pose", "Smoothing"]))
        for (title, section) in wholeSections where title != "Smoothing" { XCTAssertEqual(splitSections[title], section, title) }
        // Jitter is a mean of the same frame steps summed in another order: equal to the last bits.
        let splitJitter = Self.barValues(splitSections["Smoothing"] ?? ""), wholeJitter = Self.barValues(wholeSections["Smoothing"] ?? "")
        XCTAssertEqual(splitJitter.count, wholeJitter.count)
        XCTAssertFalse(wholeJitter.isEmpty)
        for (a, b) in zip(splitJitter, wholeJitter) { XCTAssertEqual(a, b, accuracy: 1e-9 * max(1, abs(b))) }
    }

    /// Every avatar job records its identity figure (the face recognition model comes with scripts/install-deps.sh):
    /// the whole-clip job and the join job the same figure of the clip's 100 frames, a segment job that of the
    /// segment it rendered; `jobs show` prints it, and `jobs show --json` has it beside the job.
    func checkIdentityFigures(_ jobs: [JobRecord], batch: Batch) throws {
        let payloads = try jobs.map { ($0, try $0.decodedPayload()) }
        let whole = try XCTUnwrap(payloads.first { $0.1.segment == nil })
        let join = try XCTUnwrap(payloads.first { $0.1.segment != nil && $0.1.segment?.index == nil })
        var clip = try XCTUnwrap(whole.0.identity, "the whole-clip job has no identity figure (face recognition model: scripts/install-deps.sh)")
        XCTAssertEqual(clip.frames, 100)
        XCTAssertEqual(clip.frames, clip.compared + clip.avatarWithoutFace + clip.sourceWithoutFace)
        var joined = try XCTUnwrap(join.0.identity, "the join job has no identity figure")
        // Only the time per face differs: the join measured no faces itself.
        clip.millisecondsPerFace = nil
        joined.millisecondsPerFace = nil
        XCTAssertEqual(joined, clip, "the segmented clip's figure is the whole run's")
        var segmentsWithFigure = 0
        for (job, payload) in payloads {
            guard let segment = payload.segment, let k = segment.index, let figure = job.identity else { continue }
            XCTAssertEqual(figure.frames, segment.range(k, total: 100).count, "segment \(k)")
            segmentsWithFigure += 1
        }
        XCTAssertGreaterThan(segmentsWithFigure, 0, "the first segment job to finish rendered its own segment")
        // Workers run with --precision auto: every avatar job records what this CPU gave (bf16 only where it has it).
        let expected = Precision.automatic.rawValue
        for (job, _) in payloads { XCTAssertEqual(job.precision, expected, "job \(job.id) records the precision that made it") }

        let text = try batch.avatarize(["jobs", "show", "\(join.0.id)", "--queue", batch.queueURL])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("  made in:  \(expected) (--precision)"), text.stdout)
        XCTAssertTrue(text.stdout.contains("  identity (dlib descriptors, source vs avatar): \(joined.compared) of 100 frames compared"), text.stdout)
        let json = try batch.avatarize(["jobs", "show", "\(join.0.id)", "--json", "--queue", batch.queueURL])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((object["job"] as? [String: Any])?["id"] as? Int, Int(join.0.id))
        XCTAssertEqual((object["job"] as? [String: Any])?["precision"] as? String, expected)
        XCTAssertNotNil(object["events"])
        let printed = try JSONDecoder().decode(IdentityFigure.Summary.self,
                                               from: JSONSerialization.data(withJSONObject: try XCTUnwrap(object["identity"])))
        XCTAssertEqual(printed, join.0.identity)
    }

    /// A clip report's sections by title, those that depend on the frames only (not on times taken or dates).
    static func reportSections(_ html: String) -> [String: String] {
        var out: [String: String] = [:]
        for chunk in html.components(separatedBy: "<h2>").dropFirst() {
            let title = String(chunk.prefix { $0 != "<" })
            if ["Head pose", "Smoothing", "Face timeline", "Contact sheet", "Edits", "Identity"].contains(title) {
                out[title] = chunk.components(separatedBy: "</section>").first
            }
        }
        return out
    }

    /// The `data-value` of every bar in a section.
    static func barValues(_ section: String) -> [Double] {
        section.components(separatedBy: "data-value=\"").dropFirst().compactMap { Double($0.prefix { $0 != "\"" }) }
    }
}
