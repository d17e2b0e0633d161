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

// Adds w × plane[y][x][0..<c] into acc when (x, y) is inside the plane.
static inline __attribute__((always_inline)) void avz_tap(const void *restrict plane, int bf16, long res, long c, long x, long y, float w, float *restrict acc) {
    if (x < 0 || x >= res || y < 0 || y >= res) return;
    long base = (y * res + x) * c;
    for (long k = 0; k < c; k++) acc[k] += avz_plane_value(plane, base + k, bf16) * w;
}

static inline __attribute__((always_inline)) void avz_bilinear(const void *plane, int bf16, long res, long c, float gx, float gy, float *acc) {
    float ix = ((gx + 1.0f) * (float)res - 1.0f) / 2.0f;
    float iy = ((gy + 1.0f) * (float)res - 1.0f) / 2.0f;
    float fx = floorf(ix), fy = floorf(iy);
    if (!isfinite(fx) || !isfinite(fy)) return;
    long x0 = (long)fx, y0 = (long)fy;
    float wx1 = ix - fx, wx0 = (float)(x0 + 1) - ix;
    float wy1 = iy - fy, wy0 = (float)(y0 + 1) - iy;
    avz_tap(plane, bf16, res, c, x0, y0, wx0 * wy0, acc);
    avz_tap(plane, bf16, res, c, x0 + 1, y0, wx1 * wy0, acc);
    avz_tap(plane, bf16, res, c, x0, y0 + 1, wx0 * wy1, acc);
    avz_tap(plane, bf16, res, c, x0 + 1, y0 + 1, wx1 * wy1, acc);
}

// The third plane is read at (z, x) as EG3D released it, or at (z, y) with the corrected axes of NVlabs/eg3d#67
// (`zy` nonzero), which models such as LPFF's were trained with.
static inline __attribute__((always_inline)) void avz_triplane(const void *planes, int bf16, long res, long channels,
                                                               const float *xyz, long n, int zy, float *out) {
    long stride = res * res * channels;
    const void *xy = planes;
    const void *xz = bf16 ? (const void *)((const uint16_t *)planes + stride) : (const void *)((const float *)planes + stride);
    const void *third = bf16 ? (const void *)((const uint16_t *)planes + 2 * stride) : (const void *)((const float *)planes + 2 * stride);
    for (long i = 0; i < n; i++) {
        float x = xyz[3 * i], y = xyz[3 * i + 1], z = xyz[3 * i + 2];
        float *acc = out + i * channels;
        for (long k = 0; k < channels; k++) acc[k] = 0;
        avz_bilinear(xy, bf16, res, channels, x, y, acc);
        avz_bilinear(xz, bf16, res, channels, x, z, acc);
        avz_bilinear(third, bf16, res, channels, z, zy ? y : x, acc);
        for (long k = 0; k < channels; k++) acc[k] /= 3.0f;
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
