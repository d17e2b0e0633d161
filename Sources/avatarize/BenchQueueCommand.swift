import ArgumentParser
import Foundation
import Jobs

/// Measures the queue's own overhead per job: enqueue + claim + complete, one job at a time from one client, so
/// the number is the latency a worker pays per job on top of the work itself.
struct BenchQueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Measure queue overhead per job (enqueue + claim + complete).",
        discussion: """
        Without --queue, uses a new SQLite file in a temporary folder and removes it afterwards. With a \
        postgres:// URL, point it at a scratch database: the benchmark leaves its jobs there, finished \
        (kind bench-noop, never claimed again).
        """
    )

    @Option(help: "Queue URL (default: a temporary SQLite file).") var queue: String?
    @Option(help: "Jobs to push through.") var jobs = 1000
    @Option(help: "Untimed jobs first, to warm connections and caches.") var warmup = 50
    @Option(help: "Enqueue this many jobs per transaction, as `enqueue` does for a job file; 1 times one enqueue per job.")
    var enqueueBatch = 1
    @Flag(help: "Print JSON.") var json = false

    struct Result: Codable {
        var queue: String
        var jobs: Int
        var enqueueBatch: Int
        var meanMilliseconds: Double
        var medianMilliseconds: Double
        var p99Milliseconds: Double
        var enqueueMeanMilliseconds: Double
        var claimMeanMilliseconds: Double
        var completeMeanMilliseconds: Double
    }

    func validate() throws {
        guard jobs >= 1, warmup >= 0, enqueueBatch >= 1 else {
            throw ValidationError("--jobs and --enqueue-batch must be at least 1 and --warmup not negative")
        }
    }

    func run() async throws {
        let bench = try BenchQueueLocation(queue)
        defer { bench.removeScratch() }
        let location = bench.location
        let jobQueue = try await QueueOpener.open(location, logger: makeLogger("avatarize.queue"))
        let worker = "bench-\(ProcessInfo.processInfo.processIdentifier)"
        let run = UUID().uuidString
        var cycle: [Double] = [], enqueue: [Double] = [], claim: [Double] = [], complete: [Double] = []
        let clock = ContinuousClock()
        let ms = BenchQueueLocation.milliseconds
        var pendingEnqueue = 0.0
        var buffered = 0
        for index in 0..<(warmup + jobs) {
            // A batch is enqueued when its first job comes up; its time is shared equally by its jobs.
            if buffered == 0 {
                let count = min(enqueueBatch, warmup + jobs - index)
                let specs = (index..<(index + count)).map { JobSpec(key: "bench-\(run)-\($0)", kind: "bench-noop", payload: "{}") }
                let began = clock.now
                _ = try await jobQueue.enqueue(specs)
                pendingEnqueue = ms(clock.now - began) / Double(count)
                buffered = count
            }
            buffered -= 1
            let t1 = clock.now
            guard let job = try await jobQueue.claim(worker: worker, lease: 30) else {
                throw ValidationError("the queue gave no job back; is another worker consuming it? Use a scratch queue.")
            }
            let t2 = clock.now
            _ = try await jobQueue.complete(id: job.id, worker: worker, progress: nil) {}
            let t3 = clock.now
            guard index >= warmup else { continue }
            enqueue.append(pendingEnqueue)
            claim.append(ms(t2 - t1))
            complete.append(ms(t3 - t2))
            cycle.append(pendingEnqueue + ms(t3 - t1))
        }
        try await jobQueue.close()
        let sorted = cycle.sorted()
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
        let result = Result(
            queue: location.description, jobs: jobs, enqueueBatch: enqueueBatch, meanMilliseconds: mean(cycle),
            medianMilliseconds: sorted[sorted.count / 2], p99Milliseconds: sorted[min(sorted.count - 1, sorted.count * 99 / 100)],
            enqueueMeanMilliseconds: mean(enqueue), claimMeanMilliseconds: mean(claim), completeMeanMilliseconds: mean(complete))
        if json {
            print(try JobsOutput.json(result))
        } else {
            print(String(format: "%@: %d jobs (enqueued %d per transaction), %.3f ms per job (median %.3f, p99 %.3f); enqueue %.3f, claim %.3f, complete %.3f ms",
                         result.queue, jobs, enqueueBatch, result.meanMilliseconds, result.medianMilliseconds, result.p99Milliseconds,
                         result.enqueueMeanMilliseconds, result.claimMeanMilliseconds, result.completeMeanMilliseconds))
        }
    }
}
