// A fixed team of threads for the numeric loops, sized by `--threads`.
//
// Dispatch's concurrentPerform spreads over as many threads as the machine has cores, whatever a user asked
// for; on a shared 16-core host `--threads 2` still used all sixteen. Here the caller plus `size - 1` helper
// threads run a loop's chunks, so one loop never runs on more than `size` threads at once.
import Foundation

public final class ThreadTeam: @unchecked Sendable {
    /// The process's team (its size is what `--threads` set, or the machine's active cores).
    public static let shared = ThreadTeam(size: ProcessInfo.processInfo.activeProcessorCount)

    /// One parallel loop in flight: chunk indices are handed out one at a time under the team's lock.
    private final class Loop {
        let count: Int
        /// Dropped when the loop ends: a helper may still hold the loop, but never the caller's closure.
        var body: ((Int) -> Void)?
        var next = 0
        var finished = 0
        init(count: Int, body: @escaping (Int) -> Void) { self.count = count; self.body = body }
    }

    private let condition = NSCondition()
    private var loops: [Loop] = []
    private var helpers = 0
    private var wantedHelpers: Int

    public init(size: Int) { wantedHelpers = max(1, size) - 1 }

    /// Threads a loop may use at once, the caller's included.
    public var size: Int {
        condition.lock(); defer { condition.unlock() }
        return wantedHelpers + 1
    }

    /// Sets how many threads loops may use from now on (at least one: the caller alone).
    public func resize(_ size: Int) {
        condition.lock()
        wantedHelpers = max(1, size) - 1
        condition.broadcast()  // helpers above the new size go to sleep; new ones start on the next loop
        condition.unlock()
    }

    /// Runs `body(i)` for every i in `0..<count`, on the caller and up to `size - 1` helpers, and returns when all
    /// have finished. The body may itself start loops: a thread that starts one works on it and then waits only
    /// for chunks already running, so nested loops never deadlock.
    public func run(_ count: Int, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        if count == 1 || size == 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let loop = Loop(count: count, body: body)
            condition.lock()
            while helpers < wantedHelpers { startHelper() }
            loops.append(loop)
            condition.broadcast()
            // The caller works on its own loop until every chunk is handed out, then waits for the others.
            while let i = take(from: loop) {
                condition.unlock()
                loop.body?(i)
                condition.lock()
                complete(loop)
            }
            while loop.finished < loop.count { condition.wait() }
            loop.body = nil
            condition.unlock()
        }
    }

    /// Hands out the loop's next chunk index (lock held); removes the loop from the queue once all are out.
    private func take(from loop: Loop) -> Int? {
        guard loop.next < loop.count else { return nil }
        let i = loop.next
        loop.next += 1
        if loop.next == loop.count { loops.removeAll { $0 === loop } }
        return i
    }

    private func complete(_ loop: Loop) {
        loop.finished += 1
        if loop.finished == loop.count { condition.broadcast() }
    }

    private func startHelper() {
        let index = helpers
        helpers += 1
        let thread = Thread { [self] in helperLoop(index) }
        thread.name = "avatarize-team-\(index + 1)"
        thread.start()
    }

    /// A helper takes chunks from the oldest loop with any left; helpers beyond the current size sleep.
    private func helperLoop(_ index: Int) {
        condition.lock()
        while true {
            guard index < wantedHelpers, let loop = loops.first, let i = take(from: loop) else {
                condition.wait()
                continue
            }
            condition.unlock()
            loop.body?(i)  // set until this chunk completes: the caller waits for it
            condition.lock()
            complete(loop)
        }
    }
}
