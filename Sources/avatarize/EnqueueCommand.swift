import ArgumentParser
import Foundation
import Jobs

/// Validates a whole job file, then enqueues one job per output in a single transaction.
struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Validate a job file and queue one job per output.",
        discussion: """
        A job file (YAML or JSON) names inputs (files or glob patterns, relative to the file's folder), an output \
        path template and a list of settings; the batch is every input with every settings entry:

          kind: transcode
          inputs: [clips/*.mp4]
          output: out/{clip}-{style}.mp4
          settings:
            - style: identity

        Nothing is queued unless the whole file is valid. Outputs must stay inside the output root (the file's \
        folder, its output_root field, or --output-root). Enqueueing the same jobs again changes nothing.
        """
    )

    @Argument(help: "Job file (.yaml, .yml or .json).", completion: .file(extensions: ["yaml", "yml", "json"]))
    var jobFile: String
    @OptionGroup var queueOptions: QueueOptions
    @Option(help: "Folder every output must stay inside (overrides the file's output_root).") var outputRoot: String?
    @Flag(help: "Validate and list the jobs without queueing them.") var dryRun = false
    @Flag(help: "Print JSON.") var json = false

    struct Result: Codable {
        var queue: String
        var planned: Int
        var enqueued: [Int64]
        var alreadyQueued: Int
        var outputs: [String]
    }

    func run() async throws {
        let location = try queueOptions.location()
        let file = try JobFileParser().parse(fileAt: jobFile)
        let root = outputRoot.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        let planned = try JobPlanner().plan(file, outputRootOverride: root)
        var result = Result(queue: location.description, planned: planned.count, enqueued: [], alreadyQueued: 0,
                            outputs: planned.map(\.payload.output))
        if !dryRun {
            let queue = try await QueueOpener.open(location, logger: makeLogger("avatarize.queue"))
            do {
                let summary = try await queue.enqueue(planned.map(\.spec))
                result.enqueued = summary.inserted
                result.alreadyQueued = summary.existing
            } catch {
                try? await queue.close()
                throw error
            }
            try await queue.close()
        }
        if json {
            print(try JobsOutput.json(result))
        } else if dryRun {
            for output in result.outputs { print(output) }
            print("\(planned.count) job(s) valid; nothing queued (--dry-run)")
        } else {
            print("queued \(result.enqueued.count) job(s), \(result.alreadyQueued) already in the queue (\(result.queue))")
        }
    }
}
