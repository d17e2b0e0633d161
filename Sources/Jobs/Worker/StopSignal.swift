import Foundation

/// How far a worker's shutdown has gone. Set from signal handlers, read by the worker's loops.
public final class StopSignal: @unchecked Sendable {
    public enum Level: Int, Comparable, Sendable {
        /// Keep claiming and running jobs.
        case none
        /// Claim nothing more; let running jobs finish.
        case draining
        /// Stop running jobs now and give them back to the queue.
        case abort

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private let lock = NSLock()
    private var current = Level.none

    public init() {}

    public var level: Level { lock.withLock { current } }

    /// Raises the level; shutdown never goes back.
    public func raise(to level: Level) {
        lock.withLock { current = max(current, level) }
    }

    /// Sleeps up to `seconds`, waking early once the level reaches `wakeAt`. Polling in short steps keeps this
    /// usable from any context without a continuation that a signal handler would have to resume.
    public func sleep(_ seconds: TimeInterval, wakeAt: Level = .draining) async {
        let deadline = Date().addingTimeInterval(seconds)
        while level < wakeAt, !Task.isCancelled {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return }
            try? await Task.sleep(nanoseconds: UInt64(min(left, 0.05) * 1e9))
        }
    }
}
