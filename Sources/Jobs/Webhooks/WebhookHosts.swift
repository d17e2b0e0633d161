import Foundation

/// The hosts webhooks may be sent to (`--webhook-hosts H,…`): a callback URL is called only if it is http or https,
/// carries no user name or password, and its host is one of these exactly (any case); an entry with a port allows
/// that port only. Nothing is allowed when the list is empty: a job's author must not be able to make the workers
/// call any address they can reach (cloud metadata services, the database's port).
public struct WebhookHosts: Sendable, Equatable {
    public struct Entry: Sendable, Equatable { public var host: String; public var port: Int? }
    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    /// `hooks.example.com,127.0.0.1:9000,[::1]:8443`.
    public init(list: String) throws {
        entries = try list.split(separator: ",").map { raw in
            let item = raw.trimmingCharacters(in: .whitespaces).lowercased()
            var host = Substring(item), port: Int?
            if item.hasPrefix("["), let close = item.firstIndex(of: "]") {
                host = item[item.index(after: item.startIndex)..<close]
                let rest = item[item.index(after: close)...]
                if !rest.isEmpty {
                    guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()), (1...65535).contains(p) else { throw WebhookHostsError.bad(String(raw)) }
                    port = p
                }
            } else if let colon = item.lastIndex(of: ":") {
                guard let p = Int(item[item.index(after: colon)...]), (1...65535).contains(p) else { throw WebhookHostsError.bad(String(raw)) }
                host = item[..<colon]; port = p
            }
            guard !host.isEmpty, !host.contains("/"), !host.contains("@") else { throw WebhookHostsError.bad(String(raw)) }
            return Entry(host: String(host), port: port)
        }
    }

    public func allows(_ url: URL) -> Bool {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.user == nil, url.password == nil, let host = url.host?.lowercased() else { return false }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        return entries.contains { $0.host == bare && ($0.port == nil || $0.port == port) }
    }
}

public enum WebhookHostsError: Error, CustomStringConvertible, Equatable {
    case bad(String)
    public var description: String {
        switch self { case .bad(let entry): return "'\(entry)' is not a host or host:port for --webhook-hosts" }
    }
}
