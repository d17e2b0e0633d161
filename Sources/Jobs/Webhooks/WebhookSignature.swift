import Crypto
import Foundation

/// The webhook signature: `X-Avatarize-Signature: t=UNIX_SECONDS,v1=HEX`, HEX = HMAC-SHA256(secret, "t.body").
/// The timestamp is signed with the body so that a captured delivery cannot be replayed later with a new time;
/// a receiver checks the signature in constant time and refuses a timestamp far from its own clock.
public struct WebhookSignature: Sendable, Equatable {
    public static let headerName = "X-Avatarize-Signature"
    public var timestamp: Int64
    public var hex: String

    public init(timestamp: Int64, hex: String) { self.timestamp = timestamp; self.hex = hex }

    public static func sign(body: [UInt8], secret: [UInt8], timestamp: Int64) -> WebhookSignature {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: secret))
        mac.update(data: Array("\(timestamp).".utf8))
        mac.update(data: body)
        return WebhookSignature(timestamp: timestamp, hex: Data(mac.finalize()).map { String(format: "%02x", $0) }.joined())
    }

    public var headerValue: String { "t=\(timestamp),v1=\(hex)" }

    /// Parses `t=…,v1=…` (fields in any order; unknown fields ignored, as later versions may add some).
    public init?(header: String) {
        var t: Int64?, v1: String?
        for field in header.split(separator: ",") {
            let kv = field.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { return nil }
            switch kv[0] {
            case "t": t = Int64(kv[1])
            case "v1": v1 = String(kv[1])
            default: continue
            }
        }
        guard let t, let v1, v1.count == 64, v1.allSatisfy(\.isHexDigit) else { return nil }
        self.init(timestamp: t, hex: v1.lowercased())
    }

    /// Whether `header` signs `body` with `secret`, at a time within `tolerance` seconds of `now`.
    public static func verify(header: String, body: [UInt8], secret: [UInt8], now: Date = Date(), tolerance: TimeInterval = 300) -> Bool {
        guard let claimed = WebhookSignature(header: header),
              abs(now.timeIntervalSince1970 - Double(claimed.timestamp)) <= tolerance,
              let mac = Data(hexString: claimed.hex) else { return false }
        var data = Array("\(claimed.timestamp).".utf8)
        data += body
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: data, using: SymmetricKey(data: secret))
    }
}

extension Data {
    init?(hexString: String) {
        var bytes: [UInt8] = []
        var it = hexString.makeIterator()
        while let a = it.next() {
            guard let b = it.next(), let hi = a.hexDigitValue, let lo = b.hexDigitValue else { return nil }
            bytes.append(UInt8(hi << 4 | lo))
        }
        self.init(bytes)
    }
}
