import Foundation

/// Logged-in browser sessions: random ids in an HttpOnly cookie, each ending after `idle` seconds without a
/// request and `absolute` seconds after sign-in whatever its use, so a stolen or forgotten cookie does not work
/// for ever. Kept in memory (forgotten when the server stops) and capped in number. Also the constant-time
/// comparison used for tokens.
public final class SessionStore: @unchecked Sendable {
    public struct Limits: Sendable {
        public var idle: TimeInterval
        public var absolute: TimeInterval
        /// Sessions kept at most; the oldest go first beyond it (sign-ins are throttled, but not for ever).
        public var maxSessions: Int
        public init(idle: TimeInterval = 30 * 60, absolute: TimeInterval = 12 * 3600, maxSessions: Int = 1000) {
            self.idle = idle; self.absolute = absolute; self.maxSessions = maxSessions
        }
    }

    public static let cookieName = "avatarize_session"
    public let limits: Limits
    private let lock = NSLock()
    private var sessions: [String: (opened: Date, lastSeen: Date)] = [:]

    public init(limits: Limits = Limits()) { self.limits = limits }

    public func open(now: Date = Date()) -> String {
        let id = Self.randomToken()
        lock.withLock {
            prune(now)
            if sessions.count >= limits.maxSessions, let oldest = sessions.min(by: { $0.value.opened < $1.value.opened })?.key {
                sessions[oldest] = nil
            }
            sessions[id] = (now, now)
        }
        return id
    }

    /// Whether `id` is a live session; a live one's idle clock restarts.
    public func validate(_ id: String, now: Date = Date()) -> Bool {
        lock.withLock {
            guard let s = sessions[id] else { return false }
            guard !expired(s, now) else { sessions[id] = nil; return false }
            sessions[id] = (s.opened, now)
            return true
        }
    }

    public func close(_ id: String) { lock.withLock { sessions[id] = nil } }

    public var count: Int { lock.withLock { sessions.count } }

    private func expired(_ s: (opened: Date, lastSeen: Date), _ now: Date) -> Bool {
        now.timeIntervalSince(s.lastSeen) >= limits.idle || now.timeIntervalSince(s.opened) >= limits.absolute
    }

    private func prune(_ now: Date) { sessions = sessions.filter { !expired($0.value, now) } }

    /// 256 random bits as hex, from the system's generator.
    static func randomToken() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%016llx", g.next() as UInt64) }.joined()
    }

    /// Equality whose time does not depend on where the strings first differ.
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) { diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0) }
        return diff == 0
    }
}
