import Foundation

/// One HTTP request as the dashboard sees it: the server gathers the head and the whole (small, capped) body.
public struct DashboardRequest: Sendable {
    public var method: String
    /// The path without the query string, percent-decoded.
    public var path: String
    public var query: [String: String]
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// The peer's IP address (sign-in attempts are counted by it).
    public var remoteAddress: String?

    public init(method: String, uri: String, headers: [(String, String)], body: [UInt8], remoteAddress: String? = nil) {
        self.remoteAddress = remoteAddress
        self.method = method
        self.headers = headers
        self.body = body
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = String(parts.first ?? "/").removingPercentEncoding ?? String(parts.first ?? "/")
        query = parts.count > 1 ? Self.form(String(parts[1])) : [:]
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }

    public var cookies: [String: String] {
        guard let raw = header("Cookie") else { return [:] }
        var out: [String: String] = [:]
        for pair in raw.split(separator: ";") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { out[kv[0].trimmingCharacters(in: .whitespaces)] = kv[1].trimmingCharacters(in: .whitespaces) }
        }
        return out
    }

    /// An `application/x-www-form-urlencoded` body.
    public var formFields: [String: String] { Self.form(String(decoding: body, as: UTF8.self)) }

    static func form(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            out[decode(kv[0])] = kv.count > 1 ? decode(kv[1]) : ""
        }
        return out
    }
}

public struct DashboardResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int = 200, contentType: String, body: [UInt8], headers: [(String, String)] = []) {
        self.status = status
        self.headers = [("Content-Type", contentType)] + headers
        self.body = body
    }

    public static func html(_ text: String, status: Int = 200) -> DashboardResponse {
        DashboardResponse(status: status, contentType: "text/html; charset=utf-8", body: Array(text.utf8))
    }

    public static func json(_ data: Data, status: Int = 200) -> DashboardResponse {
        DashboardResponse(status: status, contentType: "application/json; charset=utf-8", body: Array(data))
    }

    public static func text(_ text: String, status: Int) -> DashboardResponse {
        DashboardResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }

    public static func redirect(_ location: String, headers: [(String, String)] = []) -> DashboardResponse {
        DashboardResponse(status: 303, contentType: "text/plain", body: [], headers: [("Location", location)] + headers)
    }
}
