// Arithmetic precision of the networks' large products. bf16 rounds both operands of a convolution's or
// linear layer's GEMM to bfloat16 (8-bit mantissa) and accumulates in float32 through oneDNN's bf16
// matmul, about twice float32's rate on CPUs with AVX512_BF16. The volume renderer reads its
// tri-planes stored in bf16 and runs the OSG decoder's two small products in bf16 (BFloat16Linear).
// Everything else (transforms, demodulation, activations, interpolation, the mapping network, ray
// marching) stays float32.
import CKernels

public enum Precision: String, Sendable, CaseIterable, CustomStringConvertible {
    case fp32, bf16

    public var description: String { rawValue }

    /// Whether this CPU runs bf16 products at speed (AVX512_BF16, never AMX alone: see CKernels' kernel_variants.c) and oneDNN is there; checked at run
    /// time, so one build serves CPUs with and without.
    public static let bf16Supported: Bool = avz_cpu_has_bf16() != 0 && avz_dnnl_available() != 0

    /// What models load with when the caller names no precision; set once at start (the worker's
    /// --precision), like Parallel.configure.
    nonisolated(unsafe) public static var processDefault: Precision = .fp32

    /// bf16 where the CPU supports it, else fp32 (what `--precision auto` picks).
    public static var automatic: Precision { bf16Supported ? .bf16 : .fp32 }

    /// The bfloat16 bit patterns of `values`, rounded to nearest even (what bf16 products read).
    public static func bfloat16Bits(_ values: [Float]) -> [UInt16] {
        guard !values.isEmpty else { return [] }
        var out = [UInt16](repeating: 0, count: values.count)
        out.withUnsafeMutableBufferPointer { bfloat16Bits(values, into: $0.baseAddress!) }
        return out
    }

    /// bfloat16Bits written into `out` (values.count elements).
    public static func bfloat16Bits(_ values: [Float], into out: UnsafeMutablePointer<UInt16>) {
        values.withUnsafeBufferPointer { avz_to_bf16($0.baseAddress!, out, values.count) }
    }
}

/// A precision as the user asks for it: a fixed one, or `auto`.
public enum PrecisionChoice: String, Sendable, CaseIterable, CustomStringConvertible {
    case fp32, bf16, auto

    public var description: String { rawValue }

    /// The precision to run; throws for bf16 on a CPU that lacks it.
    public func resolve() throws -> Precision {
        switch self {
        case .fp32: return .fp32
        case .auto: return Precision.automatic
        case .bf16:
            guard Precision.bf16Supported else { throw PrecisionError.bf16Unsupported }
            return .bf16
        }
    }
}

public enum PrecisionError: Error, CustomStringConvertible {
    case bf16Unsupported

    public var description: String {
        "--precision bf16: this CPU has no AVX512_BF16 (or oneDNN is missing, or AVATARIZE_KERNELS asks for a lower variant); use --precision fp32 or auto"
    }
}
