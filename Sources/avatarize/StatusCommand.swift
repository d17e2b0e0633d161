import ArgumentParser
import Dashboard
import Foundation
import Jobs

/// A one-screen summary of the queue: jobs by state and what is running where.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show how many jobs are in each state and which are running."
    )

    @OptionGroup var queueOptions: QueueOptions
    @Flag(help: "Print JSON.") var json = false

    typealias Report = QueueStatusView

    func run() async throws {
        guard let queue = try await queueOptions.openExisting() else {
            let location = try queueOptions.location()
            if json {
                print(try JobsOutput.json(Report(queue: location.description, counts: [:], running: [], waitingRetry: 0)))
            } else {
                print("no queue at \(location) (nothing enqueued here yet)")
            }
            return
        }
        let counts = try await queue.counts()
        let running = try await queue.jobs(state: .running, limit: 1000)
        // Both backends count waiting retries from an index; reading every queued job is the fallback for others.
        let now = Date()
        let waitingRetry = if let browsing = queue as? any QueueBrowsing { try await browsing.waitingRetryCount() }
            else { try await queue.jobs(state: .queued, limit: 100_000).filter { $0.runAfter > now }.count }
        try await queue.close()
        let report = Report(
            queue: queue.displayLocation,
            counts: Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0.rawValue, counts[$0] ?? 0) }),
            running: running.map(JobsOutput.JobView.init),
            waitingRetry: waitingRetry)
        if json {
            print(try JobsOutput.json(report))
            return
        }
        print("queue: \(report.queue)")
        print(JobState.allCases.map { "\($0.rawValue): \(counts[$0] ?? 0)" }.joined(separator: "  "))
        if report.waitingRetry > 0 { print("\(report.waitingRetry) queued job(s) waiting out a retry backoff") }
        for job in running {
            print("  job \(job.id) on \(job.leaseOwner ?? "?"): \(JobsOutput.progress(job)) frames, attempt \(job.attempts)/\(job.maxAttempts)")
        }
    }
}
