import CKernels

/// Which build of the C kernels runs (CKernels' kernel_variants.h): the baseline, AVX2 + FMA, AVX-512, or
/// AVX-512 with AVX512_BF16. The best one the CPU runs is picked once; `AVATARIZE_KERNELS=NAME` asks for a
/// lower one, and tests select each in turn.
public enum KernelVariant: Int, CaseIterable, Sendable, Comparable {
    case baseline = 0, avx2 = 1, avx512 = 2, avx512BF16 = 3

    /// As `AVATARIZE_KERNELS` spells it: baseline, avx2, avx512, avx512-bf16.
    public var name: String { String(cString: avz_kernels_name(Int32(rawValue))) }

    /// The highest variant this CPU and OS run.
    public static var best: KernelVariant { KernelVariant(rawValue: Int(avz_kernels_best())) ?? .baseline }
    /// The variant in use now.
    public static var current: KernelVariant { KernelVariant(rawValue: Int(avz_kernels_variant())) ?? .baseline }
    /// Every variant this CPU runs, lowest first.
    public static var available: [KernelVariant] { allCases.filter { $0 <= best } }

    /// Makes `variant` the one in use; false (nothing changed) when this CPU cannot run it.
    @discardableResult
    public static func select(_ variant: KernelVariant) -> Bool { avz_kernels_select(Int32(variant.rawValue)) == 0 }

    /// Runs `body` once with each available variant selected, then restores the one in use before.
    public static func forEachAvailable(_ body: (KernelVariant) throws -> Void) rethrows {
        let previous = current
        defer { select(previous) }
        for v in available {
            select(v)
            try body(v)
        }
    }

    public static func < (a: KernelVariant, b: KernelVariant) -> Bool { a.rawValue < b.rawValue }
}
