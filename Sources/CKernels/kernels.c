#include "ckernels.h"
#include "multiversion.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

// e^x, Cephes-style (range reduction by ln 2, degree-6 polynomial), as Pointwise.exp.
static inline __attribute__((always_inline)) float avz_exp(float x) {
    float xc = fminf(fmaxf(x, -87.3f), 88.7f);
    float k = (xc * 1.44269504f + 12582912.0f) - 12582912.0f;
    float r = xc - k * 0.693359375f + k * 2.1219444e-4f;
    float p = 1.98756915e-4f;
    p = p * r + 1.39819995e-3f;
    p = p * r + 8.3334519e-3f;
    p = p * r + 4.16657959e-2f;
    p = p * r + 1.66666655e-1f;
    p = p * r + 5.00000012e-1f;
    float y = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

// ln(1 + e) for e in [0, 1] via 2·atanh(e / (2 + e)), as Pointwise.log1pUnit.
static inline __attribute__((always_inline)) float avz_log1p_unit(float e) {
    float s = e / (2.0f + e), s2 = s * s;
    float p = 1.0f / 15;
    p = p * s2 + 1.0f / 13;
    p = p * s2 + 1.0f / 11;
    p = p * s2 + 1.0f / 9;
    p = p * s2 + 1.0f / 7;
    p = p * s2 + 1.0f / 5;
    p = p * s2 + 1.0f / 3;
    p = p * s2 + 1.0f;
    return 2.0f * s * p;
}

AVZ_KERNEL_BODY void avz_softplus_bias_rows_body(float *x, const float *bias, long rows, long cols) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * cols;
        for (long j = 0; j < cols; j++) {
            float v = row[j] + bias[j];
            float sp = fmaxf(v, 0.0f) + avz_log1p_unit(avz_exp(-fabsf(v)));
            row[j] = v > 20.0f ? v : sp;
        }
    }
}

AVZ_KERNEL(avz_softplus_bias_rows, (float *x, const float *bias, long rows, long cols), (x, bias, rows, cols))

AVZ_KERNEL_BODY void avz_sigmoid_bias_rows_body(float *x, const float *bias, long rows, long cols, float scale, float shift) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * cols;
        row[0] += bias[0];
        for (long j = 1; j < cols; j++) {
            float v = row[j] + bias[j];
            row[j] = scale / (1.0f + avz_exp(-v)) + shift;
        }
    }
}

AVZ_KERNEL(avz_sigmoid_bias_rows, (float *x, const float *bias, long rows, long cols, float scale, float shift),
           (x, bias, rows, cols, scale, shift))

// Element i of a plane stored as float32, or as bfloat16 bit patterns (the generator's bf16 precision:
// half the bytes per tap, so the 3 × R² × C planes stay in cache far better; the arithmetic is float32).
static inline __attribute__((always_inline)) float avz_plane_value(const void *plane, long i, int bf16) {
    if (!bf16) return ((const float *)plane)[i];
    uint32_t bits = (uint32_t)((const uint16_t *)plane)[i] << 16;
    float v;
    memcpy(&v, &bits, 4);
    return v;
}

// The four taps of one bilinear lookup (grid_sample, align_corners false): element offsets into a
// channels-last plane and their weights, in grid_sample's order (nw, ne, sw, se). A tap outside the plane is
// weighted 0 at offset 0 (zeros padding), so the channel loop reads without a branch.
typedef struct { long off[4]; float w[4]; } avz_taps;

static inline __attribute__((always_inline)) void avz_taps_at(long res, long c, float gx, float gy, avz_taps *t) {
    float ix = ((gx + 1.0f) * (float)res - 1.0f) / 2.0f;
    float iy = ((gy + 1.0f) * (float)res - 1.0f) / 2.0f;
    float fx = floorf(ix), fy = floorf(iy);
    for (int i = 0; i < 4; i++) { t->off[i] = 0; t->w[i] = 0.0f; }
    // NaN and infinities fail these; a point a texel or more outside has no tap inside.
    if (!(fx >= -1.0f && fx <= (float)res && fy >= -1.0f && fy <= (float)res)) return;
    long x0 = (long)fx, y0 = (long)fy;
    float wx1 = ix - fx, wx0 = (float)(x0 + 1) - ix;
    float wy1 = iy - fy, wy0 = (float)(y0 + 1) - iy;
    const long xs[4] = {x0, x0 + 1, x0, x0 + 1}, ys[4] = {y0, y0, y0 + 1, y0 + 1};
    const float ws[4] = {wx0 * wy0, wx1 * wy0, wx0 * wy1, wx1 * wy1};
    for (int i = 0; i < 4; i++) {
        if (xs[i] < 0 || xs[i] >= res || ys[i] < 0 || ys[i] >= res) continue;
        t->off[i] = (ys[i] * res + xs[i]) * c;
        t->w[i] = ws[i];
    }
}

