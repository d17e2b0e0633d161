import Foundation

/// The end of the frame loop run on its own thread, behind the networks: while the generator renders frame
/// n+1, frame n is composited, observed (identity figure, report) and encoded to video. Work runs in the
/// order it was submitted; at most `depth` items wait, so memory stays bounded and a slow encoder holds the
/// renderer back instead of piling frames up. The first error surfaces at the next `submit` or at `finish`,
/// and nothing submitted after it runs. With `depth` 0 there is no thread: `submit` runs the item at once
/// (frames not in flight, to measure what the overlap gains).
final class BehindStage: @unchecked Sendable {
    private let depth: Int
    private let cond = NSCondition()
    private var pending: [() throws -> Void] = []
    private var failure: Error?
    private var closed = false
    private var workerDone = false

    init(name: String, depth: Int = 2) {
        self.depth = max(0, depth)
        guard depth > 0 else { workerDone = true; return }
        let thread = Thread { [unowned self] in self.work() }
        thread.name = name
        thread.start()
    }

    deinit { cancel() }

    private func work() {
        cond.lock()
        while true {
            while pending.isEmpty && !closed && failure == nil { cond.wait() }
            if pending.isEmpty || failure != nil { break }
            let item = pending.removeFirst()
            cond.broadcast()
            cond.unlock()
            let result = Result { try item() }
            cond.lock()
            if case .failure(let error) = result {
                failure = error
                pending.removeAll()
            }
            cond.broadcast()
        }
        workerDone = true
        cond.broadcast()
        cond.unlock()
    }

    /// Queues `item`; waits while `depth` items are already waiting. Throws the error an earlier item threw.
    func submit(_ item: @escaping () throws -> Void) throws {
        if depth == 0 {
            if let failure { throw failure }
            precondition(!closed, "BehindStage used after finish or cancel")
            do { try item() } catch { failure = error; throw error }
            return
        }
        cond.lock()
        defer { cond.unlock() }
        while pending.count >= depth && failure == nil && !closed { cond.wait() }
        if let failure { throw failure }
        precondition(!closed, "BehindStage used after finish or cancel")
        pending.append(item)
        cond.broadcast()
    }

    /// Waits until every queued item has run; throws the first error one threw.
    func finish() throws {
        cond.lock()
        defer { cond.unlock() }
        closed = true
        cond.broadcast()
        while !workerDone { cond.wait() }
        if let failure { throw failure }
    }

    /// Drops what waits, lets the item in progress end, and stops the thread.
    func cancel() {
        cond.lock()
        defer { cond.unlock() }
        pending.removeAll()
        closed = true
        cond.broadcast()
        while !workerDone { cond.wait() }
    }
}
