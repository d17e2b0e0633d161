import Foundation
import XCTest
@testable import Jobs

/// Attempt semantics of one worker, driven in process against a real SQLite queue: what a claim may touch, how a
/// crash between "finishing" and "succeeded" is recovered, and which failures spend attempts.
final class WorkerAttemptTests: XCTestCase {
    /// A kind whose behaviour the test chooses; counts its runs.
    struct ScriptedKind: JobKind {
        let name = "transcode"
        let identity = "scripted"
        let supportedSettings: Set<String> = ["style"]
        let runs = Locked(0)
        let behaviour: @Sendable (URL) throws -> Void

        func run(_ payload: JobPayload, output: URL, progress: @escaping @Sendable (JobProgress) -> Void) async throws -> JobOutcome {
            runs.mutate { $0 += 1 }
            try behaviour(output)
            return JobOutcome()
        }
    }

    private func setUp(_ label: String, maxAttempts: Int = 3) async throws -> (TemporaryDirectory, any JobQueue, JobRecord, JobPayload) {
        let directory = try TemporaryDirectory(label)
        let queue = try await QueueOpener.open(.sqlite(path: directory.path + "/queue.db"))
        let payload = JobPayload(input: directory.path + "/in.mp4", output: directory.path + "/out/clip.mp4",
                                 outputRoot: directory.path + "/out", clip: "clip", settings: JobSettings(style: "s"))
        _ = try await queue.enqueue([JobSpec(key: "k", kind: "transcode", payload: try payload.encoded(), maxAttempts: maxAttempts)])
        let record = try await queue.job(id: 1)
        return (directory, queue, try XCTUnwrap(record), payload)
    }

    /// A claim by a worker that is about to die, with `text` written into its staging folder.
    private func claimAndStage(_ queue: any JobQueue, _ payload: JobPayload, lease: TimeInterval,
                               writing text: String) async throws -> (JobRecord, StagedOutput) {
        let claimed = try await queue.claim(worker: "dead-worker/1", lease: lease)
        let job = try XCTUnwrap(claimed)
        let staged = StagedOutput(jobID: job.id, output: payload.output, claim: "dead-worker/1")
        try staged.prepare()
        try Data(text.utf8).write(to: staged.file)
        return (job, staged)
    }

    private func worker(_ queue: any JobQueue, _ kind: ScriptedKind) -> Worker {
        var options = WorkerOptions()
        options.identity = "test-worker"
        options.retry = RetryPolicy(baseDelay: 0, maxDelay: 0)
        options.diskFullPause = 60
        return Worker(queue: queue, kinds: JobKinds([kind]), options: options)
    }

