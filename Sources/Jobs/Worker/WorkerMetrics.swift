import Foundation
import Prometheus

/// The worker's Prometheus metrics: jobs by state across the whole queue (refreshed from the database), and this
/// worker's own outcomes and frame throughput.
public final class WorkerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let jobsByState: [JobState: Gauge]
    private let succeeded: Counter
    private let failed: Counter
    private let released: Counter
    private let frames: Counter
    private let framesPerSecond: Gauge
    private let running: Gauge
    private let window = Locked(FrameWindow())

    private struct FrameWindow: Sendable {
        var frames = 0
        var since = Date()
    }

    public init() {
        var gauges: [JobState: Gauge] = [:]
        for state in JobState.allCases {
            gauges[state] = registry.makeGauge(descriptor: Self.name("avatarize_queue_jobs", "Jobs in the queue by state (all workers)."), labels: [("state", state.rawValue)])
        }
        jobsByState = gauges
        succeeded = registry.makeCounter(descriptor: Self.name("avatarize_worker_jobs_total", "Job attempts this worker finished, by outcome."), labels: [("outcome", "succeeded")])
        failed = registry.makeCounter(descriptor: Self.name("avatarize_worker_jobs_total", "Job attempts this worker finished, by outcome."), labels: [("outcome", "failed")])
        released = registry.makeCounter(descriptor: Self.name("avatarize_worker_jobs_total", "Job attempts this worker finished, by outcome."), labels: [("outcome", "released")])
        frames = registry.makeCounter(descriptor: Self.name("avatarize_worker_frames_total", "Frames this worker has processed."))
        framesPerSecond = registry.makeGauge(descriptor: Self.name("avatarize_worker_frames_per_second", "Frames per second this worker processed since the previous refresh."))
        running = registry.makeGauge(descriptor: Self.name("avatarize_worker_running_jobs", "Jobs this worker is running now."))
    }

    /// A metric name with its help text, whole (no namespace or unit parts).
    static func name(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    func jobStarted() { running.increment() }

    func jobEnded(_ outcome: Outcome) {
        running.decrement()
        switch outcome {
        case .succeeded: succeeded.increment()
        case .failed: failed.increment()
        case .released: released.increment()
        case .abandoned: break
        }
    }

    enum Outcome { case succeeded, failed, released, abandoned }

    func framesDone(_ count: Int) {
        guard count > 0 else { return }
        frames.increment(by: Int64(count))
        window.mutate { $0.frames += count }
    }

    /// Reads the queue's counts and closes the frames-per-second window; called every few seconds.
    func refresh(from queue: any JobQueue) async {
        if let counts = try? await queue.counts() {
            for (state, gauge) in jobsByState { gauge.set(Double(counts[state] ?? 0)) }
        }
        let rate = window.mutate { window -> Double in
            let seconds = Date().timeIntervalSince(window.since)
            let rate = seconds > 0 ? Double(window.frames) / seconds : 0
            window = FrameWindow()
            return rate
        }
        framesPerSecond.set(rate)
    }

    /// The text exposition format Prometheus scrapes.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}
