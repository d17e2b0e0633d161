import Foundation

/// A one-way flag set from a cancellation handler and polled by synchronous pipeline code on another thread.
final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    var isSet: Bool { lock.withLock { value } }

    func set() { lock.withLock { value = true } }
}

/// Runs synchronous, CPU-bound pipeline work on a thread of its own (so it does not hold one of the
/// cooperative pool's few threads) and sets the flag it is given when the task is cancelled; the work polls
/// the flag through its progress callback.
func runOnOwnThread<T: Sendable>(named name: String, _ work: @escaping @Sendable (CancellationFlag) throws -> T) async throws -> T {
    let cancellation = CancellationFlag()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let thread = Thread {
                do {
                    continuation.resume(returning: try work(cancellation))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = name
            thread.start()
        }
    } onCancel: {
        cancellation.set()
    }
}
