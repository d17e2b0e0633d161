import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which names the dashboard answers without a token. A name counts as loopback only if it is a literal address
/// that parses as IPv4 127/8 or IPv6 ::1, or is exactly `localhost`. A prefix test is not enough: with it
/// `127.0.0.1.attacker.tld` passes, and a page on that name, rebound by DNS to 127.0.0.1, would be same-origin
/// with the dashboard.
public enum LoopbackHost {
    /// A bind address such as `--host`: a name or literal without a port (IPv6 with or without brackets).
    public static func isLoopbackAddress(_ host: String) -> Bool {
        var h = Substring(host)
        if h.hasPrefix("["), h.hasSuffix("]") { h = h.dropFirst().dropLast() }
        return isLoopbackLiteral(h)
    }

    /// A `Host` header's value: a name or IPv4 literal, or an IPv6 literal in brackets, each with an optional
    /// `:port`. Anything malformed (two colons outside brackets, a non-numeric port) is not loopback.
    public static func isLoopbackHostHeader(_ value: String) -> Bool {
        let v = Substring(value)
        if v.hasPrefix("[") {
            guard let close = v.firstIndex(of: "]") else { return false }
            let address = v[v.index(after: v.startIndex)..<close]
            guard isPort(v[v.index(after: close)...]) else { return false }
            return isIPv6Loopback(address)
        }
        let pieces = v.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard pieces.count == 1 || isPort(":" + pieces[1]) else { return false }
        // A bare IPv6 literal is not a valid Host; only names and IPv4 literals come without brackets.
        return pieces[0].lowercased() == "localhost" || isIPv4Loopback(pieces[0])
    }

    static func isLoopbackLiteral(_ h: Substring) -> Bool {
        h.lowercased() == "localhost" || isIPv4Loopback(h) || isIPv6Loopback(h)
    }

    /// Empty, or `:` followed by a port number.
    static func isPort(_ s: Substring) -> Bool {
        if s.isEmpty { return true }
        guard s.first == ":" else { return false }
        let digits = s.dropFirst()
        return !digits.isEmpty && digits.count <= 5 && digits.allSatisfy { $0.isASCII && $0.isNumber } && Int(digits)! <= 65535
    }

    static func isIPv4Loopback(_ s: Substring) -> Bool {
        var address = in_addr()
        guard inet_pton(AF_INET, String(s), &address) == 1 else { return false }
        // s_addr is in network byte order: its first byte is the first octet.
        return withUnsafeBytes(of: &address) { $0[0] } == 127
    }

    static func isIPv6Loopback(_ s: Substring) -> Bool {
        var address = in6_addr()
        guard inet_pton(AF_INET6, String(s), &address) == 1 else { return false }
        return withUnsafeBytes(of: &address) { bytes in bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1 }
    }
}
