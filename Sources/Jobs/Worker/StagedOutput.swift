import Foundation

/// Where one attempt writes before it succeeds: a hidden folder beside the final output, named for the job and the
/// claim (`.avatarize-job-ID.CLAIM`). A worker only ever removes its own claim's folder, so a stale worker that lost
/// its lease cannot touch the folder of the attempt that replaced it; the attempt that holds the lease removes the
/// folders of every earlier claim of its job, which are stale by definition. Because the folder sits in the output's
/// folder, the final rename is atomic (same file system).
struct StagedOutput: Sendable {
    let final: URL
    let folder: URL
    let file: URL
    let jobID: Int64

    init(jobID: Int64, output: String, claim: String) {
        self.jobID = jobID
        final = URL(fileURLWithPath: output)
        let safeClaim = String(claim.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
        folder = final.deletingLastPathComponent()
            .appendingPathComponent(Self.prefix(jobID) + safeClaim, isDirectory: true)
        file = folder.appendingPathComponent(final.lastPathComponent)
    }

    /// Every staging folder of job `id` starts with this; the trailing dot keeps job 1 apart from job 12.
    static func prefix(_ id: Int64) -> String { ".avatarize-job-\(id)." }

    /// Creates this claim's empty staging folder and removes the folders earlier claims of the job left.
    func prepare() throws {
        let manager = FileManager.default
        try manager.createDirectory(at: final.deletingLastPathComponent(), withIntermediateDirectories: true)
        Self.removeAll(jobID: jobID, output: final.path, except: folder.lastPathComponent)
        if manager.fileExists(atPath: folder.path) { try manager.removeItem(at: folder) }
        try manager.createDirectory(at: folder, withIntermediateDirectories: false)
    }

    /// Moves the finished file into place in one step; an existing output is replaced atomically.
    func place() throws {
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw WorkerError.outputMissing(file.path)
        }
        guard rename(file.path, final.path) == 0 else {
            throw WorkerError.cannotPlaceOutput(final.path, String(cString: strerror(errno)))
        }
    }

    /// Removes this claim's staging folder and anything in it; used after success and after any failure.
    func discard() {
        try? FileManager.default.removeItem(at: folder)
    }

    /// Removes the staging folders of every claim of job `jobID` beside `output` (but `except`): for a job that is
    /// dead or cancelled, or before a new attempt starts.
    @discardableResult
    static func removeAll(jobID: Int64, output: String, except: String? = nil) -> Int {
        let manager = FileManager.default
        let parent = URL(fileURLWithPath: output).deletingLastPathComponent()
        guard let names = try? manager.contentsOfDirectory(atPath: parent.path) else { return 0 }
        var removed = 0
        for name in names where name.hasPrefix(prefix(jobID)) && name != except {
            if (try? manager.removeItem(at: parent.appendingPathComponent(name))) != nil { removed += 1 }
        }
        return removed
    }
}
