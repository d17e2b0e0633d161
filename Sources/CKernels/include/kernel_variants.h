// Which build of the C kernels runs: the loops marked AVZ_KERNEL in CKernels are compiled once per x86
// level and chosen at run time from an explicit table (as FFmpeg's checkasm does), so the tests can run
// every variant this CPU supports against the scalar reference instead of only the one the loader picks.
#pragma once

enum {
    AVZ_KERNELS_BASELINE = 0,     // x86-64 (SSE2), and every other architecture
    AVZ_KERNELS_AVX2 = 1,         // x86-64-v3: AVX2, FMA, BMI1/2, F16C, MOVBE, LZCNT
    AVZ_KERNELS_AVX512 = 2,       // x86-64-v4: AVX-512 F, CD, BW, DQ, VL
    AVZ_KERNELS_AVX512_BF16 = 3,  // x86-64-v4 and AVX512_BF16 (bf16 arithmetic: vdpbf16ps, vcvtne2ps2bf16)
    AVZ_KERNELS_COUNT = 4
};

/// The highest variant this CPU and OS run (the OS must save the YMM / ZMM state), from cpuid once.
int avz_kernels_best(void);
/// The variant in use: avz_kernels_best(), or lower where $AVATARIZE_KERNELS names a lower one
/// (baseline, avx2, avx512, avx512-bf16); a name above what the CPU runs is capped to the best.
int avz_kernels_variant(void);
/// Makes `variant` the one in use (tests, benches). Returns 0, or -1 (nothing changed) when this CPU
/// cannot run it or it is out of range.
int avz_kernels_select(int variant);
/// "baseline", "avx2", "avx512" or "avx512-bf16"; "?" out of range.
const char *avz_kernels_name(int variant);
/// The level $AVATARIZE_KERNELS asks for, or -1 when it is unset or names no variant.
int avz_kernels_requested(void);
