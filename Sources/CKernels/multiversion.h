// The kernels' variants (kernel_variants.h): a loop written once as an always-inline body is compiled for
// x86-64-v4 (AVX-512), x86-64-v3 (AVX2 + FMA) and the baseline, and the exported function calls the one
// avz_kernels_variant() names. One load and a switch per call: calls cover whole rows or blocks.
//
//     AVZ_KERNEL_BODY void name_body(params) { … }
//     AVZ_KERNEL(name, (params), (args))
#pragma once
#include "kernel_variants.h"

#define AVZ_KERNEL_BODY static inline __attribute__((always_inline))

#if defined(__x86_64__)
#define AVZ_KERNEL(name, params, args)                                                                    \
    __attribute__((target("arch=x86-64-v4"))) static void name##_avx512 params { name##_body args; }      \
    __attribute__((target("arch=x86-64-v3"))) static void name##_avx2 params { name##_body args; }        \
    static void name##_baseline params { name##_body args; }                                              \
    void name params {                                                                                    \
        switch (avz_kernels_variant()) {                                                                  \
        case AVZ_KERNELS_AVX512_BF16:                                                                     \
        case AVZ_KERNELS_AVX512: name##_avx512 args; break;                                               \
        case AVZ_KERNELS_AVX2: name##_avx2 args; break;                                                   \
        default: name##_baseline args; break;                                                             \
        }                                                                                                 \
    }
#else
#define AVZ_KERNEL(name, params, args) \
    void name params { name##_body args; }
#endif
