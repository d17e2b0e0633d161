import Foundation

/// A parsed `postgres://USER[:PASSWORD]@HOST:PORT/DATABASE?sslmode=…&sslrootcert=…&host=/socket/dir` URL. The
/// password is kept for connecting only: `description` and `redactedURL` never include it. As with libpq, the
/// password need not be in the URL (and so on a command line): `PGPASSWORD`, else the first matching line of
/// `PGPASSFILE` or `~/.pgpass` (`host:port:database:user:password`, `*` matching anything; ignored unless only its
/// owner can read it). `sslmode` and `sslrootcert` (also from `PGSSLMODE` / `PGSSLROOTCERT`) mean what libpq
/// means by them: `prefer`/`require` encrypt without checking the certificate (`require` checks the chain when a
/// root certificate is given), `verify-ca` checks the chain, `verify-full` the chain and the host name.
public struct PostgresQueueConfiguration: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, Equatable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    /// A directory holding the server's socket (libpq's `host=/dir` form); used instead of TCP when set.
    public var socketDirectory: String?
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// Root certificate(s) to check the server's chain against (PEM file); nil: the system's roots.
    public var rootCertificate: String? = nil
    /// Where the password came from, for error messages ("the URL", "PGPASSWORD", "~/.pgpass line 3"); nil: none.
    public var passwordSource: String? = nil

    public init(host: String, port: Int, socketDirectory: String?, username: String, password: String?, database: String, tls: TLSMode) {
        self.host = host
        self.port = port
        self.socketDirectory = socketDirectory
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                home: String = NSHomeDirectory()) throws {
        guard let components = URLComponents(string: text) else {
            throw QueueError.invalidLocation("cannot parse '\(QueueLocation.redact(text))'")
        }
        var socketDirectory: String?
        var sslmode = environment["PGSSLMODE"].flatMap { $0.isEmpty ? nil : $0 } ?? "prefer"
        var rootCertificate = environment["PGSSLROOTCERT"].flatMap { $0.isEmpty ? nil : $0 }
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                sslmode = item.value ?? ""
            case "sslrootcert":
                rootCertificate = item.value
            case "host":
                socketDirectory = item.value
            case "application_name", "connect_timeout":
                continue
            default:
                throw QueueError.unsupportedOption("\(item.name) in the PostgreSQL URL")
            }
        }
        var tls: TLSMode
        switch sslmode {
        case "disable": tls = .disable
        case "allow", "prefer": tls = .prefer
        case "require": tls = .require
        case "verify-ca": tls = .verifyCA
        case "verify-full": tls = .verifyFull
        default: throw QueueError.unsupportedOption("sslmode=\(sslmode)")
        }
        // libpq: "system" means the system's roots; without sslrootcert, ~/.postgresql/root.crt when it exists.
        if rootCertificate == "system" {
            rootCertificate = nil
        } else if rootCertificate == nil, tls == .verifyCA || tls == .verifyFull {
            let standard = (home as NSString).appendingPathComponent(".postgresql/root.crt")
            if FileManager.default.fileExists(atPath: standard) { rootCertificate = standard }
        }
        if let rootCertificate, !FileManager.default.fileExists(atPath: rootCertificate) {
            throw QueueError.invalidLocation("sslrootcert \(rootCertificate): no such file")
        }
        // As libpq: require with a root certificate given checks the chain.
        if tls == .require, rootCertificate != nil { tls = .verifyCA }
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
        self.rootCertificate = socketDirectory == nil ? rootCertificate : nil
        if password != nil {
            passwordSource = "the URL"
        } else if let fromEnvironment = environment["PGPASSWORD"], !fromEnvironment.isEmpty {
            password = fromEnvironment
            passwordSource = "PGPASSWORD"
        } else {
            let file = environment["PGPASSFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? (home as NSString).appendingPathComponent(".pgpass")
            if let (found, line) = Self.passwordFromFile(file, host: socketDirectory ?? self.host, port: port, database: self.database,
                                                         user: username) {
                password = found
                passwordSource = "\(file) line \(line)"
            }
        }
    }

    /// The first line of a libpq password file matching these settings. Like libpq, a file that others can read
    /// is ignored, and `\:` / `\\` escape a colon or backslash inside a field.
    static func passwordFromFile(_ path: String, host: String, port: Int, database: String, user: String) -> (String, Int)? {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & 0o077 == 0,
              let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let wanted = [host, "\(port)", database, user]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("#") || line.isEmpty { continue }
            var fields: [String] = []
            var field = ""
            var escaped = false
            for character in line {
                if escaped { field.append(character); escaped = false }
                else if character == "\\" { escaped = true }
                else if character == ":" && fields.count < 4 { fields.append(field); field = "" }
                else { field.append(character) }
            }
            fields.append(field)
            guard fields.count == 5 else { continue }
            let matches = zip(fields.prefix(4), wanted).allSatisfy { pattern, value in
                pattern == "*" || pattern == value || (pattern == "localhost" && value.hasPrefix("/"))
            }
            if matches { return (fields[4], index + 1) }
        }
        return nil
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
