import Logging

/// Opens the backend a `QueueLocation` names and brings its schema up to date.
public enum QueueOpener {
    public static func open(_ location: QueueLocation, migrate: Bool = true, logger: Logger = Logger(label: "avatarize.queue")) async throws -> any JobQueue {
        let queue: any JobQueue
        switch location {
        case .sqlite(let path):
            queue = try SQLiteJobQueue(path: path)
        case .postgres(let configuration):
            queue = PostgresJobQueue(configuration: configuration, logger: logger)
        }
        if migrate {
            do {
                try await queue.migrate()
            } catch {
                try? await queue.close()
                throw error
            }
        }
        return queue
    }
}
