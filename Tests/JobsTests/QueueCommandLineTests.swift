import Foundation
import Logging
import TestSupport
import XCTest
@testable import Jobs

/// The queue commands as a user meets them: looking changes nothing, a full disk spends no attempt, and pruning the
/// work folder by hand leaves the ledger agreeing with it.
final class QueueCommandLineTests: XCTestCase {
    /// `status` and `jobs list` in a folder without a queue say so and create no database (or WAL files).
    func testReadOnlyCommandsInAnEmptyFolderCreateNothing() throws {
        let folder = try TemporaryDirectory("empty")
        let executable = try AvatarizeExecutable.path()
        for arguments in [["status"], ["status", "--json"], ["jobs", "list"]] {
            let output = try ProcessRunner.run(executable, arguments, environment: Batch.environment, currentDirectory: folder.url)
            XCTAssertEqual(output.status, 0, output.stderr)
            XCTAssertTrue(output.stdout.contains("no queue at") || output.stdout.contains("\"queue\""), output.stdout)
        }
        let show = try ProcessRunner.run(executable, ["jobs", "show", "1"], environment: Batch.environment, currentDirectory: folder.url)
        XCTAssertNotEqual(show.status, 0)
        XCTAssertTrue(show.stderr.contains("no queue at"), show.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
    }

    /// `avatarize cache prune` removes the ledger rows of the made pieces whose files it deletes, and keeps the
    /// pieces (files and rows) of a clip a queued job still needs.
    func testCachePruneForgetsTheRowsOfThePiecesItRemoves() async throws {
        let batch = try Batch(backend: SQLiteBackend(), label: "cache-prune")
        let work = batch.url("work")
        let queue = try await batch.openQueue()
        let needed = String(repeating: "a", count: 64), unneeded = String(repeating: "b", count: 64)
        _ = try await queue.enqueue([JobSpec(key: "waiting", kind: "avatar", payload: #"{"inputDigest":"\#(needed)"}"#)])
        let maker = PieceMaker(folder: work, ledger: queue, worker: "w", lease: 30, pollInterval: 0.1, logger: Logger(label: "test.prune"))
        let names = ["\(needed.prefix(16))-1.faces", "\(unneeded.prefix(16))-1.faces"]
        for name in names {
            _ = try await queue.claimPiece(try maker.key(name), owner: "w/1", lease: 30, fileMissing: false)
            try Data(repeating: 1, count: 64).write(to: work.appendingPathComponent(name))
            let finished = try await queue.finishPiece(try maker.key(name), owner: "w/1")
            XCTAssertTrue(finished)
        }
        try await queue.close()

        let pruned = try batch.avatarize(["cache", "prune", "--queue", batch.queueURL, "--work-dir", work.path, "--max", "0"])
        XCTAssertEqual(pruned.status, 0, pruned.stderr)
        XCTAssertTrue(pruned.stdout.contains("removed 1 file(s)") && pruned.stdout.contains("forgot 1 piece(s)"), pruned.stdout)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: work.path)), [names[0], PieceMaker.identityFileName])
        let reopened = try await batch.openQueue()
        let rows = try await reopened.pieces(prefix: try maker.folderIdentity() + "/")
        XCTAssertEqual(rows.map(\.key), [try maker.key(names[0])])
        try await reopened.close()
    }

    /// A real full disk (a tiny tmpfs as the output folder): the worker gives the job back without spending an
    /// attempt and pauses; once there is room the same attempt count finishes it whole.
    func testFullDiskSpendsNoAttempt() async throws {
        let batch = try Batch(backend: SQLiteBackend(), label: "enospc")
        try ClipMaker.make(batch.url("clips/clip.mp4"), seconds: 2, size: "320x240", rate: 25)
        let out = batch.url("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let mount = try ProcessRunner.run("/usr/bin/env", ["mount", "-t", "tmpfs", "-o", "size=24k", "tmpfs", out.path])
        guard mount.status == 0 else { throw XCTSkip("mounting a small tmpfs needs root: \(mount.stderr)") }
        defer { _ = try? ProcessRunner.run("/usr/bin/env", ["umount", out.path]) }
        try batch.directory.write("jobs.yaml", """
            inputs: [clips/clip.mp4]
            output: out/{clip}-{style}.mp4
            max_attempts: 1
            settings: [{style: a}]
            """)
        XCTAssertEqual(try batch.avatarize(["enqueue", batch.url("jobs.yaml").path, "--queue", batch.queueURL]).status, 0)
        let worker = try batch.startWorker(["--poll-seconds", "0.1", "--disk-full-pause-seconds", "0.5", "--grace-seconds", "0"])
        defer { worker.signal(SIGKILL) }
        let deadline = Date().addingTimeInterval(60)
        while !worker.output.contains("disk full"), Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
        XCTAssertTrue(worker.output.contains("claiming nothing for"), worker.output)
        let queue = try await batch.openQueue()
        let awaited1 = try await queue.job(id: 1)
        let during = try XCTUnwrap(awaited1)
        XCTAssertNotEqual(during.state, .dead, "a full disk is not the job's fault, even on its last attempt")
        XCTAssertEqual(FileManager.default.fileExists(atPath: batch.url("out/clip-a.mp4").path), false)

        let grow = try ProcessRunner.run("/usr/bin/env", ["mount", "-o", "remount,size=64m", out.path])
        XCTAssertEqual(grow.status, 0, grow.stderr)
        var final: JobRecord?
        while Date() < deadline {
            final = try await queue.job(id: 1)
            if final?.state == .succeeded { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        XCTAssertEqual(final?.state, .succeeded, worker.output)
        XCTAssertEqual(final?.attempts, 1)
        let events = try await queue.events(jobID: 1).map(\.kind)
        XCTAssertTrue(events.contains(.released), "\(events)")
        XCTAssertFalse(events.contains(.retryScheduled) || events.contains(.dead), "\(events)")
        try await queue.close()
        worker.signal(SIGTERM)
        _ = await worker.wait(timeout: 30)
        XCTAssertEqual(try ClipMaker.probe(batch.url("out/clip-a.mp4")).frames, 50)
        XCTAssertEqual(batch.stagingLeftovers(under: "out"), [])
    }
}
