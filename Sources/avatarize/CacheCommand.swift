import ArgumentParser
import Foundation
import Jobs

/// The batch jobs' track cache: what is in it, and removing what no queued or running job needs.
struct CacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "List or prune the batch jobs' cache of latent tracks and segment pieces.",
        subcommands: [List.self, Prune.self]
    )

    /// The cache folder (the work folder: --work-dir, AVATARIZE_WORK_DIR, else AVATARIZE_JOB_CACHE or jobs/tracks in
    /// the avatarize cache folder), the queue if there is one (the caller closes it) and the clips it still needs
    /// (none when there is no queue).
    static func open(_ queueOptions: QueueOptions, workDir: String?) async throws -> (TrackCache, (any JobQueue)?, Set<String>) {
        let cache = TrackCache(folder: AvatarJobKind.workFolder(explicit: workDir))
        // A folder named by hand must be there (a typo would otherwise read as an empty cache); the default one
        // appears with the first job.
        var isFolder: ObjCBool = false
        if let workDir, !(FileManager.default.fileExists(atPath: cache.folder.path, isDirectory: &isFolder) && isFolder.boolValue) {
            throw ValidationError("--work-dir \(workDir): no such folder")
        }
        guard let queue = try await queueOptions.openExisting() else { return (cache, nil, []) }
        do {
            return (cache, queue, try await TrackCache.clipsInUse(queue))
        } catch {
            try? await queue.close()
            throw error
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List cached files, least recently used first.")
        @OptionGroup var queueOptions: QueueOptions
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var work: WorkDirOption

        func run() async throws {
            let (cache, queue, inUse) = try await CacheCommand.open(queueOptions, workDir: work.workDir)
            try await queue?.close()
            let entries = cache.entries(inUse: inUse)
            if json {
                print(try JobsOutput.json(entries))
                return
            }
            print("cache: \(cache.folder.path)")
            for entry in entries {
                print("\(JobsOutput.stamp(entry.lastUsed))  \(String(entry.bytes).padding(toLength: 12, withPad: " ", startingAt: 0)) \(entry.inUse ? "in use " : "       ")\(entry.name)")
            }
            print("\(entries.count) file(s), \(entries.reduce(Int64(0)) { $0 + $1.bytes }) bytes")
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove least recently used files not in use until the cache fits.")
        @OptionGroup var queueOptions: QueueOptions
        @Option(help: ArgumentHelp("Size to prune to, e.g. 2G, 500M, 0 (everything not in use).", valueName: "size")) var max = "0"
        @OptionGroup var work: WorkDirOption

        func run() async throws {
            guard let limit = TrackCache.parseSize(max) else { throw ValidationError("--max: '\(max)' is not a size (e.g. 2G, 500M, 0)") }
            let (cache, queue, inUse) = try await CacheCommand.open(queueOptions, workDir: work.workDir)
            // The workers' lease is not known here: a temporary file changed in the last hour may still be written.
            let removed = cache.prune(to: limit, inUse: inUse, partialGrace: 3600)
            print("removed \(removed.count) file(s), \(removed.reduce(Int64(0)) { $0 + $1.bytes }) bytes from \(cache.folder.path)")
            guard let queue else { return }
            // The ledger's rows go with their files: a row left saying done for a removed piece would only be
            // corrected by the next maker's second look.
            do {
                let forgotten = try await cache.forgetPieces(of: removed, in: queue)
                if forgotten > 0 { print("forgot \(forgotten) piece(s) in the queue's ledger") }
            } catch {
                try? await queue.close()
                throw error
            }
            try await queue.close()
        }
    }
}

/// `--work-dir` of the cache commands: which folder they look at.
struct WorkDirOption: ParsableArguments {
    @Option(help: ArgumentHelp("The workers' shared work folder (default: AVATARIZE_WORK_DIR, else this machine's jobs cache).", valueName: "dir"))
    var workDir: String?
}
