import Foundation

/// How a worker claims and runs jobs.
public struct WorkerOptions: Sendable {
    /// Jobs run at once in this process.
    public var concurrency: Int = 1
    /// How long a claim holds without a heartbeat; a crashed worker's jobs become claimable after this.
    public var lease: TimeInterval = 30
    /// Seconds between heartbeats; a third of the lease leaves room for two missed beats.
    public var heartbeatInterval: TimeInterval? = nil
    /// How long to wait before asking again when nothing is claimable.
    public var pollInterval: TimeInterval = 1
    public var retry = RetryPolicy()
    /// Exit once no job is queued or running anywhere (batch mode, tests).
    public var drain = false
    /// Unique name of this worker in leases and history.
    public var identity: String = WorkerOptions.defaultIdentity()
    /// The only folder this worker writes outputs into (symlinks resolved). A job enqueued for another output root
    /// is refused. nil: each job's stored root, re-resolved on this machine.
    public var outputRoot: String? = nil
    /// The folder every worker of a batch can reach (`--work-dir`: NFS; the README says what storage it needs) where jobs keep tracks and a
    /// segmented clip's pieces, made once among all workers through the queue; nil: this machine's jobs cache.
    public var workFolder: URL? = nil
    /// The track cache this worker keeps within `cacheMax` bytes (least recently used files of clips no queued or
    /// running job needs go first); nil: no limit.
    public var trackCache: URL? = nil
    public var cacheMax: Int64 = 2 << 30
    /// How long to stop claiming after a write failed for lack of disk space.
    public var diskFullPause: TimeInterval = 30
    /// Called with a running job's progress (frames done, total) and seconds since it started; for a terminal display.
    public var progressObserver: (@Sendable (_ job: JobRecord, _ progress: JobProgress, _ seconds: TimeInterval) -> Void)? = nil

    public init() {}

    public var effectiveHeartbeatInterval: TimeInterval { heartbeatInterval ?? max(lease / 3, 0.05) }

    public static func defaultIdentity() -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "\(host)-\(ProcessInfo.processInfo.processIdentifier)-\(suffix)"
    }
}
