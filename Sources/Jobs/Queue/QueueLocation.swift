import Foundation

/// Which backend a queue URL names. Parsing is separate from opening so that the CLI can validate and print a
/// redacted location before touching any database.
public enum QueueLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresQueueConfiguration)

    public static let defaultSQLitePath = "./avatarize.db"

    /// Resolves the queue from an explicit `--queue` value, else `DATABASE_URL`, else the default SQLite file.
    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> QueueLocation {
        if let explicit, !explicit.isEmpty { return try parse(explicit) }
        if let fromEnvironment = environment["DATABASE_URL"], !fromEnvironment.isEmpty { return try parse(fromEnvironment) }
        return .sqlite(path: defaultSQLitePath)
    }

    public static func parse(_ text: String) throws -> QueueLocation {
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            // Accept sqlite:///abs/path and sqlite://rel as well as the plain sqlite:PATH form.
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else { throw QueueError.invalidLocation("sqlite: needs a file path") }
            return .sqlite(path: path)
        }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            return .postgres(try PostgresQueueConfiguration(url: text))
        }
        throw QueueError.invalidLocation("unknown scheme in '\(Self.redact(text))'")
    }

    /// The location without credentials.
    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let configuration): return configuration.redactedURL
        }
    }

    /// Removes a password from anything that looks like a URL with user info, for error messages about
    /// unparseable input.
    static func redact(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://"), let at = text.range(of: "@", range: schemeEnd.upperBound..<text.endIndex) else {
            return text
        }
        let userInfo = text[schemeEnd.upperBound..<at.lowerBound]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at.lowerBound...])
    }
}
