import Foundation

/// A parsed `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=…&host=/socket/dir` URL. The password is kept
/// for connecting only: `description` and `redactedURL` never include it.
public struct PostgresQueueConfiguration: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, Equatable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    /// A directory holding the server's socket (libpq's `host=/dir` form); used instead of TCP when set.
    public var socketDirectory: String?
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    public init(host: String, port: Int, socketDirectory: String?, username: String, password: String?, database: String, tls: TLSMode) {
        self.host = host
        self.port = port
        self.socketDirectory = socketDirectory
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    public init(url text: String) throws {
        guard let components = URLComponents(string: text) else {
            throw QueueError.invalidLocation("cannot parse '\(QueueLocation.redact(text))'")
        }
        var socketDirectory: String?
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value ?? "" {
                case "disable": tls = .disable
                case "allow", "prefer": tls = .prefer
                case "require", "verify-ca", "verify-full": tls = .require
                default: throw QueueError.unsupportedOption("sslmode=\(item.value ?? "")")
                }
            case "host":
                socketDirectory = item.value
            case "application_name", "connect_timeout":
                continue
            default:
                throw QueueError.unsupportedOption("\(item.name) in the PostgreSQL URL")
            }
        }
        guard let user = components.user, !user.isEmpty else {
            throw QueueError.invalidLocation("the PostgreSQL URL needs a user name (postgres://USER@HOST/DB)")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.init(
            host: components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost",
            port: components.port ?? 5432,
            socketDirectory: socketDirectory,
            username: user.removingPercentEncoding ?? user,
            password: components.password.map { $0.removingPercentEncoding ?? $0 },
            database: database.isEmpty ? user : database,
            tls: socketDirectory == nil ? tls : .disable
        )
    }

    /// The socket file inside `socketDirectory`, named the way PostgreSQL names it.
    public var socketPath: String? {
        socketDirectory.map { "\($0)/.s.PGSQL.\(port)" }
    }

    public var redactedURL: String {
        var text = "postgres://\(username)"
        if password != nil { text += ":***" }
        text += "@\(host):\(port)/\(database)"
        if let socketDirectory { text += "?host=\(socketDirectory)" }
        return text
    }

    public var description: String { redactedURL }
}
