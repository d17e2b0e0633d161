// Functions marked AVZ_CLONES are compiled for AVX-512 (x86-64-v4), AVX2 + FMA (v3) and the baseline, and
// the loader picks the version this CPU runs; the Swift modules themselves target the baseline.
#pragma once
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define AVZ_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
#endif
#ifndef AVZ_CLONES
#define AVZ_CLONES
#endif
