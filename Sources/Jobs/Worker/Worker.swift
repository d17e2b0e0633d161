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
    /// Claims made so far; numbers each claim's name.
    private let claims = Locked(0)
    /// No slot claims before this (set after a write failed for lack of disk space).
    private let pausedUntil = Locked(Date.distantPast)
    private let lastCleanup = Locked(Date.distantPast)
    /// Prometheus metrics, when the worker serves them.
    public let metrics: WorkerMetrics?
    /// The work folder and the queue's piece ledger, through which jobs that share a clip make each piece once.
    public let pieces: PieceMaker

    public init(queue: any JobQueue, kinds: JobKinds = .builtIn, options: WorkerOptions, metrics: WorkerMetrics? = nil,
                logger: Logger = Logger(label: "avatarize.worker")) {
        self.queue = queue
        self.metrics = metrics
        self.kinds = kinds
        self.options = options
        var logger = logger
        logger[metadataKey: "worker"] = "\(options.identity)"
        self.logger = logger
        pieces = PieceMaker(folder: options.workFolder ?? AvatarJobKind.trackCacheFolder(), ledger: queue, worker: options.identity,
                            lease: options.lease, pollInterval: min(options.pollInterval, 0.5), logger: logger)
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
        let swept = ScratchSweeper.sweep()
        if !swept.isEmpty { logger.info("removed \(swept.count) temporary folder(s) of processes that are gone") }
        await pruneCache()
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
            // After a full disk every slot waits out the pause before claiming again.
            let paused = pausedUntil.value.timeIntervalSinceNow
            if paused > 0 {
                await stop.sleep(min(paused, 1))
                continue
            }
            // Each claim has a name of its own: it is the lease token every later write is checked against, so
            // nothing of an attempt this process lost (even one it claims again in another slot) can be mistaken
            // for the attempt running now.
            let claim = "\(options.identity)/\(claims.mutate { n -> Int in n += 1; return n })"
            let job: JobRecord?
            do {
                job = try await queue.claim(worker: claim, lease: options.lease)
                errorDelay = options.pollInterval
            } catch {
                // The database may be restarting; back off and try again rather than dropping out.
                logger.error("claim failed: \(error)")
                await stop.sleep(errorDelay)
                errorDelay = min(errorDelay * 2, 30)
                continue
            }
            guard let job else {
                await removeLeftoversOfFinishedJobs()
                if options.drain, (try? await queue.hasUnfinishedJobs()) == false { return }
                await stop.sleep(options.pollInterval)
                continue
            }
            await execute(job, claim: claim, stop: stop)
        }
    }

    /// Evicts least recently used tracks and pieces until the cache is within its limit.
    func pruneCache() async {
        guard let folder = options.trackCache else { return }
        // The folder's listing and sizes first (stat only); the queue is asked which clips are in use (an index
        // lookup) only when over the limit.
        guard TrackCache(folder: folder).entries(inUse: []).reduce(Int64(0), { $0 + $1.bytes }) > options.cacheMax else { return }
        do {
            let inUse = try await TrackCache.clipsInUse(queue)
            let removed = TrackCache(folder: folder).prune(to: options.cacheMax, inUse: inUse, partialGrace: options.lease)
            if !removed.isEmpty {
                logger.info("track cache over \(options.cacheMax) bytes: evicted \(removed.count) file(s), \(removed.reduce(0) { $0 + $1.bytes }) bytes")
            }
            try await TrackCache(folder: folder).forgetPieces(of: removed, in: queue)
        } catch {
            logger.warning("cannot tell which cached tracks are in use, so none is evicted: \(error)")
        }
    }

    /// Removes the staging folders of dead and cancelled jobs (whose worker died, or was stopped before it could
    /// clean up), at most every few seconds while idle.
    func removeLeftoversOfFinishedJobs() async {
        let due = lastCleanup.mutate { last -> Bool in
            guard Date().timeIntervalSince(last) >= 2 else { return false }
            last = Date()
            return true
        }
        guard due, let jobs = try? await queue.pendingCleanups(limit: 50) else { return }
        for job in jobs {
            // Checked again just before removing: a job retried meanwhile has a live attempt.
            guard let current = try? await queue.job(id: job.id), current.state == .dead || current.state == .cancelled,
                  let payload = try? job.decodedPayload() else { continue }
            let removed = StagedOutput.removeAll(jobID: job.id, output: payload.output)
            if removed > 0 { logger.info("removed \(removed) staging folder(s) of \(current.state.rawValue) job \(job.id)") }
            try? await queue.markCleaned(id: job.id)
        }
    }

    /// Checks `payload`'s paths against the output root on this machine, symlinks resolved: the output (and a
    /// segment job's folder) must lie inside it, and when the worker has a root of its own, the job's stored root
    /// must be that one.
    func confine(_ payload: JobPayload) throws {
        let stored = JobPlanner.resolvingExistingSymlinks(URL(fileURLWithPath: payload.outputRoot))
        let root: URL
        if let configured = options.outputRoot {
            root = JobPlanner.resolvingExistingSymlinks(URL(fileURLWithPath: configured))
            guard stored.path == root.path else {
                throw WorkerError.outputRootMismatch(stored: payload.outputRoot, configured: configured)
            }
        } else {
            root = stored
        }
        var paths = [payload.output]
        if let segment = payload.segment { paths.append(segment.folder) }
        for path in paths {
            let url = URL(fileURLWithPath: path)
            guard JobPlanner.isInside(url, root: URL(fileURLWithPath: payload.outputRoot)),
                  JobPlanner.isInside(JobPlanner.resolvingExistingSymlinks(url), root: root) else {
                throw WorkerError.outputOutsideRoot(output: path, root: root.path)
            }
        }
    }

    /// Runs one claimed job to an outcome that is recorded in the queue.
    func execute(_ job: JobRecord, claim: String, stop: StopSignal) async {
        var logger = self.logger
        logger[metadataKey: "job"] = "\(job.id)"
        logger.info("running job", metadata: ["kind": "\(job.kind)", "attempt": "\(job.attempts)/\(job.maxAttempts)"])

        let payload: JobPayload
        let kind: any JobKind
        do {
            guard let known = kinds[job.kind] else { throw WorkerError.unknownKind(job.kind) }
            kind = known
            payload = try job.decodedPayload()
            try confine(payload)
        } catch {
            await recordFailure(job, claim: claim, error: error, logger: logger)
            return
        }

        if let finishing = job.finishing, await finishMove(job, claim: claim, staged: finishing, output: payload.output, logger: logger) {
            return
        }

        let staged = StagedOutput(jobID: job.id, output: payload.output, claim: claim)
        do {
            try staged.prepare()
        } catch {
            await recordFailure(job, claim: claim, error: WorkerError.staging("\(error)"), logger: logger)
            return
        }

        let progress = Locked<JobProgress?>(nil)
        let metrics = self.metrics
        let pieces = self.pieces
        let observer = options.progressObserver
        let began = Date()
        metrics?.jobStarted()
        let work = Task {
            try await kind.run(payload, output: staged.file, pieces: pieces) { update in
                let previous = progress.value?.done ?? 0
                progress.value = update
                metrics?.framesDone(update.done - previous)
                observer?(job, update, Date().timeIntervalSince(began))
            }
        }
        let heartbeat = Task { () -> LeaseStatus in
            await self.heartbeatLoop(job: job, claim: claim, progress: progress, stop: stop, work: work)
        }
        let result = await work.result
        heartbeat.cancel()
        let lease = await heartbeat.value

        switch (result, lease) {
        case (.success(let outcome), .held):
            await finish(job, claim: claim, staged: staged, progress: progress.value, outcome: outcome, logger: logger)
        case (.success, _), (.failure, .cancelled), (.failure, .lost):
            staged.discard()
            stats.mutate { $0.abandoned += 1 }
            metrics?.jobEnded(.abandoned)
            logger.warning("job abandoned: \(lease == .cancelled ? "cancelled" : "lease lost")")
        case (.failure(let error), .held):
            staged.discard()
            if stop.level == .abort {
                await release(job, claim: claim, reason: "shutdown", logger: logger)
            } else if FailureClass.of(error) == .diskFull {
                let until = Date().addingTimeInterval(options.diskFullPause)
                pausedUntil.mutate { $0 = max($0, until) }
                logger.error("disk full (\(error)); job \(job.id) given back without spending an attempt; claiming nothing for \(Int(options.diskFullPause)) s")
                await release(job, claim: claim, reason: "disk full", logger: logger)
            } else {
                metrics?.jobEnded(.failed)
                await recordFailure(job, claim: claim, error: error, logger: logger)
            }
        }
    }

    /// Success in three steps, each safe to interrupt: record where the finished file waits, rename it into place,
    /// record success. After a crash between them the job's lease expires with `finishing` set, and whoever claims
    /// it next completes the move (`finishMove`) instead of running the job again.
    private func finish(_ job: JobRecord, claim: String, staged: StagedOutput, progress: JobProgress?, outcome: JobOutcome,
                        logger: Logger) async {
        do {
            // A symlink planted during the run must not redirect the rename: check the output's folder again.
            try confine(try job.decodedPayload())
            let marked = try await queue.markFinishing(id: job.id, worker: claim, staged: staged.file.path, outcome: outcome)
            guard marked == .held else {
                staged.discard()
                stats.mutate { $0.abandoned += 1 }
                metrics?.jobEnded(.abandoned)
                logger.warning("job finished but was \(marked.rawValue) meanwhile; output discarded")
                return
            }
            try staged.place()
        } catch {
            staged.discard()
            metrics?.jobEnded(.failed)
            await recordFailure(job, claim: claim, error: error, logger: logger)
            return
        }
        staged.discard()
        // The output is in place; only the record is missing. A failed COMMIT is retried a few times, then left
        // to the next claimer, which finds the output and records it.
        for attempt in 0..<5 {
            do {
                let status = try await queue.complete(id: job.id, worker: claim, progress: progress) {}
                if status == .held {
                    stats.mutate { $0.succeeded += 1 }
                    metrics?.jobEnded(.succeeded)
                    logger.info("job succeeded", metadata: ["output": "\(staged.final.path)"])
                    await pruneCache()
                } else {
                    stats.mutate { $0.abandoned += 1 }
                    metrics?.jobEnded(.abandoned)
                    logger.warning("output placed but the job was \(status.rawValue) before its success was recorded")
                }
                return
            } catch {
                logger.warning("recording success failed (\(error)); output is in place; trying again")
                try? await Task.sleep(nanoseconds: UInt64(500_000_000 * (attempt + 1)))
            }
        }
        metrics?.jobEnded(.abandoned)
        logger.error("could not record success; the job's next claimer will find its output and record it")
    }

    /// Completes the move an earlier claim began (`markFinishing`) and records success. Returns false when neither the
    /// staged file nor the output is there, and the job must run again.
    private func finishMove(_ job: JobRecord, claim: String, staged: String, output: String, logger: Logger) async -> Bool {
        let manager = FileManager.default
        if manager.fileExists(atPath: staged) {
            guard rename(staged, output) == 0 || manager.fileExists(atPath: output) else {
                await recordFailure(job, claim: claim, error: WorkerError.cannotPlaceOutput(output, String(cString: strerror(errno))),
                                    logger: logger)
                return true
            }
        } else if !manager.fileExists(atPath: output) {
            logger.warning("an earlier attempt was moving its output into place, but neither \(staged) nor \(output) exists; running again")
            return false
        }
        try? manager.removeItem(at: URL(fileURLWithPath: staged).deletingLastPathComponent())
        do {
            let status = try await queue.complete(id: job.id, worker: claim, progress: nil) {}
            if status == .held {
                stats.mutate { $0.succeeded += 1 }
                logger.info("finished the move of an earlier attempt's output; job succeeded", metadata: ["output": "\(output)"])
            }
        } catch {
            logger.error("could not record success (the next claimer will): \(error)")
        }
        return true
    }

    private func release(_ job: JobRecord, claim: String, reason: String, logger: Logger) async {
        do {
            _ = try await queue.release(id: job.id, worker: claim)
            stats.mutate { $0.released += 1 }
            metrics?.jobEnded(.released)
            logger.info("job released for another worker (\(reason))")
        } catch {
            // The lease will expire and the job will be claimed again; nothing is lost.
            metrics?.jobEnded(.abandoned)
            logger.error("could not release job: \(error)")
        }
    }

    /// Renews the lease until the job task ends; cancels the job when the lease is lost, the job is cancelled, or
    /// shutdown reaches `abort`. Returns the last lease status seen.
    private func heartbeatLoop(job: JobRecord, claim: String, progress: Locked<JobProgress?>, stop: StopSignal,
                               work: Task<JobOutcome, any Error>) async -> LeaseStatus {
        var status = LeaseStatus.held
        var lastBeat = Date()
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: 50_000_000)
            if stop.level == .abort { work.cancel() }
            guard Date().timeIntervalSince(lastBeat) >= options.effectiveHeartbeatInterval, !Task.isCancelled else { continue }
            lastBeat = Date()
            do {
                status = try await queue.heartbeat(id: job.id, worker: claim, lease: options.lease, progress: progress.value)
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

    private func recordFailure(_ job: JobRecord, claim: String, error: any Error, logger: Logger) async {
        let message = "\(error)"
        let permanent = FailureClass.of(error) == .permanent
        do {
            let state = try await queue.fail(id: job.id, worker: claim, error: message, policy: options.retry, permanent: permanent)
            stats.mutate { $0.failed += 1 }
            switch state {
            case .dead? where permanent: logger.error("job failed in a way another attempt cannot cure and is dead: \(message)")
            case .dead?: logger.error("job failed for the last time and is dead: \(message)")
            case .some: logger.warning("job failed; will retry: \(message)")
            case nil: logger.warning("job failed after its lease was lost: \(message)")
            }
        } catch {
            logger.error("could not record failure (the lease will expire and the job re-run): \(error)")
        }
    }
}
