// Winograd F(4×4, 3×3)'s input and output transforms (Tensors' WinogradF4.swift holds the matrices and
// the banding) in C, so they are compiled for AVX-512 and AVX2 as well as the baseline x86-64 the Swift
// modules target: in Swift they ran 4 floats wide (the columns 1 wide) and were a fifth of a bf16 generator
// frame. Each value is computed with the same operations in the same order as before, with no FMA
// contraction.
#include "ckernels.h"
#include "dnnl_gemm.h"
#include "multiversion.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#pragma clang fp contract(off)

// Bᵀ times a column of six (one step of the input transform; rows and columns both use it).
static inline __attribute__((always_inline)) void avz_bt(float a0, float a1, float a2, float a3, float a4, float a5, float r[6]) {
    r[0] = 4 * a0 - 5 * a2 + a4;
    r[1] = -4 * a1 - 4 * a2 + a3 + a4;
    r[2] = 4 * a1 - 4 * a2 - a3 + a4;
    r[3] = -2 * a1 - a2 + 2 * a3 + a4;
    r[4] = 2 * a1 - a2 - 2 * a3 + a4;
    r[5] = 4 * a1 - 5 * a3 + a5;
}

long avz_winograd_f4_input_scratch(long w) { return 48 * (w / 4 + 1) + w + 8 + 6 * (w / 4); }

AVZ_KERNEL_BODY void avz_winograd_f4_input_body(const float *restrict src, long h, long w, long ty0, long rows, float sc,
                                                float *restrict scratch, float *restrict v, unsigned short *restrict v16,
                                                long point_stride) {
    long tw = w / 4, n1 = tw + 1, len = 4 * n1;
    float *phases = scratch;           // [6 rows][4 column phases][n1]
    float *comb = scratch + 24 * n1;   // [6 combined rows][4 phases][n1]
    float *padded = scratch + 48 * n1; // x[−1 ..< w + 7] at offset 1
    float *staged = padded + w + 8;    // [6][tw]: one row of V before rounding to bf16
    padded[0] = 0;
    for (long k = 0; k < 7; k++) padded[w + 1 + k] = 0;
    for (long r = 0; r < rows; r++) {
        long y0 = 4 * (ty0 + r) - 1;
        for (long a = 0; a < 6; a++) {
            long y = y0 + a;
            float *ph = phases + a * len;
            if (y < 0 || y >= h) { memset(ph, 0, (size_t)len * sizeof(float)); continue; }
            const float *row = src + y * w;
            for (long x = 0; x < w; x++) padded[1 + x] = row[x] * sc;
            // Column phase k: p_k[j] = x[4j + k − 1].
            for (long k = 0; k < 4; k++) {
                float *p = ph + k * n1;
                for (long j = 0; j < n1; j++) p[j] = padded[4 * j + k];
            }
        }
        // Bᵀ over rows, on every phase at once.
        const float *d0 = phases, *d1 = phases + len, *d2 = phases + 2 * len;
        const float *d3 = phases + 3 * len, *d4 = phases + 4 * len, *d5 = phases + 5 * len;
        float *c0 = comb, *c1 = comb + len, *c2 = comb + 2 * len, *c3 = comb + 3 * len, *c4 = comb + 4 * len, *c5 = comb + 5 * len;
        for (long j = 0; j < len; j++) {
            float t[6];
            avz_bt(d0[j], d1[j], d2[j], d3[j], d4[j], d5[j], t);
            c0[j] = t[0]; c1[j] = t[1]; c2[j] = t[2]; c3[j] = t[3]; c4[j] = t[4]; c5[j] = t[5];
        }
        // B over columns: tile tx reads p0[tx] p1[tx] p2[tx] p3[tx] p0[tx+1] p1[tx+1].
        for (long i = 0; i < 6; i++) {
            const float *p0 = comb + i * len, *p1 = p0 + n1, *p2 = p0 + 2 * n1, *p3 = p0 + 3 * n1;
            float *o[6];
            for (long j = 0; j < 6; j++) o[j] = v16 ? staged + j * tw : v + (6 * i + j) * point_stride + r * tw;
            float *restrict o0 = o[0], *restrict o1 = o[1], *restrict o2 = o[2];
            float *restrict o3 = o[3], *restrict o4 = o[4], *restrict o5 = o[5];
            for (long tx = 0; tx < tw; tx++) {
                float t[6];
                avz_bt(p0[tx], p1[tx], p2[tx], p3[tx], p0[tx + 1], p1[tx + 1], t);
                o0[tx] = t[0]; o1[tx] = t[1]; o2[tx] = t[2]; o3[tx] = t[3]; o4[tx] = t[4]; o5[tx] = t[5];
            }
            if (v16)
                for (long j = 0; j < 6; j++) avz_to_bf16(staged + j * tw, v16 + (6 * i + j) * point_stride + r * tw, tw);
        }
    }
}