static inline __attribute__((always_inline)) float avz_taps_value(const void *restrict plane, int bf16, const avz_taps *t, long k) {
    return avz_plane_value(plane, t->off[0] + k, bf16) * t->w[0] + avz_plane_value(plane, t->off[1] + k, bf16) * t->w[1]
         + avz_plane_value(plane, t->off[2] + k, bf16) * t->w[2] + avz_plane_value(plane, t->off[3] + k, bf16) * t->w[3];
}

// One point: each plane's bilinear value, then their mean (sample_from_planes, then the decoder's mean over
// planes). Called with c a literal 32 (EG3D's plane channels) the loop is unrolled over registers.
static inline __attribute__((always_inline)) void avz_triplane_point(const void *xy, const void *xz, const void *third, int bf16,
                                                                     long res, long c, float x, float y, float z, int zy,
                                                                     float *restrict out) {
    avz_taps a, b, t;
    avz_taps_at(res, c, x, y, &a);
    avz_taps_at(res, c, x, z, &b);
    avz_taps_at(res, c, z, zy ? y : x, &t);
    for (long k = 0; k < c; k++) {
        out[k] = (avz_taps_value(xy, bf16, &a, k) + avz_taps_value(xz, bf16, &b, k) + avz_taps_value(third, bf16, &t, k)) / 3.0f;
    }
}

static inline __attribute__((always_inline)) const void *avz_plane_at(const void *planes, int bf16, long index, long stride) {
    return bf16 ? (const void *)((const uint16_t *)planes + index * stride) : (const void *)((const float *)planes + index * stride);
}

// The third plane is read at (z, x) as EG3D released it, or at (z, y) with the corrected axes of NVlabs/eg3d#67
// (`zy` nonzero), which models such as LPFF's were trained with.
static inline __attribute__((always_inline)) void avz_triplane(const void *planes, int bf16, long res, long channels,
                                                               const float *xyz, long n, int zy, float *out) {
    long stride = res * res * channels;
    const void *xy = planes, *xz = avz_plane_at(planes, bf16, 1, stride), *third = avz_plane_at(planes, bf16, 2, stride);
    for (long i = 0; i < n; i++) {
        float x = xyz[3 * i], y = xyz[3 * i + 1], z = xyz[3 * i + 2];
        if (channels == 32) avz_triplane_point(xy, xz, third, bf16, res, 32, x, y, z, zy, out + i * 32);
        else avz_triplane_point(xy, xz, third, bf16, res, channels, x, y, z, zy, out + i * channels);
    }
}

AVZ_KERNEL_BODY void avz_triplane_sample_body(const float *planes, long res, long channels, const float *xyz, long n, int zy, float *out) {
    avz_triplane(planes, 0, res, channels, xyz, n, zy, out);
}
AVZ_KERNEL(avz_triplane_sample, (const float *planes, long res, long channels, const float *xyz, long n, int zy, float *out),
           (planes, res, channels, xyz, n, zy, out))

AVZ_KERNEL_BODY void avz_triplane_sample_bf16_body(const uint16_t *planes, long res, long channels, const float *xyz, long n, int zy, float *out) {
    avz_triplane(planes, 1, res, channels, xyz, n, zy, out);
}
AVZ_KERNEL(avz_triplane_sample_bf16, (const uint16_t *planes, long res, long channels, const float *xyz, long n, int zy, float *out),
           (planes, res, channels, xyz, n, zy, out))

