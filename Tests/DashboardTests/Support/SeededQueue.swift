import Foundation
@testable import Jobs
import Pipeline

/// A queue with jobs in every state, one of them named to break out of HTML if it were not escaped.
enum SeededQueue {
    // No "/" in it: a file name cannot hold one, and the pages show the last path component.
    static let hostileName = "<script>document.title='pwned'<img src=x onerror=alert(1)>.mp4"

    struct Seeded {
        var succeeded: Int64
        var dead: Int64
        var cancelled: Int64
        var running: Int64
        var hostile: Int64
        var counts: [JobState: Int]
        var total: Int
    }

    static func payload(_ name: String, folder: String = "/clips") throws -> String {
        try JobPayload(input: "\(folder)/\(name)", output: "/out/\(name)", outputRoot: "/out", clip: name,
                       settings: JobSettings(style: "sketch", edits: [:], smoothing: nil, camera: nil, layout: nil)).encoded()
    }

    /// The succeeded job's identity figure: 40 frames, 36 compared.
    static let identity: IdentityFigure.Summary = {
        var s = IdentityFigure.Summary()
        s.frames = 40; s.compared = 36; s.sourceWithoutFace = 1; s.avatarWithoutFace = 3
        s.meanSimilarity = 0.9131; s.similarityP10 = 0.8711; s.meanDistance = 0.5321; s.shareSamePerson = 0.75
        return s
    }()

    static func seed(_ queue: any JobQueue) async throws -> Seeded {
        var specs = try (0..<6).map { JobSpec(key: "clip-\($0)", kind: "avatar", payload: try payload("clip-\($0).mp4"), maxAttempts: 1) }
        specs.append(JobSpec(key: "hostile", kind: "avatar", payload: try payload(hostileName), maxAttempts: 1))
        let ids = try await queue.enqueue(specs).inserted
        // Claims take the highest priority, then the oldest: clip-0, clip-1, clip-2, clip-3 in turn.
        let succeeded = try await queue.claim(worker: "worker-a", lease: 60)!
        _ = try await queue.heartbeat(id: succeeded.id, worker: "worker-a", lease: 60, progress: JobProgress(done: 40, total: 40))
        _ = try await queue.markFinishing(id: succeeded.id, worker: "worker-a", staged: "/out/.clip-0.staged.mp4", outcome: JobOutcome(identity: identity, precision: "fp32"))
        _ = try await queue.complete(id: succeeded.id, worker: "worker-a", progress: JobProgress(done: 40, total: 40)) {}
        let failed = try await queue.claim(worker: "worker-a", lease: 60)!
        _ = try await queue.fail(id: failed.id, worker: "worker-a", error: "\(failed.id): decoder said <no frames>", policy: RetryPolicy())
        let running = try await queue.claim(worker: "worker-b", lease: 600)!
        _ = try await queue.heartbeat(id: running.id, worker: "worker-b", lease: 600, progress: JobProgress(done: 25, total: 100))
        let cancelled = ids[3]
        _ = try await queue.cancel(id: cancelled)
        return Seeded(succeeded: succeeded.id, dead: failed.id, cancelled: cancelled, running: running.id, hostile: ids[6],
                      counts: [.queued: 3, .running: 1, .succeeded: 1, .dead: 1, .cancelled: 1], total: 7)
    }
}
