import Foundation
import Logging

/// Claims jobs from a queue and runs them: `concurrency` independent slots, each claiming, running and recording
/// one job at a time. A job's output appears only through `JobQueue.complete`, so a crash at any point leaves
/// either no output or the whole output, and the job either re-runs (lease expiry) or is recorded done.
public final class Worker: Sendable {
    /// What this worker did, for the exit message and tests.
    public struct Summary: Sendable, Equatable, Codable {
        public var succeeded = 0
        public var failed = 0
        public var released = 0
        /// Jobs given up because they were cancelled or their lease was lost.
        public var abandoned = 0
    }

    public let queue: any JobQueue
    public let kinds: JobKinds
    public let options: WorkerOptions
    private let logger: Logger
    private let stats = Locked(Summary())
    /// Prometheus metrics, when the worker serves them.
    public let metrics: WorkerMetrics?

    public init(queue: any JobQueue, kinds: JobKinds = .builtIn, options: WorkerOptions, metrics: WorkerMetrics? = nil,
                logger: Logger = Logger(label: "avatarize.worker")) {
        self.queue = queue
        self.metrics = metrics
        self.kinds = kinds
        self.options = options
        var logger = logger
        logger[metadataKey: "worker"] = "\(options.identity)"
        self.logger = logger
    }

    /// Runs until `stop` asks it to (or, with `drain`, until no job is left), then returns once every running
    /// job has finished or been released.
    public func run(stop: StopSignal) async -> Summary {
        logger.info("worker started", metadata: ["queue": "\(queue.displayLocation)", "concurrency": "\(options.concurrency)"])
        let refresher = Task {
            guard let metrics = self.metrics else { return }
            while !Task.isCancelled {
                await metrics.refresh(from: self.queue)
                try? await Task.sleep(nanoseconds: 2_000_000_000)
            }
        }
        await withTaskGroup(of: Void.self) { group in
            for slot in 0..<max(options.concurrency, 1) {
                group.addTask { await self.slotLoop(slot: slot, stop: stop) }
            }
        }
        refresher.cancel()
        let summary = stats.value
        logger.info("worker stopped", metadata: [
            "succeeded": "\(summary.succeeded)", "failed": "\(summary.failed)", "released": "\(summary.released)",
        ])
        return summary
    }

    private func slotLoop(slot: Int, stop: StopSignal) async {
        var errorDelay = options.pollInterval
        while stop.level == .none {
            let job: JobRecord?
            do {
                job = try await queue.claim(worker: options.identity, lease: options.lease)
                errorDelay = options.pollInterval
            } catch {
                // The database may be restarting; back off and try again rather than dropping out.
                logger.error("claim failed: \(error)")
                await stop.sleep(errorDelay)
                errorDelay = min(errorDelay * 2, 30)
                continue
            }
            guard let job else {
                if options.drain, (try? await queue.hasUnfinishedJobs()) == false { return }
                await stop.sleep(options.pollInterval)
                continue
            }
            await execute(job, stop: stop)
        }
    }

