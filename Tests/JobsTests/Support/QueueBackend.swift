import Foundation
import TestSupport
@testable import Jobs

/// One of the two queue backends, able to hand out a fresh, empty queue per test.
protocol QueueBackend: Sendable {
    var name: String { get }
    /// A queue URL nobody else uses (a new SQLite file, or a new PostgreSQL database).
    func makeQueueURL(in directory: TemporaryDirectory) throws -> String
    /// Anything that must never appear in logs or output (the PostgreSQL password).
    var secrets: [String] { get }
}

struct SQLiteBackend: QueueBackend {
    let name = "sqlite"
    func makeQueueURL(in directory: TemporaryDirectory) throws -> String { "sqlite:\(directory.path)/queue.db" }
    var secrets: [String] { [] }
}

struct PostgresBackend: QueueBackend {
    let name = "postgres"
    let cluster: PostgresCluster
    func makeQueueURL(in directory: TemporaryDirectory) throws -> String { cluster.url(database: try cluster.createDatabase()) }
    var secrets: [String] { [cluster.password] }
}

extension QueueBackend {
    func openQueue(_ url: String) async throws -> any JobQueue {
        try await QueueOpener.open(try QueueLocation.parse(url))
    }
}