AVZ_KERNEL(avz_winograd_f4_input,
           (const float *restrict src, long h, long w, long ty0, long rows, float sc, float *restrict scratch,
            float *restrict v, unsigned short *restrict v16, long point_stride),
           (src, h, w, ty0, rows, sc, scratch, v, v16, point_stride))

long avz_winograd_f4_output_scratch(long w) { return 24 * (w / 4) + 4 * w; }

#if defined(__x86_64__)
// Aᵀ over the columns of 16 tiles at once, then a 4 × 16 transpose so each tile's four pixels are adjacent:
// 64 pixels of the output row (up = 1), or of this phase's every other pixel (up = 2, a masked store that
// leaves the other phase's pixels alone). The scalar loop's arithmetic, term by term.
__attribute__((target("avx512f")))
static long columns_avx512(const float *q0, const float *q1, const float *q2, const float *q3, const float *q4,
                           const float *q5, long tw, float sc, long up, float *d) {
    const __m512 s = _mm512_set1_ps(sc), two = _mm512_set1_ps(2), four = _mm512_set1_ps(4), eight = _mm512_set1_ps(8);
    const __m512i spread_lo = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    const __m512i spread_hi = _mm512_set_epi32(15, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8);
    long tx = 0;
    for (; tx + 16 <= tw; tx += 16) {
        __m512 a1 = _mm512_loadu_ps(q1 + tx), a2 = _mm512_loadu_ps(q2 + tx);
        __m512 a3 = _mm512_loadu_ps(q3 + tx), a4 = _mm512_loadu_ps(q4 + tx);
        __m512 y0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_loadu_ps(q0 + tx), a1), a2), a3), a4);
        __m512 y1 = _mm512_sub_ps(_mm512_add_ps(_mm512_sub_ps(a1, a2), _mm512_mul_ps(two, a3)), _mm512_mul_ps(two, a4));
        __m512 y2 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a1, a2), _mm512_mul_ps(four, a3)), _mm512_mul_ps(four, a4));
        __m512 y3 = _mm512_add_ps(_mm512_sub_ps(_mm512_add_ps(_mm512_sub_ps(a1, a2), _mm512_mul_ps(eight, a3)),
                                                _mm512_mul_ps(eight, a4)), _mm512_loadu_ps(q5 + tx));
        y0 = _mm512_mul_ps(y0, s); y1 = _mm512_mul_ps(y1, s); y2 = _mm512_mul_ps(y2, s); y3 = _mm512_mul_ps(y3, s);
        // Per 128-bit lane k: u0 = tile 4k's four pixels, u1 tile 4k + 1, u2 4k + 2, u3 4k + 3.
        __m512 t0 = _mm512_unpacklo_ps(y0, y1), t1 = _mm512_unpackhi_ps(y0, y1);
        __m512 t2 = _mm512_unpacklo_ps(y2, y3), t3 = _mm512_unpackhi_ps(y2, y3);
        __m512 u0 = _mm512_shuffle_ps(t0, t2, 0x44), u1 = _mm512_shuffle_ps(t0, t2, 0xEE);
        __m512 u2 = _mm512_shuffle_ps(t1, t3, 0x44), u3 = _mm512_shuffle_ps(t1, t3, 0xEE);
        // Lanes transposed: out[i] holds tiles 4i … 4i + 3.
        __m512 v0 = _mm512_shuffle_f32x4(u0, u1, 0x44), v1 = _mm512_shuffle_f32x4(u2, u3, 0x44);
        __m512 v2 = _mm512_shuffle_f32x4(u0, u1, 0xEE), v3 = _mm512_shuffle_f32x4(u2, u3, 0xEE);
        __m512 out[4] = {_mm512_shuffle_f32x4(v0, v1, 0x88), _mm512_shuffle_f32x4(v0, v1, 0xDD),
                         _mm512_shuffle_f32x4(v2, v3, 0x88), _mm512_shuffle_f32x4(v2, v3, 0xDD)};
        float *dst = d + 4 * tx * up;
        if (up == 1) {
            for (int i = 0; i < 4; i++) _mm512_storeu_ps(dst + 16 * i, out[i]);
        } else {
            for (int i = 0; i < 4; i++) {
                _mm512_mask_storeu_ps(dst + 32 * i, 0x5555, _mm512_permutexvar_ps(spread_lo, out[i]));
                _mm512_mask_storeu_ps(dst + 32 * i + 16, 0x5555, _mm512_permutexvar_ps(spread_hi, out[i]));
            }
        }
    }
    return tx;
}
#endif

