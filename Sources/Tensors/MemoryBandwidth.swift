// A STREAM-style copy rate: the memory bandwidth the bench sets the renderer's lookups against, measured in
// the same run (shared machines move absolute rates by 2×).
import Foundation

public enum MemoryBandwidth {
    /// Copies one array into another on every worker thread (Parallel's chunks) and returns the median rate
    /// in GB/s, counting each byte read and written as STREAM's "copy" does. The arrays (2 × `megabytes`) are
    /// larger than the caches, mapped for the measurement and unmapped after.
    public static func copyRate(megabytes: Int = 64, repeats: Int = 5) -> Double {
        let count = megabytes << 18  // floats
        let a = HugePageBuffer<Float>(count: count), b = HugePageBuffer<Float>(count: count)
        for i in 0..<count { a.pointer[i] = Float(i & 1023); b.pointer[i] = 0 }
        let chunk = 1 << 16
        let chunks = (count + chunk - 1) / chunk
        func copy() {
            Parallel.forChunks(chunks) { s, e in
                let lo = s * chunk, hi = min(count, e * chunk)
                (b.pointer + lo).update(from: a.pointer + lo, count: hi - lo)
            }
        }
        copy()  // warm-up: pages faulted in
        var rates: [Double] = []
        for _ in 0..<repeats {
            let t = Clock.now()
            copy()
            rates.append(2.0 * Double(count * MemoryLayout<Float>.stride) / (Clock.now() - t) / 1e9)
        }
        rates.sort()
        return rates[rates.count / 2]
    }
}
