import ArgumentParser
import Dashboard
import Foundation
import Jobs
import Pipeline

/// `--queue`, shared by every queue command. Without it, `DATABASE_URL`, then `sqlite:./avatarize.db`.
struct QueueOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Queue URL: sqlite:PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DB (default: $DATABASE_URL, else sqlite:./avatarize.db).",
        valueName: "url"))
    var queue: String?

    func location() throws -> QueueLocation {
        try QueueLocation.resolve(explicit: queue)
    }

    func open() async throws -> any JobQueue {
        try await QueueOpener.open(try location(), logger: makeLogger("avatarize.queue"))
    }

    /// For commands that only read or steer an existing queue: nil when the SQLite file is not there, so that
    /// looking creates no database (or WAL files) in the current folder.
    func openExisting() async throws -> (any JobQueue)? {
        let location = try location()
        if case .sqlite(let path) = location, !FileManager.default.fileExists(atPath: path) { return nil }
        return try await QueueOpener.open(location, logger: makeLogger("avatarize.queue"))
    }

    /// The queue an existing-queue command needs, or an error naming where it looked.
    func openRequired() async throws -> any JobQueue {
        guard let queue = try await openExisting() else { throw ValidationError("no queue at \(try location()) (pass --queue or set DATABASE_URL)") }
        return queue
    }
}

/// Inspect and steer individual jobs.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List, show, retry or cancel queued jobs.",
        subcommands: [List.self, Show.self, Retry.self, Cancel.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs, oldest first.")
        @OptionGroup var queueOptions: QueueOptions
        @Option(help: "Only jobs in this state: queued, running, succeeded, dead, cancelled.") var state: String?
        @Option(help: "Show at most this many jobs.") var limit = 100
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            let filter: JobState?
            if let state {
                guard let parsed = JobState(rawValue: state) else {
                    throw ValidationError("unknown state '\(state)' (use one of \(JobState.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                filter = parsed
            } else {
                filter = nil
            }
            guard let queue = try await queueOptions.openExisting() else {
                print("no queue at \(try queueOptions.location())")
                return
            }
            let jobs = try await queue.jobs(state: filter, limit: limit)
            try await queue.close()
            if json {
                print(try JobsOutput.json(jobs.map(JobsOutput.JobView.init)))
                return
            }
            print(JobsOutput.table(jobs))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one job with its history.")
        @OptionGroup var queueOptions: QueueOptions
        @Argument(help: "Job id.") var id: Int64
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let queue = try await queueOptions.openRequired()
            guard let job = try await queue.job(id: id) else {
                try await queue.close()
                throw QueueError.noSuchJob(id)
            }
            let events = try await queue.events(jobID: id)
            try await queue.close()
            if json {
                print(try JobsOutput.json(JobDetailView(job, events: events)))
                return
            }
            print(JobsOutput.detail(job, events: events))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue a dead or cancelled job again, attempts reset.")
        @OptionGroup var queueOptions: QueueOptions
        @Argument(help: "Job id.") var id: Int64

        func run() async throws {
            let queue = try await queueOptions.openRequired()
            defer { Task { try? await queue.close() } }
            let job = try await queue.retry(id: id)
            print("job \(job.id) is \(job.state.rawValue) again")
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a queued or running job (a running job stops at its next heartbeat).")
        @OptionGroup var queueOptions: QueueOptions
        @Argument(help: "Job id.") var id: Int64

        func run() async throws {
            let queue = try await queueOptions.openRequired()
            defer { Task { try? await queue.close() } }
            let job = try await queue.cancel(id: id)
            print("job \(job.id) is \(job.state.rawValue)")
        }
    }
}

/// Formatting shared by `jobs` and `status`.
enum JobsOutput {
    // One definition with the dashboard's API, so `--json` and `/api/jobs` keep the same shape.
    typealias JobView = Dashboard.JobView
    static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try APIJSON.encode(value), as: UTF8.self)
    }

    static func progress(_ job: JobRecord) -> String {
        job.progressTotal > 0 ? "\(job.progressDone)/\(job.progressTotal)" : (job.progressDone > 0 ? "\(job.progressDone)" : "-")
    }

    static func table(_ jobs: [JobRecord]) -> String {
        guard !jobs.isEmpty else { return "no jobs" }
        var lines = [pad(["ID", "STATE", "TRIES", "PROGRESS", "OUTPUT"], [6, 10, 6, 10])]
        for job in jobs {
            let output = (try? job.decodedPayload())?.output ?? job.kind
            lines.append(pad(["\(job.id)", job.state.rawValue, "\(job.attempts)/\(job.maxAttempts)", progress(job), output], [6, 10, 6, 10]))
        }
        return lines.joined(separator: "\n")
    }

    static func detail(_ job: JobRecord, events: [JobEvent]) -> String {
        let payload = try? job.decodedPayload()
        var lines = [
            "job \(job.id)  \(job.kind)  \(job.state.rawValue)",
            "  input:    \(payload?.input ?? "?")",
            "  output:   \(payload?.output ?? "?")",
            "  style:    \(payload?.settings.style ?? "?")",
            "  priority: \(job.priority)   attempts: \(job.attempts)/\(job.maxAttempts)   progress: \(progress(job))",
        ]
        if let owner = job.leaseOwner { lines.append("  worker:   \(owner) (lease until \(stamp(job.leaseExpiresAt)))") }
        if job.state == .queued, job.runAfter > Date() { lines.append("  waiting:  until \(stamp(job.runAfter)) (retry backoff)") }
        if let error = job.lastError { lines.append("  error:    \(error)") }
        if let precision = job.precision { lines.append("  made in:  \(precision) (--precision)") }
        if let figure = job.identity { lines.append("  " + figure.line) }
        lines.append("  history:")
        for event in events {
            var line = "    \(stamp(event.at))  \(event.kind.rawValue)"
            if let worker = event.worker { line += "  [\(worker)]" }
            if let detail = event.detail { line += "  \(detail)" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    static func stamp(_ date: Date?) -> String {
        guard let date else { return "-" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    private static func pad(_ columns: [String], _ widths: [Int]) -> String {
        columns.enumerated().map { index, text in
            index < widths.count ? text.padding(toLength: max(widths[index], text.count + 1), withPad: " ", startingAt: 0) : text
        }.joined()
    }
}
