import ArgumentParser
import Dashboard
import Foundation
import Jobs
import Logging
import Tensors

/// Runs queued jobs until stopped. SIGTERM or Ctrl-C stops claiming and lets running jobs finish (up to
/// --grace-seconds), then releases what is left; a second signal releases at once.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Claim and run queued jobs.",
        discussion: """
        Start as many workers as you like, on one machine (sqlite:) or many (postgres://). Each claim is a lease \
        renewed by heartbeat; if a worker dies, its job runs again elsewhere once the lease expires. Outputs are \
        written to a hidden folder beside the target and moved into place only when the job is recorded done.
        """
    )

    @OptionGroup var queueOptions: QueueOptions
    @Option(help: "Jobs to run at once.") var concurrency = 1
    @Option(help: "Precision of the networks: fp32, bf16 (needs AVX512_BF16) or auto (the default: bf16 where the CPU has it).")
    var precision: PrecisionChoice = .auto
    @Option(help: "Worker threads for the networks (default: all cores).") var threads: Int?
    @Option(help: "Lease length in seconds; a dead worker's job is claimable again after this.") var leaseSeconds: Double = 30
    @Option(help: "Seconds between polls when nothing is queued.") var pollSeconds: Double = 1
    @Option(help: "First retry delay in seconds; doubles with each failed attempt.") var retryBaseSeconds: Double = 5
    @Option(help: "Longest retry delay in seconds.") var retryMaxSeconds: Double = 600
    @Option(help: "After SIGTERM/SIGINT, seconds to let running jobs finish before releasing them.") var graceSeconds: Double = 30
    @Flag(help: "Exit once no job is queued or running.") var drain = false
    @Option(help: "Worker name in leases and history (default: host-pid-random).") var name: String?
    @Option(help: "Serve Prometheus metrics on this port at /metrics.") var metricsPort: Int?
    @Option(help: "Address the metrics endpoint listens on (0.0.0.0 for every interface).") var metricsHost = "127.0.0.1"
    @Option(help: ArgumentHelp("Send the webhooks jobs name, signed with the first line of this file (HMAC-SHA256, X-Avatarize-Signature).", valueName: "file"))
    var webhookSecretFile: String?
    @Option(help: "Hosts webhooks may be sent to, comma-separated (host or host:port); others are never called.") var webhookHosts: String?
    @Option(help: "Seconds before a failed webhook is tried again; doubles with each failure, up to an hour.") var webhookRetrySeconds: Double = 5
    @Option(help: ArgumentHelp("Write outputs only inside this folder (symlinks resolved); refuse jobs enqueued for another output root (default: each job's own root).", valueName: "dir"))
    var outputRoot: String?
    @Option(help: "After a write fails for lack of disk space, seconds to claim nothing (the job is given back without spending an attempt).")
    var diskFullPauseSeconds: Double = 30
    @Option(help: ArgumentHelp("Keep the track cache under this size, evicting least recently used tracks and pieces no queued or running job needs (e.g. 2G, 500M).", valueName: "size"))
    var cacheMax = "2G"
    @Option(help: ArgumentHelp("A folder every worker can reach (a local or NFS folder; not a bucket mount, see the README) for latent tracks and a segmented clip's pieces, each made once among all workers through the queue (default: AVATARIZE_WORK_DIR, else this machine's jobs cache).", valueName: "dir"))
    var workDir: String?

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        if let metricsPort, !(0...65535).contains(metricsPort) { throw ValidationError("--metrics-port must be 0 to 65535") }
        guard TrackCache.parseSize(cacheMax) != nil else { throw ValidationError("--cache-max: '\(cacheMax)' is not a size (e.g. 2G, 500M)") }
        guard diskFullPauseSeconds >= 0 else { throw ValidationError("--disk-full-pause-seconds must not be negative") }
        guard leaseSeconds >= 0.5 else { throw ValidationError("--lease-seconds must be at least 0.5") }
        guard pollSeconds > 0, retryBaseSeconds >= 0, retryMaxSeconds >= retryBaseSeconds, graceSeconds >= 0 else {
            throw ValidationError("poll, retry and grace times must be positive, and --retry-max-seconds at least --retry-base-seconds")
        }
    }

    func run() async throws {
        var logger = makeLogger("avatarize.worker")
        if ProcessInfo.processInfo.environment["AVATARIZE_LOG"] == nil { logger.logLevel = .info }
        Precision.processDefault = try precision.resolve()
        if let threads { Parallel.configure(threads: threads) }
        logger.info("networks", metadata: ["precision": "\(Precision.processDefault)", "threads": "\(Parallel.workers)"])
        let queue = try await queueOptions.open()
        var options = WorkerOptions()
        options.concurrency = concurrency
        options.lease = leaseSeconds
        options.pollInterval = pollSeconds
        options.retry = RetryPolicy(baseDelay: retryBaseSeconds, maxDelay: retryMaxSeconds)
        options.drain = drain
        if let name { options.identity = name }
        if let outputRoot { options.outputRoot = URL(fileURLWithPath: outputRoot).standardizedFileURL.path }
        options.diskFullPause = diskFullPauseSeconds
        // The work folder is the jobs' cache: --cache-max keeps it within bounds.
        let workFolder = AvatarJobKind.workFolder(explicit: workDir)
        options.workFolder = workFolder
        options.trackCache = workFolder
        logger.info("work folder", metadata: ["path": "\(workFolder.path)"])
        options.cacheMax = TrackCache.parseSize(cacheMax) ?? options.cacheMax
        // Per-job progress on a terminal only; logs and CI output stay line-based.
        let display = isatty(STDERR_FILENO) == 1 ? WorkerProgressLine() : nil
        if let display {
            options.progressObserver = { job, progress, seconds in display.update(job: job.id, progress: progress, seconds: seconds) }
        }
        let stop = StopSignal()
        let grace = graceSeconds
        let watcher = SignalWatcher(stop: stop, grace: grace) { signal, level in
            let name = signal == SIGTERM ? "SIGTERM" : "SIGINT"
            let action = level == .abort ? "releasing running jobs now" : "finishing running jobs (up to \(grace) s), claiming no more"
            FileHandle.standardError.write(Data("\(name): \(action)\n".utf8))
        }
        var metrics: WorkerMetrics?
        var server: WebServer?
        if let metricsPort {
            let workerMetrics = WorkerMetrics()
            do {
                server = try await WebServer(routes: .init(metrics: { workerMetrics.exposition() }), host: metricsHost, port: metricsPort)
            } catch {
                try? await queue.close()
                throw error
            }
            metrics = workerMetrics
            logger.info("serving metrics", metadata: ["url": "http://\(metricsHost):\(server?.port ?? metricsPort)/metrics"])
        }
        var webhooks: Task<Void, Never>?
        if let webhookSecretFile {
            var hookOptions = WebhookSender.Options(secret: try WebhookSender.secret(fromFile: webhookSecretFile),
                                                    hosts: try WebhookHosts(list: webhookHosts ?? ""), worker: options.identity)
            hookOptions.firstBackoff = max(0.1, webhookRetrySeconds)
            hookOptions.pollInterval = pollSeconds
            if let sender = WebhookSender(queue: queue, options: hookOptions, logger: logger) {
                webhooks = Task { await sender.run(stop: stop) }
            }
        }
        let worker = Worker(queue: queue, options: options, metrics: metrics, logger: logger)
        let summary = await worker.run(stop: stop)
        webhooks?.cancel()
        await webhooks?.value
        display?.finish()
        await server?.close()
        withExtendedLifetime(watcher) {}
        try await queue.close()
        print("worker \(options.identity): \(summary.succeeded) succeeded, \(summary.failed) failed, \(summary.released) released, \(summary.abandoned) abandoned")
    }
}

