// Winograd-transformed weights [points, O, I] as the products read them: float32, or, for bf16 layers,
// bfloat16 bit patterns converted once at load (half the memory, and no per-call rounding of A).
// Owned storage at a fixed address, so the per-frame code takes plain pointers.
import CKernels

public final class WinogradWeights: @unchecked Sendable {
    public let precision: Precision
    public let count: Int
    private let storage: UnsafeMutableRawPointer

    /// - u: transformed weights (Winograd.transformWeights); stored as bf16 when `precision` is bf16.
    public init(_ u: [Float], precision: Precision) {
        self.precision = precision
        count = u.count
        if precision == .bf16 {
            let p = UnsafeMutablePointer<UInt16>.allocate(capacity: Swift.max(1, u.count))
            u.withUnsafeBufferPointer { avz_to_bf16($0.baseAddress!, p, u.count) }
            storage = UnsafeMutableRawPointer(p)
        } else {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, u.count))
            p.initialize(from: u, count: u.count)
            storage = UnsafeMutableRawPointer(p)
        }
    }

    deinit { storage.deallocate() }

    var planes: Winograd.Planes {
        precision == .bf16 ? .bfloat16(UnsafePointer(storage.assumingMemoryBound(to: UInt16.self)))
            : .float32(UnsafePointer(storage.assumingMemoryBound(to: Float.self)))
    }
}

extension Winograd {
    /// Where one layer's transformed weights [points, O, I] are, in the precision they are stored in.
    enum Planes {
        case float32(UnsafePointer<Float>)
        case bfloat16(UnsafePointer<UInt16>)
    }
}
