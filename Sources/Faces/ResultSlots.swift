import Foundation

/// Fixed slots that concurrent workers fill by index (under a lock), so parallel loops keep a
/// deterministic output order.
final class ResultSlots<T>: @unchecked Sendable {
    private var storage: [T]
    private let lock = NSLock()

    init(count: Int, empty: T) { storage = [T](repeating: empty, count: count) }

    func set(_ i: Int, _ v: T) {
        lock.lock()
        storage[i] = v
        lock.unlock()
    }

    var values: [T] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}
