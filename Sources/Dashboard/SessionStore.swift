import Foundation

/// Logged-in browser sessions (random ids in an HttpOnly cookie, forgotten when the server stops) and the
/// constant-time comparison used for tokens.
final class SessionStore: @unchecked Sendable {
    static let cookieName = "avatarize_session"
    private let lock = NSLock()
    private var sessions: Set<String> = []

    func open() -> String {
        let id = Self.randomToken()
        lock.withLock { _ = sessions.insert(id) }
        return id
    }

    func contains(_ id: String) -> Bool { lock.withLock { sessions.contains(id) } }

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
