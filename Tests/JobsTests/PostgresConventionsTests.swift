import Foundation
import TestSupport
import XCTest
@testable import Jobs

/// The password and TLS settings come from where libpq users keep them, so no password needs to be on a command line.
final class PostgresConventionsTests: XCTestCase {
    func testPasswordFromPGPASSWORDThenPgpass() throws {
        let home = try TemporaryDirectory("pghome")
        let url = "postgres://render@db.example:6543/jobs"
        let none = try PostgresQueueConfiguration(url: url, environment: [:], home: home.path)
        XCTAssertNil(none.password)
        let fromEnvironment = try PostgresQueueConfiguration(url: url, environment: ["PGPASSWORD": "env-secret"], home: home.path)
        XCTAssertEqual(fromEnvironment.password, "env-secret")
        XCTAssertEqual(fromEnvironment.passwordSource, "PGPASSWORD")
        XCTAssertFalse(fromEnvironment.description.contains("env-secret"))

        let pgpass = try home.write(".pgpass", """
            # host:port:database:user:password
            other.example:6543:jobs:render:wrong-host
            db.example:6543:jobs:render:pa\\:ss
            *:*:*:*:fallback
            """)
        chmod(pgpass.path, 0o600)
        let fromFile = try PostgresQueueConfiguration(url: url, environment: [:], home: home.path)
        XCTAssertEqual(fromFile.password, "pa:ss", "the first matching line, with \\: as a colon")
        XCTAssertEqual(fromFile.passwordSource, "\(pgpass.path) line 3")
        let wildcard = try PostgresQueueConfiguration(url: "postgres://someone@else.example/db", environment: [:], home: home.path)
        XCTAssertEqual(wildcard.password, "fallback")
        // The URL and PGPASSWORD win over the file, as in libpq.
        XCTAssertEqual(try PostgresQueueConfiguration(url: "postgres://render:inline@db.example:6543/jobs", environment: [:], home: home.path).password,
                       "inline")
        // A file others can read is ignored.
        chmod(pgpass.path, 0o644)
        XCTAssertNil(try PostgresQueueConfiguration(url: url, environment: [:], home: home.path).password)
        // PGPASSFILE names another file.
        let other = try home.write("elsewhere/pass", "*:*:*:render:from-pgpassfile\n")
        chmod(other.path, 0o600)
        XCTAssertEqual(try PostgresQueueConfiguration(url: url, environment: ["PGPASSFILE": other.path], home: home.path).password,
                       "from-pgpassfile")
    }

    func testSSLModesAndRootCertificateAsLibpqMeansThem() throws {
        let home = try TemporaryDirectory("pgtls")
        let certificate = try home.write("ca.pem", "not parsed until connecting")
        let plain = try PostgresQueueConfiguration(url: "postgres://u@h/d", environment: [:], home: home.path)
        XCTAssertEqual(plain.tls, .prefer)
        XCTAssertTrue("\(PostgresJobQueue.tlsConfiguration(plain).certificateVerification)".hasPrefix("none"), "prefer encrypts without checking")
        let full = try PostgresQueueConfiguration(url: "postgres://u@h/d?sslmode=verify-full&sslrootcert=\(certificate.path)",
                                                  environment: [:], home: home.path)
        XCTAssertEqual(full.tls, .verifyFull)
        XCTAssertEqual(full.rootCertificate, certificate.path)
        XCTAssertEqual("\(PostgresJobQueue.tlsConfiguration(full).certificateVerification)", "fullVerification")
        let requireWithRoot = try PostgresQueueConfiguration(url: "postgres://u@h/d?sslmode=require", 
                                                             environment: ["PGSSLROOTCERT": certificate.path], home: home.path)
        XCTAssertEqual(requireWithRoot.tls, .verifyCA, "require with a root certificate checks the chain")
        XCTAssertEqual("\(PostgresJobQueue.tlsConfiguration(requireWithRoot).certificateVerification)", "noHostnameVerification")
        XCTAssertThrowsError(try PostgresQueueConfiguration(url: "postgres://u@h/d?sslrootcert=/no/such.pem", environment: [:], home: home.path)) {
            XCTAssertTrue("\($0)".contains("/no/such.pem"), "\($0)")
        }
    }

    func testConnectionErrorNamesWhereAndWhatToCheck() async throws {
        // A port nobody listens on.
        let url = "postgres://render:secret-\(UUID().uuidString.prefix(6))@127.0.0.1:\(try PostgresCluster.freePort())/jobs?sslmode=disable"
        do {
            _ = try await QueueOpener.open(try QueueLocation.parse(url))
            XCTFail("nothing listens there")
        } catch {
            let text = "\(error)"
            XCTAssertTrue(text.contains("127.0.0.1 port"), text)
            XCTAssertTrue(text.contains("database 'jobs'"), text)
            XCTAssertTrue(text.contains("Check that the server runs"), text)
            XCTAssertFalse(text.contains("secret-"), text)
        }
    }
}
