import XCTest
@testable import Jobs

/// Queue URLs: backend choice, defaults, and that passwords never reach printable text.
final class QueueLocationTests: XCTestCase {
    func testDefaultsAndEnvironment() throws {
        XCTAssertEqual(try QueueLocation.resolve(explicit: nil, environment: [:]), .sqlite(path: "./avatarize.db"))
        XCTAssertEqual(try QueueLocation.resolve(explicit: "sqlite:/var/q.db", environment: ["DATABASE_URL": "postgres://u@h/d"]),
                       .sqlite(path: "/var/q.db"))
        guard case .postgres(let configuration) = try QueueLocation.resolve(explicit: nil, environment: ["DATABASE_URL": "postgres://u@h/d"]) else {
            return XCTFail("DATABASE_URL must select PostgreSQL")
        }
        XCTAssertEqual(configuration.host, "h")
        XCTAssertEqual(configuration.database, "d")
    }

    func testPostgresURLParsingAndRedaction() throws {
        let configuration = try PostgresQueueConfiguration(url: "postgresql://worker:s%40cret@db.example:6543/render?sslmode=require")
        XCTAssertEqual(configuration.username, "worker")
        XCTAssertEqual(configuration.password, "s@cret")
        XCTAssertEqual(configuration.port, 6543)
        XCTAssertEqual(configuration.database, "render")
        XCTAssertEqual(configuration.tls, .require)
        XCTAssertEqual(configuration.description, "postgres://worker:***@db.example:6543/render")
        XCTAssertFalse(QueueLocation.postgres(configuration).description.contains("cret"))

        let socket = try PostgresQueueConfiguration(url: "postgres://me@/jobs?host=/run/postgresql")
        XCTAssertEqual(socket.socketPath, "/run/postgresql/.s.PGSQL.5432")
        XCTAssertEqual(socket.tls, .disable)
    }

    func testBadURLsAreRejectedWithoutEchoingPasswords() {
        XCTAssertThrowsError(try QueueLocation.parse("mysql://root:hunter2@host/db")) { error in
            XCTAssertFalse("\(error)".contains("hunter2"), "\(error)")
        }
        XCTAssertThrowsError(try QueueLocation.parse("postgres://host/db")) { error in
            XCTAssertTrue("\(error)".contains("user name"), "\(error)")
        }
        XCTAssertThrowsError(try QueueLocation.parse("postgres://u@h/d?sslmode=sometimes"))
        XCTAssertThrowsError(try QueueLocation.parse("sqlite:"))
    }

    func testRetryDelaysDoubleUpToTheCap() {
        let policy = RetryPolicy(baseDelay: 2, maxDelay: 10)
        XCTAssertEqual((1...5).map(policy.delay(afterAttempt:)), [2, 4, 8, 10, 10])
        XCTAssertEqual(policy.delay(afterAttempt: 10_000), 10)
    }
}
