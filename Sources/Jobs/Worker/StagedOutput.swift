import Foundation

/// Where a job writes before it succeeds: a hidden folder named for the job beside the final output. Because the
/// folder's name depends only on the job id, the next attempt after a crash finds and removes whatever the dead
/// attempt left (including the encoder's own temporary files); because it sits in the output's folder, the final
/// rename is atomic (same file system).
struct StagedOutput: Sendable {
    let final: URL
    let folder: URL
    let file: URL

    init(jobID: Int64, output: String) {
        final = URL(fileURLWithPath: output)
        folder = final.deletingLastPathComponent().appendingPathComponent(".avatarize-job-\(jobID)", isDirectory: true)
        file = folder.appendingPathComponent(final.lastPathComponent)
    }

    /// Creates an empty staging folder, clearing any left by an earlier attempt.
    func prepare() throws {
        let manager = FileManager.default
        try manager.createDirectory(at: final.deletingLastPathComponent(), withIntermediateDirectories: true)
        if manager.fileExists(atPath: folder.path) { try manager.removeItem(at: folder) }
        try manager.createDirectory(at: folder, withIntermediateDirectories: false)
    }

    /// Moves the finished file into place in one step; an existing output is replaced atomically.
    func commit() throws {
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw WorkerError.outputMissing(file.path)
        }
        guard rename(file.path, final.path) == 0 else {
            throw WorkerError.cannotPlaceOutput(final.path, String(cString: strerror(errno)))
        }
    }

    /// Removes the staging folder and anything in it; used after success and after any failure.
    func discard() {
        try? FileManager.default.removeItem(at: folder)
    }
}
