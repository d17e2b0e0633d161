import Foundation

/// Decodes ahead on its own thread: while the caller encodes (or renders) frame n, frames n+1… are being
/// decoded and converted to RGB. At most `depth` frames wait in the buffer, so memory stays bounded.
/// Errors from the reader surface at the `next()` call that reaches them, in order.
public final class FramePrefetcher: @unchecked Sendable {
    public let reader: VideoReader
    private let depth: Int
    private let cond = NSCondition()
    private var buffer: [VideoFrame] = []
    private var ended = false
    private var failure: Error?
    private var stopped = false
    private var thread: Thread?
    private var workerDone = false

    public init(reader: VideoReader, depth: Int = 3) {
        self.reader = reader
        self.depth = max(1, depth)
        let t = Thread { [unowned self] in self.produce() }
        t.name = "avatarize.decode"
        thread = t
        t.start()
    }

    deinit { stop() }

    private func produce() {
        while true {
            cond.lock()
            while buffer.count >= depth && !stopped { cond.wait() }
            if stopped { workerDone = true; cond.broadcast(); cond.unlock(); return }
            cond.unlock()
            let item: Result<VideoFrame?, Error> = Result { try reader.nextFrame() }
            cond.lock()
            switch item {
            case .success(let f?): buffer.append(f)
            case .success(nil): ended = true
            case .failure(let e): failure = e; ended = true
            }
            let finished = ended
            cond.broadcast()
            if finished { workerDone = true; cond.unlock(); return }
            cond.unlock()
        }
    }

    /// The next frame, or nil at the end of the range (or once stopped and the buffered frames are taken).
    public func next() throws -> VideoFrame? {
        cond.lock()
        defer { cond.unlock() }
        while buffer.isEmpty && !ended && !stopped { cond.wait() }
        if !buffer.isEmpty {
            let f = buffer.removeFirst()
            cond.broadcast()
            return f
        }
        if let failure { throw failure }
        return nil
    }

    /// Stops decoding and waits for the thread to let go of the reader.
    public func stop() {
        cond.lock()
        stopped = true
        cond.broadcast()
        while !workerDone && thread != nil { cond.wait() }
        cond.unlock()
    }
}
