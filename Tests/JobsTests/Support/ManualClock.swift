import Foundation
@testable import Jobs

/// A clock that moves only when a test moves it, for a `PieceMaker`'s lease reckoning.
final class ManualClock: Sendable {
    private let seconds = Locked<TimeInterval>(1000)

    var now: TimeInterval { seconds.value }

    func advance(by interval: TimeInterval) { seconds.mutate { $0 += interval } }
}

/// Runs async code to its end from a plain thread (a make running on a job's thread, as in a worker).
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    try waitFor(body).get()
}
