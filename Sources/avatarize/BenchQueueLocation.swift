import Foundation
import Jobs

/// The queue a benchmark runs on: the URL it was given, or a new SQLite file in a temporary folder that
/// `removeScratch` deletes afterwards.
struct BenchQueueLocation {
    let location: QueueLocation
    private let scratch: URL?

    init(_ url: String?) throws {
        if let url {
            location = try QueueLocation.parse(url)
            scratch = nil
        } else {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("avatarize-bench-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            scratch = folder
            location = .sqlite(path: folder.appendingPathComponent("queue.db").path)
        }
    }

    func removeScratch() {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}
