#include "kernel_variants.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

static const char *const names[AVZ_KERNELS_COUNT] = {"baseline", "avx2", "avx512", "avx512-bf16"};

static int best = AVZ_KERNELS_BASELINE;
static _Atomic int active = AVZ_KERNELS_BASELINE;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__)
static unsigned long long xcr0(void) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

// Feature bits from the Intel SDM, vol. 2A, CPUID; the levels are those of the x86-64 psABI.
static int detect(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(1, 0, &a, &b, &c, &d)) return AVZ_KERNELS_BASELINE;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1, movbe = (c >> 22) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return AVZ_KERNELS_BASELINE;
    unsigned long long x = xcr0();
    int ymm = (x & 0x6) == 0x6;           // XMM and YMM state saved by the OS
    int zmm = (x & 0xE6) == 0xE6;         // and the opmask and both ZMM halves
    unsigned a7 = 0, b7 = 0, c7 = 0, d7 = 0;
    if (!__get_cpuid_count(7, 0, &a7, &b7, &c7, &d7)) return AVZ_KERNELS_BASELINE;
    unsigned ae = 0, be = 0, ce = 0, de = 0;
    __get_cpuid(0x80000001, &ae, &be, &ce, &de);
    int avx2 = (b7 >> 5) & 1, bmi1 = (b7 >> 3) & 1, bmi2 = (b7 >> 8) & 1, lzcnt = (ce >> 5) & 1;
    if (!(ymm && avx2 && fma && bmi1 && bmi2 && movbe && f16c && lzcnt)) return AVZ_KERNELS_BASELINE;
    int f = (b7 >> 16) & 1, dq = (b7 >> 17) & 1, cd = (b7 >> 28) & 1, bw = (b7 >> 30) & 1, vl = (b7 >> 31) & 1;
    if (!(zmm && f && dq && cd && bw && vl)) return AVZ_KERNELS_AVX2;
    // AVX512_BF16 is CPUID.(7,1):EAX[5]. AMX-BF16 alone does not imply it: vcvtne2ps2bf16 and vdpbf16ps
    // need this bit, so an AMX flag is never taken as a stand-in.
    unsigned a71 = 0, b71, c71, d71;
    if (a7 >= 1) __get_cpuid_count(7, 1, &a71, &b71, &c71, &d71);
    return (a71 >> 5) & 1 ? AVZ_KERNELS_AVX512_BF16 : AVZ_KERNELS_AVX512;
}
#else
static int detect(void) { return AVZ_KERNELS_BASELINE; }
#endif

static int parse(const char *s) {
    if (!s) return -1;
    for (int v = 0; v < AVZ_KERNELS_COUNT; v++)
        if (strcmp(s, names[v]) == 0) return v;
    return -1;
}

static void initialise(void) {
    best = detect();
    int want = parse(getenv("AVATARIZE_KERNELS"));
    atomic_store_explicit(&active, want >= 0 && want < best ? want : best, memory_order_relaxed);
}

int avz_kernels_best(void) {
    pthread_once(&once, initialise);
    return best;
}

int avz_kernels_variant(void) {
    pthread_once(&once, initialise);
    return atomic_load_explicit(&active, memory_order_relaxed);
}

int avz_kernels_select(int variant) {
    pthread_once(&once, initialise);
    if (variant < 0 || variant > best) return -1;
    atomic_store_explicit(&active, variant, memory_order_relaxed);
    return 0;
}

const char *avz_kernels_name(int variant) {
    return variant >= 0 && variant < AVZ_KERNELS_COUNT ? names[variant] : "?";
}

int avz_kernels_requested(void) { return parse(getenv("AVATARIZE_KERNELS")); }
