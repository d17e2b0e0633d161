import XCTest
@testable import Dashboard

final class SessionCookieTests: XCTestCase {
    func testTheCookieCarriesItsLifetimeAndIsKeptFromScriptsAndOtherSites() {
        XCTAssertEqual(SessionCookie(value: "abc", maxAge: 43200, secure: false).headerValue,
                       "avatarize_session=abc; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict")
        XCTAssertEqual(SessionCookie(value: "abc", maxAge: 60, secure: true).headerValue,
                       "avatarize_session=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure")
        XCTAssertEqual(SessionCookie.removal(secure: false).headerValue,
                       "avatarize_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict")
    }
}
