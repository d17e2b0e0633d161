import XCTest
@testable import Dashboard

/// The DNS-rebinding guard: only literal loopback addresses, parsed, or exactly `localhost` pass.
final class LoopbackHostTests: XCTestCase {
    func testLiteralLoopbackHostHeadersPassWithOrWithoutAPort() {
        for host in ["127.0.0.1", "127.0.0.1:8080", "127.255.3.4:1", "localhost", "localhost:80", "LOCALHOST:8080",
                     "[::1]", "[::1]:8080", "[0:0:0:0:0:0:0:1]:9"] {
            XCTAssertTrue(LoopbackHost.isLoopbackHostHeader(host), host)
        }
    }

    func testNamesThatOnlyStartLikeLoopbackAreRefused() {
        for host in ["127.0.0.1.attacker.tld", "127.0.0.1.attacker.tld:8080", "127.evil.com", "127.evil.com:80",
                     "localhost.evil.com", "localhost.", "evil-localhost", "[::1].evil.com", "[::1]evil", "[::1]:80x",
                     "::1", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:80:80", "128.0.0.1", "0.0.0.0", "[::]", "[::2]:80",
                     "[::ffff:8.8.8.8]", "evil.example:80", "", "127.1", " 127.0.0.1", "127.0.0.1 "] {
            XCTAssertFalse(LoopbackHost.isLoopbackHostHeader(host), host)
        }
    }

    func testBindAddressesNeedATokenUnlessLiteralLoopback() {
        for host in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"] {
            XCTAssertTrue(LoopbackHost.isLoopbackAddress(host), host)
            XCTAssertTrue(DashboardApp.isLoopback(host), host)
        }
        for host in ["127.example.com", "127.0.0.1.attacker.tld", "0.0.0.0", "::", "192.168.1.2", "localhost.localdomain"] {
            XCTAssertFalse(LoopbackHost.isLoopbackAddress(host), host)
            XCTAssertFalse(DashboardApp.isLoopback(host), host)
        }
    }
}
