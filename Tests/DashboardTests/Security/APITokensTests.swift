import XCTest
@testable import Dashboard

/// The token file: `name token` lines, read again when it changes, and never failing open.
final class APITokensTests: XCTestCase {
    func testTokensAreNamedAndTheFileIsReadAgainWhenItChanges() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try "# who token\n\nci 0123456789abcdef0\nops\tfedcba98765432100\n".write(to: file, atomically: true, encoding: .utf8)
        let tokens = try APITokens(file: file.path, single: "single-token-value")
        XCTAssertEqual(tokens.name(for: "0123456789abcdef0"), "ci")
        XCTAssertEqual(tokens.name(for: "fedcba98765432100"), "ops")
        XCTAssertEqual(tokens.name(for: "single-token-value"), "token")
        XCTAssertNil(tokens.name(for: "0123456789abcdef"), "a prefix is not the token")
        try "ops fedcba98765432100\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertNil(tokens.name(for: "0123456789abcdef0"), "revoked without a restart")
        XCTAssertEqual(tokens.name(for: "fedcba98765432100"), "ops")
        try "ops fedcba98765432100 extra\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertNil(tokens.name(for: "fedcba98765432100"), "a broken file admits nobody")
        try FileManager.default.removeItem(at: file)
        XCTAssertNil(tokens.name(for: "fedcba98765432100"), "nor does a missing one")
        XCTAssertEqual(tokens.name(for: "single-token-value"), "token")
    }

    func testABadFileStopsTheStart() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        for (text, line) in [("ci short\n", 1), ("ci 0123456789abcdef0\nci 0123456789abcdef1\n", 2), ("a b c\n", 1), ("bad/name 0123456789abcdef0\n", 1)] {
            try text.write(to: file, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try APITokens(file: file.path, single: nil)) { error in
                guard case let APITokensError.badLine(_, found, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(found, line, text)
            }
        }
        XCTAssertThrowsError(try APITokens(file: file.path + "-missing", single: nil))
    }
}
