import Foundation
import XCTest
@testable import Jobs

extension WorkerScenarios {
    /// Two "machines" (worker processes with separate caches and separate temporary folders) share only the queue and
    /// a work folder, and run a clip split into segments while the maker of a face pass, of a track and of a segment
    /// video is each SIGKILLed mid-make (a new worker starts on that machine in its place). The joined video is the
    /// single-machine run's, byte for byte; every piece is made once, except a piece whose maker was killed while
    /// making it, which is made exactly twice; and nothing is left over: no partial file in the work folder, nothing in
    /// the machines' own caches, no staging or scratch folder.
    func segmentPiecesAreMadeOnceAcrossMachines() async throws {
        let batch = try Batch(backend: backend, label: "machines")
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/talking-head.mp4")
        // 32 frames at 25 fps in 8-frame segments: four segment jobs and a join job.
        try ClipMaker.trim(sample, to: batch.url("clips/talk.mp4"), seconds: 1.28)
        try batch.directory.write("split.yaml", """
            kind: avatar
            inputs: [clips/talk.mp4]
            output: out/{clip}-split.mp4
            segment_seconds: 0.32
            max_attempts: 5
            settings:
              - style: sketch
            """)
        let enqueue = try batch.avatarize(["enqueue", batch.url("split.yaml").path, "--queue", batch.queueURL])
        XCTAssertEqual(enqueue.status, 0, enqueue.stderr)

        // The single-machine run to compare with: the whole clip as one job, with a queue, cache and temporary folder
        // of its own.
        let reference = try Batch(backend: SQLiteBackend(), label: "machines-reference")
        try FileManager.default.createDirectory(at: reference.url("clips"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: batch.url("clips/talk.mp4"), to: reference.url("clips/talk.mp4"))
        try reference.directory.write("whole.yaml", """
            kind: avatar
            inputs: [clips/talk.mp4]
            output: out/{clip}-whole.mp4
            settings:
              - style: sketch
            """)
        XCTAssertEqual(try reference.avatarize(["enqueue", reference.url("whole.yaml").path, "--queue", reference.queueURL]).status, 0)

        // One network thread each, the same in both runs (the same sums in the same order).
        let common = ["--drain", "--lease-seconds", "5", "--poll-seconds", "0.2", "--threads", "1"]
        let single = try reference.startWorker(common + ["--name", "single"], environment: try Self.machine(reference.url("machine")))

        let work = batch.url("shared-work")
        var workers: [String: (process: WorkerProcess, machine: String)] = [:]
        var started = 0
        func start(on machine: String) throws {
            started += 1
            let name = "\(machine)-\(started)"
            workers[name] = (try batch.startWorker(common + ["--work-dir", work.path, "--name", name],
                                                   environment: try Self.machine(batch.url("machine-\(machine)"))), machine)
        }
        for name in ["a", "b", "a", "b"] { try start(on: name) }

        let queue = try await batch.openQueue()
        var wanted = [".faces", ".track", ".mkv"]
        var kills = 0
        // Pieces whose maker died while it still held them: each must be made once more.
        var interrupted: Set<String> = []
        let deadline = Date().addingTimeInterval(400)
        while Date() < deadline, workers.values.contains(where: { $0.process.process.isRunning }) {
            if !wanted.isEmpty {
                for piece in try await queue.pieces(prefix: "") where piece.state == .making {
                    guard let kind = wanted.first(where: { piece.key.hasSuffix($0) }), let owner = piece.owner,
                          let victim = workers[Self.process(owner)] else { continue }
                    victim.process.signal(SIGKILL)
                    _ = await victim.process.wait(timeout: 10)
                    workers[Self.process(owner)] = nil
                    kills += 1
                    wanted.removeAll { $0 == kind }
                    let after = try await queue.pieces(prefix: piece.key).first { $0.key == piece.key }
                    if after?.state == .making, after?.owner == owner { interrupted.insert(piece.key) }
                    try start(on: victim.machine)
                    break
                }
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        for (name, worker) in workers {
            let status = await worker.process.wait(timeout: 60)
            XCTAssertEqual(status, 0, "\(name): \(worker.process.output)")
            batch.assertNoSecrets(worker.process.output)
        }
        let singleStatus = await single.wait(timeout: 300)
        XCTAssertEqual(singleStatus, 0, single.output)
        XCTAssertEqual(kills, 3, "a face pass, a track and a segment video were each seen being made")

        let jobs = try await queue.jobs(state: nil, limit: 100)
        XCTAssertEqual(jobs.count, 5)
        XCTAssertTrue(jobs.allSatisfy { $0.state == .succeeded }, "\(jobs.map { ($0.id, $0.state, $0.lastError ?? "") })")
        let identity = try String(contentsOf: work.appendingPathComponent(PieceMaker.identityFileName), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let pieces = try await queue.pieces(prefix: identity + "/")
        try await queue.close()
        // A face pass, four segment tracks, the whole clip's track and four segment videos.
        XCTAssertEqual(pieces.count, 10, "\(pieces.map(\.key))")
        XCTAssertTrue(pieces.allSatisfy { $0.state == .done })
        for piece in pieces {
            XCTAssertEqual(piece.attempts, interrupted.contains(piece.key) ? 2 : 1, "\(piece.key) was made \(piece.attempts) time(s)")
        }
        XCTAssertFalse(interrupted.isEmpty, "no kill caught a piece half made")
        XCTAssertEqual(Set(pieces.compactMap { $0.owner?.prefix(1) }), ["a", "b"], "both machines made pieces")
        print("shared work folder: \(kills) workers killed, \(interrupted.count) piece(s) made again after a kill "
              + "(\(interrupted.map { ($0 as NSString).pathExtension }.sorted())), \(pieces.count) pieces, "
              + "\(pieces.reduce(0) { $0 + $1.attempts }) makes")

        let split = try Data(contentsOf: batch.url("out/talk-split.mp4"))
        XCTAssertEqual(split, try Data(contentsOf: reference.url("out/talk-whole.mp4")), "the machines' video is the single machine's")
        XCTAssertEqual(try ClipMaker.probe(batch.url("out/talk-split.mp4")).frames, 32)

        let names = try FileManager.default.contentsOfDirectory(atPath: work.path)
        XCTAssertEqual(names.filter { $0.hasPrefix(".") }, [PieceMaker.identityFileName], "no partial file is left in the work folder")
        XCTAssertEqual(names.filter { $0.hasSuffix(".report.json") }.count, 4, "each segment video has its report part")
        for name in ["a", "b"] {
            let root = batch.url("machine-\(name)")
            let cached = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("cache/tracks").path)) ?? []
            XCTAssertEqual(cached, [], "machine \(name) kept nothing in its own cache")
            let scratch = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("tmp").path)
            XCTAssertEqual(scratch.filter { $0.hasPrefix("avatarize-") }, [], "machine \(name): no scratch folder of a killed worker is left")
        }
        XCTAssertEqual(batch.stagingLeftovers(under: "out"), [])
    }

    /// A machine's own environment: its jobs cache and temporary folder under `root`.
    private static func machine(_ root: URL) throws -> [String: String] {
        try FileManager.default.createDirectory(at: root.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        return ["AVATARIZE_JOB_CACHE": root.appendingPathComponent("cache").path, "TMPDIR": root.appendingPathComponent("tmp").path]
    }
}
