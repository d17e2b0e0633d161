import Foundation

/// Where preview pictures are decoded: a few threads of their own (FFmpeg's decoding blocks, and on Swift's
/// cooperative pool, two threads here, one page of thumbnails would stall every other request), a bounded
/// number of pictures waiting (past it a request is refused with `busy`, not queued without end), and one
/// decode per picture at a time (a second request for a picture being decoded waits for that decode).
public final class PreviewDecodeQueue: @unchecked Sendable {
    public let capacity: Int
    private let state: State

    /// `capacity`: distinct pictures decoding or waiting at most.
    public init(threads: Int = 1, capacity: Int = 16) {
        self.capacity = capacity
        state = State()
        for i in 0..<max(1, threads) {
            let thread = Thread { [state] in state.serve() }
            thread.name = "avatarize-previews-\(i)"
            thread.start()
        }
    }

    deinit { state.stop() }

    /// Pictures decoding or waiting now.
    public var inFlight: Int { state.condition.withLock { state.waiters.count } }

    /// Requests waiting on `key`'s decode, the one that started it included.
    func waiters(for key: String) -> Int { state.condition.withLock { state.waiters[key]?.count ?? 0 } }

    public func decode(key: String, _ work: @escaping @Sendable () throws -> Data?) async throws -> Data? {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Data?, Error>) in
            let refused: Bool = state.condition.withLock {
                if state.waiters[key] != nil {
                    state.waiters[key]!.append(c)
                    return false
                }
                guard state.waiters.count < capacity else { return true }
                state.waiters[key] = [c]
                state.pending.append((key, work))
                state.condition.signal()
                return false
            }
            if refused { c.resume(throwing: PreviewError.busy) }
        }
    }

    /// Kept apart from the queue object so that its threads do not keep it alive.
    final class State: @unchecked Sendable {
        let condition = NSCondition()
        var pending: [(String, @Sendable () throws -> Data?)] = []
        var waiters: [String: [CheckedContinuation<Data?, Error>]] = [:]
        var stopped = false

        func serve() {
            while true {
                condition.lock()
                while pending.isEmpty && !stopped { condition.wait() }
                if stopped { condition.unlock(); return }
                let (key, work) = pending.removeFirst()
                condition.unlock()
                let result = Result { try work() }
                let done = condition.withLock { waiters.removeValue(forKey: key) ?? [] }
                for c in done { c.resume(with: result) }
            }
        }

        func stop() {
            condition.withLock {
                stopped = true
                condition.broadcast()
            }
            // Anyone still waiting is told rather than left hanging.
            let left = condition.withLock { () -> [CheckedContinuation<Data?, Error>] in
                let all = pending.flatMap { waiters.removeValue(forKey: $0.0) ?? [] }
                pending = []
                return all
            }
            for c in left { c.resume(throwing: PreviewError.busy) }
        }
    }
}

public enum PreviewError: Error, CustomStringConvertible, Equatable {
    case busy
    case tooLarge(width: Int, height: Int, maxPixels: Int)
    public var description: String {
        switch self {
        case .busy: return "too many pictures are being made; try again shortly"
        case let .tooLarge(w, h, max): return "the video is \(w)×\(h), over the \(max)-pixel limit for previews"
        }
    }
}