/// One self-rewriting line on a terminal with every running job's frames, percentage, frame rate and ETA.
final class WorkerProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private var jobs: [Int64: (progress: JobProgress, seconds: TimeInterval, at: Date)] = [:]
    private var lastDraw = Date.distantPast

    func update(job: Int64, progress: JobProgress, seconds: TimeInterval) {
        lock.withLock {
            let now = Date()
            jobs[job] = (progress, seconds, now)
            // A job not heard from for a while has ended.
            jobs = jobs.filter { now.timeIntervalSince($0.value.at) < 5 }
            guard now.timeIntervalSince(lastDraw) >= 0.2 else { return }
            lastDraw = now
            let parts = jobs.keys.sorted().map { id -> String in
                let (p, s, _) = jobs[id]!
                let fps = s > 0 ? Double(p.done) / s : 0
                var text = "job \(id): \(p.done)"
                if p.total > 0 {
                    text += "/\(p.total) frames \(min(100, 100 * p.done / p.total))%"
                    if fps > 0, p.done < p.total { text += " ETA \(ProgressDisplay.clock(Double(p.total - p.done) / fps))" }
                } else {
                    text += " frames"
                }
                return text + String(format: " %.1f fps", fps)
            }
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + parts.joined(separator: " | ")).utf8))
        }
    }

    func finish() {
        lock.withLock { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    }
}
