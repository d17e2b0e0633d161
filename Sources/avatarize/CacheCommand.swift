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
    /// the avatarize cache folder) and the clips the queue still needs (none when there is no queue).
    static func open(_ queueOptions: QueueOptions, workDir: String?) async throws -> (TrackCache, Set<String>) {
        let cache = TrackCache(folder: AvatarJobKind.workFolder(explicit: workDir))
        // A folder named by hand must be there (a typo would otherwise read as an empty cache); the default one
        // appears with the first job.
        var isFolder: ObjCBool = false
        if let workDir, !(FileManager.default.fileExists(atPath: cache.folder.path, isDirectory: &isFolder) && isFolder.boolValue) {
            throw ValidationError("--work-dir \(workDir): no such folder")
        }
        guard let queue = try await queueOptions.openExisting() else { return (cache, []) }
        let inUse = try await TrackCache.clipsInUse(queue)
        try await queue.close()
        return (cache, inUse)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List cached files, least recently used first.")
        @OptionGroup var queueOptions: QueueOptions
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var work: WorkDirOption

        func run() async throws {
            let (cache, inUse) = try await CacheCommand.open(queueOptions, workDir: work.workDir)
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
            let (cache, inUse) = try await CacheCommand.open(queueOptions, workDir: work.workDir)
            // The workers' lease is not known here: a temporary file changed in the last hour may still be written.
            let removed = cache.prune(to: limit, inUse: inUse, partialGrace: 3600)
            print("removed \(removed.count) file(s), \(removed.reduce(Int64(0)) { $0 + $1.bytes }) bytes from \(cache.folder.path)")
        }
    }
}

/// `--work-dir` of the cache commands: which folder they look at.
struct WorkDirOption: ParsableArguments {
    @Option(help: ArgumentHelp("The workers' shared work folder (default: AVATARIZE_WORK_DIR, else this machine's jobs cache).", valueName: "dir"))
    var workDir: String?
}
