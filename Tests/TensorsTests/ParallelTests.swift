import Foundation
import XCTest
@testable import Tensors

final class ParallelTests: XCTestCase {
    override func tearDown() { Parallel.configure() }

    /// `--threads N` is the number of threads a parallel loop uses: three on a machine with two cores (the chunks
    /// sleep, so they need no core), one when asked for one.
    func testLoopsUseTheConfiguredThreads() {
        for threads in [3, 1, 2] {
            Parallel.configure(threads: threads)
            XCTAssertEqual(Parallel.workers, threads)
            let lock = NSLock()
            var active = 0, mostAtOnce = 0
            var seen: Set<ObjectIdentifier> = []
            Parallel.forChunks(threads * 40) { s, e in
                for _ in s..<e {
                    lock.withLock { active += 1; mostAtOnce = max(mostAtOnce, active); seen.insert(ObjectIdentifier(Thread.current)) }
                    usleep(3_000)
                    lock.withLock { active -= 1 }
                }
            }
            XCTAssertEqual(mostAtOnce, threads, "threads: \(threads)")
            XCTAssertEqual(seen.count, threads, "threads: \(threads)")
        }
    }
}
