import Foundation

/// Exponential backoff between attempts: `base * 2^(attempt-1)`, capped. The number of attempts is per job
/// (`maxAttempts`, from the job file); the delays are the worker's, so an operator can tune them without
/// re-enqueueing.
public struct RetryPolicy: Sendable, Equatable {
    public var baseDelay: TimeInterval
    public var maxDelay: TimeInterval

    public init(baseDelay: TimeInterval = 5, maxDelay: TimeInterval = 600) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Delay before the attempt that follows failed attempt number `attempt` (1-based).
    public func delay(afterAttempt attempt: Int) -> TimeInterval {
        let exponent = Double(max(attempt, 1) - 1)
        // Clamp the exponent so that large attempt counts cannot overflow to infinity before the cap applies.
        let raw = baseDelay * pow(2, min(exponent, 60))
        return min(raw, maxDelay)
    }
}
