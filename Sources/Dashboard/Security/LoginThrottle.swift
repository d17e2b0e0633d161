import Foundation

/// Limits wrong sign-in tokens: at most `perClient` failures from one address in a sliding `window`, and at
/// most `overall` from all addresses together (a proxy in front makes every client one address, and a guesser
/// with many addresses is still slowed). Over a limit, sign-in is refused, right token or not, until the oldest
/// counted failure leaves the window.
public final class LoginThrottle: @unchecked Sendable {
    public let perClient: Int
    public let overall: Int
    public let window: TimeInterval
    private let lock = NSLock()
    private var failures: [String: [Date]] = [:]
    private var all: [Date] = []

    public init(perClient: Int = 5, overall: Int = 50, window: TimeInterval = 60) {
        self.perClient = perClient; self.overall = overall; self.window = window
    }

    /// nil when `client` may try now, else the seconds to wait.
    public func wait(client: String, now: Date = Date()) -> TimeInterval? {
        lock.withLock {
            forgetOld(now)
            var until: Date?
            if let mine = failures[client], mine.count >= perClient { until = mine[mine.count - perClient] + window }
            if all.count >= overall { until = max(until ?? .distantPast, all[all.count - overall] + window) }
            return until.map { max(1, $0.timeIntervalSince(now).rounded(.up)) }
        }
    }

    public func recordFailure(client: String, now: Date = Date()) {
        lock.withLock {
            failures[client, default: []].append(now)
            all.append(now)
        }
    }

    /// A right token clears the client's own count (not the overall one).
    public func recordSuccess(client: String) { lock.withLock { failures[client] = nil } }

    private func forgetOld(_ now: Date) {
        let cutoff = now - window
        all.removeAll { $0 <= cutoff }
        for (k, v) in failures {
            let kept = v.filter { $0 > cutoff }
            failures[k] = kept.isEmpty ? nil : kept
        }
    }
}
