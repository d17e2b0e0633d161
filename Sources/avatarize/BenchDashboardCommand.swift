import ArgumentParser
import Dashboard
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Jobs

/// Page times of the dashboard over a queue of many jobs: seeds an empty queue through the queue's own API (enqueue
/// in batches, then claim, complete and fail as workers would), serves the dashboard in this process on a free
/// loopback port, and times whole HTTP requests (server, queries and page rendering) for each kind of page.
struct BenchDashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Measure the dashboard's page times over a seeded queue (overview, jobs pages, search, a job).",
        discussion: """
        Without --queue, seeds a new SQLite file in a temporary folder and removes it afterwards. With a \
        postgres:// URL, point it at an empty scratch database: the benchmark leaves its jobs there. \
        scripts/bench-dashboard.sh runs both backends at 1 000 and 100 000 jobs.
        """
    )

    @Option(help: "Queue URL (default: a temporary SQLite file). It must be empty.") var queue: String?
    @Option(help: "Jobs to seed.") var jobs = 1000
    @Option(help: "Share of the jobs that have finished (claimed, then completed or, one in ten, failed).") var finished = 0.1
    @Option(help: "Timed requests per page (after 3 untimed ones).") var repeats = 15
    @Option(help: "Seconds to wait after seeding before timing: PostgreSQL's autovacuum then does what it does on a queue that has been up a while (the visibility map lets counts read the index alone).")
    var settle: Double = 0
    @Flag(help: "Print JSON.") var json = false

    struct PageTime: Codable {
        var page: String
        var path: String
        var rows: Int?
        var medianMilliseconds: Double
        var maxMilliseconds: Double
    }

    struct Result: Codable {
        var queue: String
        var jobs: Int
        var seedSeconds: Double
        var settleSeconds: Double
        var pages: [PageTime]
    }

    func validate() throws {
        guard jobs >= 100 else { throw ValidationError("--jobs must be at least 100 (the pages look for jobs in several states)") }
        guard (0.01...0.9).contains(finished) else { throw ValidationError("--finished must be between 0.01 and 0.9") }
        guard repeats >= 1, settle >= 0 else { throw ValidationError("--repeats must be at least 1 and --settle not negative") }
    }

    func run() async throws {
        let bench = try BenchQueueLocation(queue)
        defer { bench.removeScratch() }
        let location = bench.location
        let opened = try await QueueOpener.open(location, logger: makeLogger("avatarize.queue"))
        guard let browsing = opened as? any QueueBrowsing else {
            try await opened.close()
            throw ValidationError("this queue backend cannot be browsed")
        }
        do {
            let result = try await measure(browsing, location: location)
            try await opened.close()
            if json { print(try JobsOutput.json(result)) } else { printTable(result) }
        } catch {
            try? await opened.close()
            throw error
        }
    }

    /// Clip `i` of the seeded batch: a thousand clips per folder, as a large batch is usually laid out.
    static func clipPath(_ i: Int, root: String) -> (input: String, output: String) {
        let folder = String(format: "batch-%03d", i / 1000), clip = String(format: "clip-%06d", i)
        return ("\(root)/clips/\(folder)/\(clip).mp4", "\(root)/out/\(folder)/\(clip).avatar.mp4")
    }

    func measure(_ queue: any QueueBrowsing, location: QueueLocation) async throws -> Result {
        let existing = try await queue.counts().values.reduce(0, +)
        guard existing == 0 else {
            throw ValidationError("\(location.description) already holds \(existing) jobs; give the benchmark an empty scratch queue")
        }
        let clock = ContinuousClock()
        let seedStart = clock.now
        let root = "/bench-\(UUID().uuidString.prefix(8))"
        let settings = JobSettings(style: "sketch")
        for start in stride(from: 0, to: jobs, by: 1000) {
            let specs = try (start..<min(start + 1000, jobs)).map { i -> JobSpec in
                let (input, output) = Self.clipPath(i, root: root)
                let payload = JobPayload(input: input, output: output, outputRoot: root + "/out", clip: (input as NSString).lastPathComponent,
                                         settings: settings)
                return JobSpec(key: "\(root)-\(i)", kind: "avatar", payload: try payload.encoded(), maxAttempts: 1)
            }
            _ = try await queue.enqueue(specs)
        }
        // Workers take the oldest jobs first: the first `finished` share is done (one in ten of them dead), two are
        // running with progress, and the rest wait.
        let done = Int(Double(jobs) * finished)
        var aSucceeded: Int64 = 0, aDead: Int64 = 0
        for k in 0..<done {
            guard let job = try await queue.claim(worker: "bench-worker-\(k % 4)", lease: 600) else { break }
            if k % 10 == 3 {
                _ = try await queue.fail(id: job.id, worker: "bench-worker-\(k % 4)", error: "\(job.id): decoder found no video stream",
                                         policy: RetryPolicy(), permanent: true)
                aDead = job.id
            } else {
                _ = try await queue.complete(id: job.id, worker: "bench-worker-\(k % 4)", progress: JobProgress(done: 250, total: 250)) {}
                aSucceeded = job.id
            }
        }
        for w in 0..<2 {
            guard let job = try await queue.claim(worker: "bench-worker-\(w)", lease: 600) else { break }
            _ = try await queue.heartbeat(id: job.id, worker: "bench-worker-\(w)", lease: 600, progress: JobProgress(done: 40 + 30 * w, total: 250))
        }
        let seedSeconds = BenchQueueLocation.milliseconds(clock.now - seedStart) / 1000
        if settle > 0 { try await Task.sleep(nanoseconds: UInt64(settle * 1e9)) }

        let app = try DashboardApp(queue: queue, options: DashboardOptions())
        let server = try await WebServer(app: app, host: "127.0.0.1", port: 0)
        do {
            let pages = try await timePages(queue, base: "http://127.0.0.1:\(server.port)", root: root, done: done,
                                            succeeded: aSucceeded, dead: aDead)
            await server.close()
            return Result(queue: location.description, jobs: jobs, seedSeconds: seedSeconds, settleSeconds: settle, pages: pages)
        } catch {
            await server.close()
            throw error
        }
    }

    func timePages(_ queue: any QueueBrowsing, base: String, root: String, done: Int, succeeded aSucceeded: Int64,
                   dead aDead: Int64) async throws -> [PageTime] {
        let clock = ContinuousClock()
        // Ids run from the first job's upwards in enqueue order; a deep page starts 50 jobs above the oldest.
        let newest = try await queue.page(JobPageQuery(limit: 1)).jobs.first?.id ?? 0
        let oldest = newest - Int64(jobs) + 1
        let needle = Self.clipPath(42, root: root).input.split(separator: "/").last!.replacingOccurrences(of: ".mp4", with: "")
        let pages: [(String, String)] = [
            ("overview", "/"),
            ("overview refresh (JSON)", "/api/overview"),
            ("jobs, first page", "/jobs"),
            ("jobs, deep page", "/jobs?before=\(oldest + 50)"),
            ("jobs, state filter (dead)", "/jobs?state=dead"),
            ("jobs, state filter, deep", "/jobs?state=queued&before=\(oldest + Int64(done) + 50)"),
            ("search, one match (\(needle))", "/jobs?q=\(needle)"),
            ("search, no match", "/jobs?q=no-such-clip"),
            ("search, the oldest folder (batch-000)", "/jobs?q=batch-000"),
            ("search, every job matches (.mp4)", "/jobs?q=.mp4"),
            ("search in a folder + state (running)", "/jobs?state=running&q=batch-000"),
            ("job page (succeeded)", "/jobs/\(aSucceeded)"),
            ("job page (dead)", "/jobs/\(aDead)"),
            ("job API (JSON)", "/api/jobs/\(aSucceeded)"),
        ]
        let session = URLSession(configuration: .ephemeral)
        var times: [PageTime] = []
        for (name, path) in pages {
            var samples: [Double] = []
            var rows: Int?
            for round in 0..<(3 + repeats) {
                let began = clock.now
                let (data, response) = try await session.data(from: URL(string: base + path)!)
                let ms = BenchQueueLocation.milliseconds(clock.now - began)
                guard (response as? HTTPURLResponse)?.statusCode == 200 else {
                    throw ValidationError("\(path): HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0): \(String(decoding: data.prefix(300), as: UTF8.self))")
                }
                if round >= 3 { samples.append(ms) }
                if path.hasPrefix("/jobs?") || path == "/jobs" {
                    rows = String(decoding: data, as: UTF8.self).components(separatedBy: "<tr data-job=").count - 1
                }
            }
            samples.sort()
            times.append(PageTime(page: name, path: path, rows: rows, medianMilliseconds: samples[samples.count / 2],
                                  maxMilliseconds: samples.last!))
        }
        session.invalidateAndCancel()
        return times
    }

    func printTable(_ r: Result) {
        let settled = r.settleSeconds > 0 ? ", then \(String(format: "%.0f", r.settleSeconds)) s idle" : ""
        print("\(r.queue): \(r.jobs) jobs (seeded in \(String(format: "%.1f", r.seedSeconds)) s\(settled)), \(repeats) requests per page")
        for p in r.pages {
            let rows = p.rows.map { "\($0) rows" } ?? ""
            print("  " + p.page.padding(toLength: 40, withPad: " ", startingAt: 0)
                  + String(format: "median %7.2f ms  max %7.2f ms  ", p.medianMilliseconds, p.maxMilliseconds) + rows)
        }
    }
}
