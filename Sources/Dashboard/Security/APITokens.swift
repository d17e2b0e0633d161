import Foundation

/// The bearer tokens that may use the API: `--token` (named "token") and the lines of `--token-file`, one
/// `name token` pair a line (blank lines and `#` comments allowed). The file is read again whenever it changes
/// (its size, modification time or inode), so a token is added or revoked without a restart; a file that can no
/// longer be read or parsed admits nobody until it is fixed (revocation must never fail open).
public final class APITokens: @unchecked Sendable {
    public let file: String?
    private let single: String?
    private let lock = NSLock()
    private var tokens: [(name: String, token: String)] = []
    private var stamp: FileStamp?

    struct FileStamp: Equatable { var size: Int64; var modified: Int; var modifiedNanos: Int; var inode: UInt64 }

    /// Reads the file once now, so that a bad file stops the server from starting instead of locking everyone out.
    public init(file: String?, single: String?) throws {
        self.file = file; self.single = single
        if let file {
            let (parsed, stamp) = try Self.read(file)
            tokens = parsed; self.stamp = stamp
        }
    }

    /// Whether any token is configured (if not, the dashboard is loopback-only and the API cannot be written to).
    public var configured: Bool { single != nil || file != nil }

    /// The name of the token presented, or nil. Every configured token is compared, each in constant time.
    public func name(for presented: String) -> String? {
        var found: String?
        if let single, SessionStore.equal(presented, single) { found = "token" }
        for entry in current() where SessionStore.equal(presented, entry.token) { found = found ?? entry.name }
        return found
    }

    private func current() -> [(name: String, token: String)] {
        guard let file else { return [] }
        return lock.withLock {
            let now = Self.stamp(file)
            if now != stamp || now == nil {
                if let (parsed, fresh) = try? Self.read(file) { tokens = parsed; stamp = fresh } else { tokens = []; stamp = nil }
            }
            return tokens
        }
    }

    static func stamp(_ path: String) -> FileStamp? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileStamp(size: Int64(st.st_size), modified: Int(st.st_mtim.tv_sec), modifiedNanos: Int(st.st_mtim.tv_nsec), inode: UInt64(st.st_ino))
    }

    static func read(_ path: String) throws -> ([(name: String, token: String)], FileStamp?) {
        // The stamp first: a change while reading makes the next request read again rather than keep a stale copy.
        let stamp = stamp(path)
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw APITokensError.unreadable(path)
        }
        return (try parse(text, file: path), stamp)
    }

    static func parse(_ text: String, file: String) throws -> [(name: String, token: String)] {
        var out: [(name: String, token: String)] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count == 2 else { throw APITokensError.badLine(file: file, line: n + 1, reason: "expected `name token`") }
            let name = String(parts[0]), token = String(parts[1])
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                throw APITokensError.badLine(file: file, line: n + 1, reason: "a name is letters, digits, '-', '_' or '.'")
            }
            guard token.count >= 16 else { throw APITokensError.badLine(file: file, line: n + 1, reason: "the token is shorter than 16 characters") }
            guard !out.contains(where: { $0.name == name }) else { throw APITokensError.badLine(file: file, line: n + 1, reason: "\(name) is named twice") }
            out.append((name, token))
        }
        return out
    }
}

public enum APITokensError: Error, CustomStringConvertible, Equatable {
    case unreadable(String)
    case badLine(file: String, line: Int, reason: String)
    public var description: String {
        switch self {
        case .unreadable(let path): return "cannot read the token file \(path)"
        case let .badLine(file, line, reason): return "\(file):\(line): \(reason)"
        }
    }
}