// Points o + z·d along rays, scaled into the planes' coordinates, sampled as avz_triplane does. Point p of
// the block is on ray p / per_ray at depth depths[(p / per_ray) · depth_stride + p % per_ray] (a stride of 0:
// every ray shares one depth list). Products and sums are kept apart (no FMA), as the reference computes them.
static inline __attribute__((always_inline)) void avz_ray_points(const void *planes, int bf16, long res, long channels, int zy,
                                                                 const float *origins, const float *directions, float scale,
                                                                 const float *depths, long depth_stride, long per_ray,
                                                                 long p0, long n, float *out) {
    long stride = res * res * channels;
    const void *xy = planes, *xz = avz_plane_at(planes, bf16, 1, stride), *third = avz_plane_at(planes, bf16, 2, stride);
    for (long i = 0; i < n; i++) {
        long p = p0 + i, r = p / per_ray, k = p % per_ray;
        float xyz[3];
        {
#pragma clang fp contract(off)
            float z = depths[r * depth_stride + k];
            for (int a = 0; a < 3; a++) xyz[a] = (origins[3 * r + a] + z * directions[3 * r + a]) * scale;
        }
        if (channels == 32) avz_triplane_point(xy, xz, third, bf16, res, 32, xyz[0], xyz[1], xyz[2], zy, out + i * 32);
        else avz_triplane_point(xy, xz, third, bf16, res, channels, xyz[0], xyz[1], xyz[2], zy, out + i * channels);
    }
}

AVZ_KERNEL_BODY void avz_ray_sample_body(const float *planes, long res, long channels, int zy, const float *origins,
                                         const float *directions, float scale, const float *depths, long depth_stride,
                                         long per_ray, long p0, long n, float *out) {
    avz_ray_points(planes, 0, res, channels, zy, origins, directions, scale, depths, depth_stride, per_ray, p0, n, out);
}
AVZ_KERNEL(avz_ray_sample, (const float *planes, long res, long channels, int zy, const float *origins, const float *directions,
                            float scale, const float *depths, long depth_stride, long per_ray, long p0, long n, float *out),
           (planes, res, channels, zy, origins, directions, scale, depths, depth_stride, per_ray, p0, n, out))

AVZ_KERNEL_BODY void avz_ray_sample_bf16_body(const uint16_t *planes, long res, long channels, int zy, const float *origins,
                                              const float *directions, float scale, const float *depths, long depth_stride,
                                              long per_ray, long p0, long n, float *out) {
    avz_ray_points(planes, 1, res, channels, zy, origins, directions, scale, depths, depth_stride, per_ray, p0, n, out);
}
AVZ_KERNEL(avz_ray_sample_bf16, (const uint16_t *planes, long res, long channels, int zy, const float *origins, const float *directions,
                                 float scale, const float *depths, long depth_stride, long per_ray, long p0, long n, float *out),
           (planes, res, channels, zy, origins, directions, scale, depths, depth_stride, per_ray, p0, n, out))

#if defined(__GLIBC__)
#include <malloc.h>
void avz_keep_freed_memory(void) {
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 0x7fffffff);
}
void avz_return_freed_memory(void) { malloc_trim(0); }
#else
void avz_keep_freed_memory(void) {}
void avz_return_freed_memory(void) {}
#endif

// Large tables read at random (the renderer's tri-planes: 25 MB a frame in fp32, 12.5 MB in bf16, at full
// size) on transparent huge pages: with 4 KB pages every depth step along a ray reads new pages and the TLB
// misses dominate the lookup. A fresh mapping, 2 MB-aligned and advised before it is touched, gets huge pages
// at its first faults (THP "madvise" mode, the common default); where THP is off it is an ordinary mapping.
#include <sys/mman.h>
#include <stdint.h>
static long avz_page_round(long bytes) { return (bytes + 4095) & ~4095L; }

void *avz_huge_map(long bytes) {
    const long huge = 2L << 20;
    long length = avz_page_round(bytes > 0 ? bytes : 1), total = length + huge;
    char *base = mmap(NULL, (size_t)total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return NULL;
    char *aligned = (char *)(((uintptr_t)base + (uintptr_t)huge - 1) & ~((uintptr_t)huge - 1));
    if (aligned > base) munmap(base, (size_t)(aligned - base));
    long tail = (long)((base + total) - (aligned + length));
    if (tail > 0) munmap(aligned + length, (size_t)tail);
#ifdef MADV_HUGEPAGE
    madvise(aligned, (size_t)length, MADV_HUGEPAGE);
#endif
    return aligned;
}

void avz_huge_unmap(void *p, long bytes) {
    if (p) munmap(p, (size_t)avz_page_round(bytes > 0 ? bytes : 1));
}