    func testStagingIsPerClaimAndAStaleClaimTouchesNothingOfTheNewOne() throws {
        let directory = try TemporaryDirectory("staging")
        let output = directory.path + "/out/clip.mp4"
        let stale = StagedOutput(jobID: 7, output: output, claim: "w-1/3")
        try stale.prepare()
        try Data("old attempt".utf8).write(to: stale.file)
        let current = StagedOutput(jobID: 7, output: output, claim: "w-2/1")
        try current.prepare()
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.folder.path), "the claim holding the lease removes earlier claims' folders")
        try Data("new attempt".utf8).write(to: current.file)
        // The stale worker's clean-up after it learns it lost the lease.
        stale.discard()
        XCTAssertEqual(try String(contentsOf: current.file, encoding: .utf8), "new attempt")
        // Job 77's folders are not job 7's.
        let other = StagedOutput(jobID: 77, output: output, claim: "w-3/1")
        try other.prepare()
        XCTAssertEqual(StagedOutput.removeAll(jobID: 7, output: output), 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: other.folder.path))
    }

    /// The worker died after recording "finishing" (and maybe after the rename): the next claimer finishes the move
    /// and records success without running the job again, on the job's last attempt too.
    func testACrashWhileFinishingIsCompletedByTheNextClaimer() async throws {
        for renamedBeforeCrash in [false, true] {
            let (directory, queue, _, payload) = try await setUp("finishing", maxAttempts: 1)
            let (job, staged) = try await claimAndStage(queue, payload, lease: 0.2, writing: "finished frames")
            _ = try await queue.markFinishing(id: job.id, worker: "dead-worker/1", staged: staged.file.path)
            if renamedBeforeCrash { try staged.place() }
            try await Task.sleep(nanoseconds: 400_000_000)

            let kind = ScriptedKind { _ in XCTFail("a finished job must not run again") }
            let claimed = try await queue.claim(worker: "test-worker/1", lease: 30)
            let again = try XCTUnwrap(claimed)
            await worker(queue, kind).execute(again, claim: "test-worker/1", stop: StopSignal())
            let record = try await queue.job(id: job.id)
            XCTAssertEqual(record?.state, .succeeded)
            XCTAssertEqual(record?.attempts, 1)
            XCTAssertEqual(try String(contentsOfFile: payload.output, encoding: .utf8), "finished frames")
            XCTAssertEqual(kind.runs.value, 0)
            let left = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/out")
            XCTAssertEqual(left, ["clip.mp4"], "no staging folder is left")
            try await queue.close()
        }
    }

    func testPermanentFailureIsDeadAtOnceWithItsReason() async throws {
        let (directory, queue, _, _) = try await setUp("permanent", maxAttempts: 3)
        let kind = ScriptedKind { output in
            try Data("partial".utf8).write(to: output)
            throw AvatarJobError.badSetting("layout", "diagonal")
        }
        let claimed = try await queue.claim(worker: "test-worker/1", lease: 30)
        await worker(queue, kind).execute(try XCTUnwrap(claimed), claim: "test-worker/1", stop: StopSignal())
        let record = try await queue.job(id: 1)
        XCTAssertEqual(record?.state, .dead)
        XCTAssertEqual(record?.attempts, 1, "no attempt after a permanent failure")
        XCTAssertTrue(record?.lastError?.contains("settings.layout") == true, record?.lastError ?? "nil")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path + "/out"), [], "no partial file")
        try await queue.close()
    }

    func testTransientFailureRetries() async throws {
        let (_, queue, _, _) = try await setUp("transient", maxAttempts: 3)
        let kind = ScriptedKind { _ in throw CocoaError(.fileReadUnknown) }
        let claimed = try await queue.claim(worker: "test-worker/1", lease: 30)
        await worker(queue, kind).execute(try XCTUnwrap(claimed), claim: "test-worker/1", stop: StopSignal())
        let record = try await queue.job(id: 1)
        XCTAssertEqual(record?.state, .queued)
        XCTAssertEqual(record?.attempts, 1)
        try await queue.close()
    }

    /// A full disk gives the job back without spending an attempt and stops this worker's claims for a while.
    func testDiskFullSpendsNoAttemptAndPausesClaims() async throws {
        let (_, queue, _, _) = try await setUp("enospc", maxAttempts: 1)
        let kind = ScriptedKind { _ in throw POSIXError(.ENOSPC) }
        let runner = worker(queue, kind)
        let claimed = try await queue.claim(worker: "test-worker/1", lease: 30)
        await runner.execute(try XCTUnwrap(claimed), claim: "test-worker/1", stop: StopSignal())
        let record = try await queue.job(id: 1)
        XCTAssertEqual(record?.state, .queued, "released, not dead, though it was the last attempt")
        XCTAssertEqual(record?.attempts, 0)
        // The pause holds: a worker run for a moment claims nothing.
        let stop = StopSignal()
        let run = Task { await runner.run(stop: stop) }
        try await Task.sleep(nanoseconds: 500_000_000)
        stop.raise(to: .abort)
        _ = await run.value
        XCTAssertEqual(kind.runs.value, 1, "no claim while paused")
        try await queue.close()
    }

    /// Dead and cancelled jobs' staging folders (left by a worker that died) are removed by the next idle worker.
    func testLeftoversOfDeadJobsAreRemoved() async throws {
        let (directory, queue, _, payload) = try await setUp("leftovers", maxAttempts: 1)
        _ = try await claimAndStage(queue, payload, lease: 0.1, writing: "partial")
        try await Task.sleep(nanoseconds: 300_000_000)
        let nothing = try await queue.claim(worker: "sweeper/1", lease: 30)
        XCTAssertNil(nothing, "the expired job on its last attempt is dead")
        await worker(queue, ScriptedKind { _ in }).removeLeftoversOfFinishedJobs()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path + "/out"), [])
        let pending = try await queue.pendingCleanups(limit: 10)
        XCTAssertEqual(pending.map(\.id), [])
        try await queue.close()
    }

    /// The worker re-resolves outputs with symlinks against its own root: a link planted after enqueue is refused,
    /// and so is a job enqueued for another root than the worker's --output-root.
    func testConfinementResolvesSymlinksAndChecksTheConfiguredRoot() async throws {
        let directory = try TemporaryDirectory("confine")
        let queue = try await QueueOpener.open(.sqlite(path: directory.path + "/queue.db"))
        try FileManager.default.createDirectory(atPath: directory.path + "/out", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory.path + "/elsewhere", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: directory.path + "/out/link", withDestinationPath: directory.path + "/elsewhere")
        var options = WorkerOptions()
        let plain = Worker(queue: queue, options: options)
        let inside = JobPayload(input: "/in.mp4", output: directory.path + "/out/a.mp4", outputRoot: directory.path + "/out",
                                clip: "a", settings: JobSettings(style: "s"))
        XCTAssertNoThrow(try plain.confine(inside))
        var linked = inside
        linked.output = directory.path + "/out/link/a.mp4"
        XCTAssertThrowsError(try plain.confine(linked)) { XCTAssertEqual(FailureClass.of($0), .permanent) }
        options.outputRoot = directory.path + "/elsewhere"
        let strict = Worker(queue: queue, options: options)
        XCTAssertThrowsError(try strict.confine(inside)) { error in
            XCTAssertTrue("\(error)".contains("--output-root"), "\(error)")
        }
        try await queue.close()
    }
}
