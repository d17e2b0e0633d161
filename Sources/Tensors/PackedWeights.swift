// A layer's weights as its products read them (the A operand): float32, or, for bf16 layers, bfloat16
// bit patterns converted once at load (half the memory, and no per-call rounding of A). Holds Winograd-
// transformed weights [points, O, I] and plain [O, I·k·k] matrices alike. Owned storage at a fixed
// address, so the per-frame code takes plain pointers.
import CKernels

public final class PackedWeights: @unchecked Sendable {
    public let precision: Precision
    public let count: Int
    private let storage: UnsafeMutableRawPointer

    /// - u: the weights (e.g. Winograd.transformWeights' output); stored as bf16 when `precision` is bf16.
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

    /// The float32 weights; nil when they are stored as bf16.
    public var float32: UnsafePointer<Float>? {
        precision == .bf16 ? nil : UnsafePointer(storage.assumingMemoryBound(to: Float.self))
    }

    /// The bf16 weights; nil when they are stored as float32.
    public var bfloat16: UnsafePointer<UInt16>? {
        precision == .bf16 ? UnsafePointer(storage.assumingMemoryBound(to: UInt16.self)) : nil
    }

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