AVZ_KERNEL_BODY void avz_winograd_f4_output_body(const float *restrict m, long point_stride, long w, long ty0, long rows,
                                                 float sc, long up, long out_w, float *restrict scratch, float *restrict dst) {
    long tw = w / 4;
    int wide = avz_kernels_variant() >= AVZ_KERNELS_AVX512;
    (void)wide;  // only x86 has a wide path
    float *line = scratch + 24 * tw;  // one output row of this phase, 4·tw pixels, before the strided copy
    for (long r = 0; r < rows; r++) {
        // Aᵀ over rows (6 → 4) for each of the six columns.
        for (long b = 0; b < 6; b++) {
            const float *m0 = m + (6 * 0 + b) * point_stride + r * tw, *m1 = m + (6 * 1 + b) * point_stride + r * tw;
            const float *m2 = m + (6 * 2 + b) * point_stride + r * tw, *m3 = m + (6 * 3 + b) * point_stride + r * tw;
            const float *m4 = m + (6 * 4 + b) * point_stride + r * tw, *m5 = m + (6 * 5 + b) * point_stride + r * tw;
            float *restrict r0 = scratch + b * tw, *restrict r1 = scratch + (6 + b) * tw;
            float *restrict r2 = scratch + (12 + b) * tw, *restrict r3 = scratch + (18 + b) * tw;
            for (long tx = 0; tx < tw; tx++) {
                float a1 = m1[tx], a2 = m2[tx], a3 = m3[tx], a4 = m4[tx];
                r0[tx] = m0[tx] + a1 + a2 + a3 + a4;
                r1[tx] = a1 - a2 + 2 * a3 - 2 * a4;
                r2[tx] = a1 + a2 + 4 * a3 + 4 * a4;
                r3[tx] = a1 - a2 + 8 * a3 - 8 * a4 + m5[tx];
            }
        }
        // Then over columns: output columns 4tx … 4tx + 3.
        for (long i = 0; i < 4; i++) {
            const float *q = scratch + 6 * i * tw;
            const float *q0 = q, *q1 = q + tw, *q2 = q + 2 * tw, *q3 = q + 3 * tw, *q4 = q + 4 * tw, *q5 = q + 5 * tw;
            float *restrict d = dst + (4 * (ty0 + r) + i) * up * out_w;
            long tx0 = 0;
#if defined(__x86_64__)
            if (wide) tx0 = columns_avx512(q0, q1, q2, q3, q4, q5, tw, sc, up, d);
#endif
            float *restrict out = up == 1 ? d : line;
            for (long tx = tx0; tx < tw; tx++) {
                float a1 = q1[tx], a2 = q2[tx], a3 = q3[tx], a4 = q4[tx];
                out[4 * tx] = (q0[tx] + a1 + a2 + a3 + a4) * sc;
                out[4 * tx + 1] = (a1 - a2 + 2 * a3 - 2 * a4) * sc;
                out[4 * tx + 2] = (a1 + a2 + 4 * a3 + 4 * a4) * sc;
                out[4 * tx + 3] = (a1 - a2 + 8 * a3 - 8 * a4 + q5[tx]) * sc;
            }
            // With four phases, this phase's pixels are every other one of the output row.
            if (up != 1)
                for (long x = 4 * tx0; x < 4 * tw; x++) d[up * x] = line[x];
        }
    }
}
AVZ_KERNEL(avz_winograd_f4_output,
           (const float *restrict m, long point_stride, long w, long ty0, long rows, float sc, long up, long out_w,
            float *restrict scratch, float *restrict dst),
           (m, point_stride, w, ty0, rows, sc, up, out_w, scratch, dst))
