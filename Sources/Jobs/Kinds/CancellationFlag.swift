import Foundation

/// A one-way flag set from a cancellation handler and polled by synchronous pipeline code on another thread.
final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    var isSet: Bool { lock.withLock { value } }

    func set() { lock.withLock { value = true } }
}
