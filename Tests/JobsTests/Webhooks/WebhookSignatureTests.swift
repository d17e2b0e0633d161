import Foundation
import XCTest
@testable import Jobs

/// The webhook signature against a value computed outside Swift (Python's hmac), and what a receiver refuses.
final class WebhookSignatureTests: XCTestCase {
    let secret = Array("whsec-test-secret".utf8)
    let body = Array(#"{"job":{"id":7,"state":"succeeded"}}"#.utf8)
    let at: Int64 = 1_765_105_200
    // python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec-test-secret", b"1765105200." + BODY, hashlib.sha256).hexdigest())'
    let expected = "e216201f8b984ec43c04699e924df1e279d05d6b2472eb34493bbbf5d5a48411"

    func testTheHeaderIsHMACSHA256OverTimestampDotBody() {
        let signature = WebhookSignature.sign(body: body, secret: secret, timestamp: at)
        XCTAssertEqual(signature.headerValue, "t=\(at),v1=\(expected)")
        XCTAssertEqual(WebhookSignature(header: "v1=\(expected.uppercased()), t=\(at), v2=whatever"), signature)
        XCTAssertTrue(WebhookSignature.verify(header: signature.headerValue, body: body, secret: secret,
                                              now: Date(timeIntervalSince1970: Double(at) + 10)))
    }

    func testATamperedSignatureBodyOrTimestampIsRefused() {
        let now = Date(timeIntervalSince1970: Double(at) + 10)
        let good = "t=\(at),v1=\(expected)"
        var flipped = Array(expected)
        flipped[10] = flipped[10] == "0" ? "1" : "0"
        for header in ["t=\(at),v1=\(String(flipped))", "t=\(at + 1),v1=\(expected)", "t=\(at)", "v1=\(expected)", "t=\(at),v1=\(expected.prefix(62))", ""] {
            XCTAssertFalse(WebhookSignature.verify(header: header, body: body, secret: secret, now: now), header)
        }
        XCTAssertFalse(WebhookSignature.verify(header: good, body: body + [0x20], secret: secret, now: now), "a changed body")
        XCTAssertFalse(WebhookSignature.verify(header: good, body: body, secret: Array("other".utf8), now: now), "another secret")
        XCTAssertFalse(WebhookSignature.verify(header: good, body: body, secret: secret, now: now.addingTimeInterval(3600)), "a replay an hour later")
    }

    func testOnlyListedHostsAreCalled() throws {
        let hosts = try WebhookHosts(list: "hooks.example.com, 127.0.0.1:9000,[::1]:8443")
        for url in ["https://hooks.example.com/a", "http://HOOKS.example.com:8080/x", "http://127.0.0.1:9000/cb", "https://[::1]:8443/"] {
            XCTAssertTrue(hosts.allows(URL(string: url)!), url)
        }
        for url in ["https://hooks.example.com.evil.tld/", "http://127.0.0.1:9001/", "http://127.0.0.1/", "ftp://hooks.example.com/",
                    "http://user:pw@hooks.example.com/", "http://169.254.169.254/latest", "https://[::1]/", "file:///etc/passwd"] {
            XCTAssertFalse(hosts.allows(URL(string: url)!), url)
        }
        XCTAssertFalse(try WebhookHosts(list: "").allows(URL(string: "http://127.0.0.1/")!), "an empty list allows nothing")
        XCTAssertThrowsError(try WebhookHosts(list: "a.example:http"))
        XCTAssertThrowsError(try WebhookHosts(list: "user@a.example"))
    }
}
