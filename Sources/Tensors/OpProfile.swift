// Optional per-operation timing for the bench commands: wraps a top-level operation and adds its wall
// time to a named total. Off unless enabled, so the hot path pays one branch.
import Foundation

public enum OpProfile {
    nonisolated(unsafe) public static var enabled = false
    nonisolated(unsafe) private static var totals: [String: (seconds: Double, calls: Int)] = [:]
    private static let lock = NSLock()

    /// Runs `body`, charging its wall time to `name` when profiling is on.
    @inline(__always)
    public static func measure<T>(_ name: @autoclosure () -> String, _ body: () throws -> T) rethrows -> T {
        guard enabled else { return try body() }
        let t = Clock.now()
        let r = try body()
        let dt = Clock.now() - t
        let key = name()
        lock.lock()
        let old = totals[key] ?? (0, 0)
        totals[key] = (old.seconds + dt, old.calls + 1)
        lock.unlock()
        return r
    }

    /// The totals so far, largest first, and clears them.
    public static func drain() -> [(name: String, seconds: Double, calls: Int)] {
        lock.lock()
        defer { totals = [:]; lock.unlock() }
        return totals.map { ($0.key, $0.value.seconds, $0.value.calls) }.sorted { $0.seconds > $1.seconds }
    }
}
