// Threading: every loop, GEMMs included, is spread over the process's ThreadTeam (exactly `--threads`
// threads; Dispatch's concurrentPerform would use every core whatever was asked). OpenBLAS itself runs single-threaded
// (see Gemm): its own pool spins on sched_yield between calls, and on a 2-core machine those spinning
// threads took a quarter of the CPU away from the Dispatch loops that run between GEMMs.
import COpenBLAS
import Dispatch
import Foundation
import Threads

public enum Parallel {
    /// Number of worker threads (the machine's active processor count unless `configure(threads:)` set one).
    public static var workers: Int { ThreadTeam.shared.size }

    /// Sets the number of worker threads for every parallel loop and GEMM (all cores when nil).
    /// Call before work starts.
    public static func configure(threads: Int? = nil) {
        ThreadTeam.shared.resize(threads ?? ProcessInfo.processInfo.activeProcessorCount)
        Gemm.useSingleThreadedBLAS()
    }

    /// Runs `body(start, end)` over `0..<count` split into contiguous chunks, one or more per worker.
    /// Small loops (under `grain` items) run inline on the calling thread.
    public static func forChunks(_ count: Int, grain: Int = 1, _ body: (Int, Int) -> Void) {
        guard count > 0 else { return }
        let w = workers
        if w <= 1 || count < 2 * Swift.max(grain, 1) {
            body(0, count)
            return
        }
        let chunks = Swift.min(w * 4, (count + grain - 1) / Swift.max(grain, 1))
        let per = (count + chunks - 1) / chunks
        withoutActuallyEscaping(body) { escaping in
            // The body only runs during the team's loop; callers own the memory it touches.
            let box = UncheckedSendable(escaping)
            ThreadTeam.shared.run(chunks) { c in
                let s = c * per
                let e = Swift.min(count, s + per)
                if s < e { box.value(s, e) }
            }
        }
    }

    /// Runs `body(i)` for every i in `0..<count` across workers.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        forChunks(count) { s, e in for i in s..<e { body(i) } }
    }
}

/// Carries a non-Sendable value into a concurrent loop whose iterations touch disjoint memory.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

extension Parallel {
    /// Maps chunks of `0..<count` to partial results on all workers and folds them with `combine`.
    public static func reduceChunks<T>(_ count: Int, _ body: (Int, Int) -> T, combine: (T, T) -> T) -> T {
        let w = workers
        let chunks = Swift.max(1, Swift.min(count, w * 4))
        let per = (count + chunks - 1) / Swift.max(chunks, 1)
        let results = UnsafeMutablePointer<T?>.allocate(capacity: chunks)
        results.initialize(repeating: nil, count: chunks)
        defer { results.deinitialize(count: chunks); results.deallocate() }
        let slots = UncheckedSendable(results)
        forChunks(chunks) { s, e in
            for ch in s..<e {
                let a = ch * per, b = Swift.min(count, a + per)
                if a < b { slots.value[ch] = body(a, b) }
            }
        }
        var acc: T? = nil
        for ch in 0..<chunks { if let r = results[ch] { acc = acc.map { combine($0, r) } ?? r } }
        return acc!
    }
}
