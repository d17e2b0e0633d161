import Foundation
import Jobs

/// What the overview page shows, and what `/api/overview` serves for its live refresh.
public struct OverviewView: Codable, Sendable {
    /// A running job with its speed and the time it should finish at that speed.
    public struct Running: Codable, Sendable {
        public var job: JobView
        /// When the current attempt was claimed.
        public var since: Date?
        public var fraction: Double
        /// Progress units (frames) per second since the claim.
        public var framesPerSecond: Double?
        public var etaSeconds: Double?

        init(job: JobView, since: Date?, now: Date = Date()) {
            self.job = job; self.since = since
            fraction = job.progressTotal > 0 ? min(1, Double(job.progressDone) / Double(job.progressTotal)) : 0
            if let since, now > since, job.progressDone > 0 {
                let fps = Double(job.progressDone) / now.timeIntervalSince(since)
                framesPerSecond = fps
                etaSeconds = job.progressTotal > job.progressDone ? Double(job.progressTotal - job.progressDone) / fps : 0
            }
        }
    }

    public var status: QueueStatusView
    public var throughput: QueueThroughput
    public var workers: [WorkerSighting]
    public var failures: [JobView]
    public var running: [Running]
    public var readOnly: Bool
}