    /// Runs one claimed job to an outcome that is recorded in the queue.
    func execute(_ job: JobRecord, stop: StopSignal) async {
        var logger = self.logger
        logger[metadataKey: "job"] = "\(job.id)"
        logger.info("running job", metadata: ["kind": "\(job.kind)", "attempt": "\(job.attempts)/\(job.maxAttempts)"])

        let payload: JobPayload
        let kind: any JobKind
        do {
            guard let known = kinds[job.kind] else { throw WorkerError.unknownKind(job.kind) }
            kind = known
            payload = try job.decodedPayload()
            guard JobPlanner.isInside(URL(fileURLWithPath: payload.output), root: URL(fileURLWithPath: payload.outputRoot)) else {
                throw WorkerError.outputOutsideRoot(output: payload.output, root: payload.outputRoot)
            }
        } catch {
            await recordFailure(job, error: error, logger: logger)
            return
        }

        let staged = StagedOutput(jobID: job.id, output: payload.output)
        do {
            try staged.prepare()
        } catch {
            await recordFailure(job, error: WorkerError.staging("\(error)"), logger: logger)
            return
        }

        let progress = Locked<JobProgress?>(nil)
        let metrics = self.metrics
        metrics?.jobStarted()
        let work = Task {
            try await kind.run(payload, output: staged.file) { update in
                let previous = progress.value?.done ?? 0
                progress.value = update
                metrics?.framesDone(update.done - previous)
            }
        }
        let heartbeat = Task { () -> LeaseStatus in
            await self.heartbeatLoop(job: job, progress: progress, stop: stop, work: work)
        }
        let result = await work.result
        heartbeat.cancel()
        let lease = await heartbeat.value

        switch (result, lease) {
        case (.success, .held):
            do {
                let status = try await queue.complete(id: job.id, worker: options.identity, progress: progress.value) {
                    try staged.commit()
                }
                staged.discard()
                if status == .held {
                    stats.mutate { $0.succeeded += 1 }
                    metrics?.jobEnded(.succeeded)
                    logger.info("job succeeded", metadata: ["output": "\(payload.output)"])
                } else {
                    stats.mutate { $0.abandoned += 1 }
                    metrics?.jobEnded(.abandoned)
                    logger.warning("job finished but was \(status.rawValue) meanwhile; output discarded")
                }
            } catch {
                staged.discard()
                metrics?.jobEnded(.failed)
                await recordFailure(job, error: error, logger: logger)
            }
        case (.success, _), (.failure, .cancelled), (.failure, .lost):
            staged.discard()
            stats.mutate { $0.abandoned += 1 }
            metrics?.jobEnded(.abandoned)
            logger.warning("job abandoned: \(lease == .cancelled ? "cancelled" : "lease lost")")
        case (.failure(let error), .held):
            staged.discard()
            if stop.level == .abort {
                do {
                    _ = try await queue.release(id: job.id, worker: options.identity)
                    stats.mutate { $0.released += 1 }
                    metrics?.jobEnded(.released)
                    logger.info("job released for another worker (shutdown)")
                } catch {
                    // The lease will expire and the job will be claimed again; nothing is lost.
                    metrics?.jobEnded(.abandoned)
                    logger.error("could not release job: \(error)")
                }
            } else {
                metrics?.jobEnded(.failed)
                await recordFailure(job, error: error, logger: logger)
            }
        }
    }

    /// Renews the lease until the job task ends; cancels the job when the lease is lost, the job is cancelled, or
    /// shutdown reaches `abort`. Returns the last lease status seen.
    private func heartbeatLoop(job: JobRecord, progress: Locked<JobProgress?>, stop: StopSignal, work: Task<Void, any Error>) async -> LeaseStatus {
        var status = LeaseStatus.held
        var lastBeat = Date()
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: 50_000_000)
            if stop.level == .abort { work.cancel() }
            guard Date().timeIntervalSince(lastBeat) >= options.effectiveHeartbeatInterval, !Task.isCancelled else { continue }
            lastBeat = Date()
            do {
                status = try await queue.heartbeat(id: job.id, worker: options.identity, lease: options.lease, progress: progress.value)
            } catch {
                // A missed beat is survivable: the lease has room for two; a later beat tells whether it held.
                logger.warning("heartbeat failed for job \(job.id): \(error)")
                continue
            }
            if status != .held {
                work.cancel()
                return status
            }
        }
        return status
    }

    private func recordFailure(_ job: JobRecord, error: any Error, logger: Logger) async {
        let message = "\(error)"
        do {
            let state = try await queue.fail(id: job.id, worker: options.identity, error: message, policy: options.retry)
            stats.mutate { $0.failed += 1 }
            switch state {
            case .dead?: logger.error("job failed for the last time and is dead: \(message)")
            case .some: logger.warning("job failed; will retry: \(message)")
            case nil: logger.warning("job failed after its lease was lost: \(message)")
            }
        } catch {
            logger.error("could not record failure (the lease will expire and the job re-run): \(error)")
        }
    }
}
