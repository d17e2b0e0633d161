// A small linear layer in bfloat16 on AVX512_BF16 (vdpbf16ps: pairs of bf16 products summed into float32
// lanes), for the OSG decoder's two layers, which run on blocks of ~128 points where a library GEMM call
// costs more than its arithmetic. The weight is packed once as [in/2][out padded to 16][2]: one k-pair of
// sixteen outputs per register; each point's inputs are rounded to bf16 pairs and broadcast.
#include "ckernels.h"
#include "dnnl_gemm.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

// The kernel is written for AVX512_BF16 alone (vdpbf16ps, vcvtne2ps2bf16); kernel_variants.c checks that bit.
int avz_bf16_linear_available(void) { return avz_cpu_has_bf16(); }

static long padded_outputs(long out) { return (out + 15) / 16 * 16; }

long avz_bf16_linear_packed_count(long out, long in) { return (in + 1) / 2 * padded_outputs(out) * 2; }

void avz_bf16_linear_pack(const float *w, long out, long in, unsigned short *dst) {
    long op = padded_outputs(out), kp = (in + 1) / 2, count = kp * op * 2;
    float *staged = (float *)calloc((size_t)count, sizeof(float));
    for (long p = 0; p < kp; p++)
        for (long j = 0; j < out; j++)
            for (long t = 0; t < 2 && 2 * p + t < in; t++) staged[(p * op + j) * 2 + t] = w[j * in + 2 * p + t];
    avz_to_bf16(staged, dst, count);
    free(staged);
}

#if defined(__x86_64__)
enum { POINTS = 4, MAX_PAIRS = 256 };

// Outputs [16·b0, 16·(b0 + NB)) of POINTS rows: NB·POINTS accumulators stay in registers over the k-pairs.
#define TILE(NB)                                                                                               \
    __attribute__((target("avx512bf16,avx512f,avx512bw,avx512vl"), always_inline)) static inline void       \
    tile##NB(const uint32_t *pairs, long kp, const uint16_t *w, long op, long b0, long rows, long out,         \
             float *y, long ldy) {                                                                             \
        __m512 acc[POINTS][NB];                                                                                \
        for (int r = 0; r < POINTS; r++)                                                                       \
            for (int b = 0; b < NB; b++) acc[r][b] = _mm512_setzero_ps();                                      \
        for (long k = 0; k < kp; k++) {                                                                        \
            const uint16_t *wk = w + (k * op + b0 * 16) * 2;                                                   \
            __m512bh wv[NB];                                                                                   \
            for (int b = 0; b < NB; b++) wv[b] = (__m512bh)_mm512_loadu_si512((const void *)(wk + b * 32));    \
            for (int r = 0; r < POINTS; r++) {                                                                 \
                __m512bh xv = (__m512bh)_mm512_set1_epi32((int)pairs[r * MAX_PAIRS + k]);                      \
                for (int b = 0; b < NB; b++) acc[r][b] = _mm512_dpbf16_ps(acc[r][b], xv, wv[b]);               \
            }                                                                                                  \
        }                                                                                                      \
        for (int r = 0; r < rows; r++)                                                                         \
            for (int b = 0; b < NB; b++) {                                                                     \
                long j = (b0 + b) * 16;                                                                        \
                if (j >= out) break;                                                                           \
                __mmask16 m = out - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (out - j)) - 1);          \
                _mm512_mask_storeu_ps(y + r * ldy + j, m, acc[r][b]);                                          \
            }                                                                                                  \
    }
TILE(1)
TILE(2)
TILE(3)
TILE(4)

__attribute__((target("avx512bf16,avx512f,avx512bw,avx512vl")))
static void linear_avx512(const float *x, long n, long in, const uint16_t *w, long out, float *y, long ldy) {
    long kp = (in + 1) / 2, op = padded_outputs(out), nb = op / 16;
    uint32_t pairs[POINTS * MAX_PAIRS];
    float row[2 * MAX_PAIRS];
    for (long p0 = 0; p0 < n; p0 += POINTS) {
        long rows = n - p0 < POINTS ? n - p0 : POINTS;
        for (long r = 0; r < POINTS; r++) {
            uint32_t *dst = pairs + r * MAX_PAIRS;
            if (r >= rows) { memset(dst, 0, (size_t)kp * 4); continue; }
            // The row zero-padded to whole registers of 32, then rounded to bf16 (nearest even) in pairs.
            memcpy(row, x + (p0 + r) * in, (size_t)in * sizeof(float));
            long padded = (in + 31) / 32 * 32;
            for (long k = in; k < padded; k++) row[k] = 0;
            for (long k = 0; k < padded; k += 32) {
                __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(row + k + 16), _mm512_loadu_ps(row + k));
                _mm512_storeu_si512((void *)(dst + k / 2), (__m512i)v);
            }
        }
        float *yr = y + p0 * ldy;
        long b0 = 0;
        for (; b0 + 4 <= nb; b0 += 4) tile4(pairs, kp, w, op, b0, rows, out, yr, ldy);
        switch (nb - b0) {
        case 3: tile3(pairs, kp, w, op, b0, rows, out, yr, ldy); break;
        case 2: tile2(pairs, kp, w, op, b0, rows, out, yr, ldy); break;
        case 1: tile1(pairs, kp, w, op, b0, rows, out, yr, ldy); break;
        default: break;
        }
    }
}
#endif

int avz_bf16_linear(const float *x, long n, long in, const unsigned short *packed, long out, float *y, long ldy) {
#if defined(__x86_64__)
    if (!avz_bf16_linear_available() || in > 2 * MAX_PAIRS) return 0;
    linear_avx512(x, n, in, packed, out, y, ldy);
    return 1;
#else
    (void)x; (void)n; (void)in; (void)packed; (void)out; (void)y; (void)ldy;
    return 0;
#endif
}
