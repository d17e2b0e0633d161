// Hot loops in C, so they can be compiled for AVX-512 and AVX2 + FMA as well as for the
// baseline x86-64 the Swift modules target; kernel_variants.h picks the version that runs (an explicit
// table, see multiversion.h). Same arithmetic as Tensors' Pointwise and GridSample, up to FMA contraction.
#pragma once

/// x[r][j] = softplus(x[r][j] + bias[j]) (beta 1, threshold 20) for rows × cols, row-major.
void avz_softplus_bias_rows(float *x, const float *bias, long rows, long cols);

/// The OSG decoder's output activation on rows × cols: column 0 gets bias[0] added (raw density); every
/// other column becomes sigmoid(x + bias) · scale + shift.
void avz_sigmoid_bias_rows(float *x, const float *bias, long rows, long cols, float scale, float shift);

/// Mean of bilinear samples of three channels-last planes [3][res][res][channels] at n points given as
/// normalised coordinates (x, y, z) (grid_sample semantics: align_corners false, zeros outside). Planes
/// are read at (x, y), (x, z) and (z, x) as (width, height). out: [n][channels].
void avz_triplane_sample(const float *planes, long res, long channels, const float *xyz, long n, int zy, float *out);
/// avz_triplane_sample on planes stored as bfloat16 bit patterns.
void avz_triplane_sample_bf16(const unsigned short *planes, long res, long channels, const float *xyz, long n, int zy, float *out);

/// The renderer's lookup for a block of points along rays: point p0 + i is on ray r = (p0 + i) / per_ray at depth
/// depths[r · depth_stride + (p0 + i) % per_ray] (stride 0: one depth list for every ray), at (origin + depth ·
/// direction) · scale, sampled as avz_triplane_sample does. out: [n][channels].
void avz_ray_sample(const float *planes, long res, long channels, int zy, const float *origins, const float *directions,
                    float scale, const float *depths, long depth_stride, long per_ray, long p0, long n, float *out);
/// avz_ray_sample on planes stored as bfloat16 bit patterns.
void avz_ray_sample_bf16(const unsigned short *planes, long res, long channels, int zy, const float *origins,
                         const float *directions, float scale, const float *depths, long depth_stride, long per_ray,
                         long p0, long n, float *out);

/// A fresh anonymous mapping of at least `bytes`, 2 MB-aligned and advised for transparent huge pages before
/// anything touches it (tables read at random: the TLB, not the caches, limited the lookups). NULL if the
/// mapping fails. Release with avz_huge_unmap(p, bytes).
void *avz_huge_map(long bytes);
void avz_huge_unmap(void *p, long bytes);

/// Whether avz_bf16_linear runs here: avz_cpu_has_bf16().
int avz_bf16_linear_available(void);
/// bf16 values avz_bf16_linear_pack writes for a weight [out][in].
long avz_bf16_linear_packed_count(long out, long in);
/// Packs a float weight [out][in] (row-major) for avz_bf16_linear: [in/2][out padded to 16][2], rounded to bf16.
void avz_bf16_linear_pack(const float *w, long out, long in, unsigned short *dst);
/// y[r][j] = Σ_k x[r][k] · w[j][k] for n rows (x dense [n][in], y with leading dimension ldy), both operands
/// rounded to bf16 and summed in float32. Returns 0 (and writes nothing) where the CPU lacks AVX512_BF16
/// or in > 512.
int avz_bf16_linear(const float *x, long n, long in, const unsigned short *packed, long out, float *y, long ldy);

/// Winograd F(4×4, 3×3) input transform of one channel plane src [h][w] (times sc) for tile rows
/// ty0 ..< ty0 + rows: V[6i + j] rows at v + (6i + j)·point_stride + r·(w/4), or as bf16 at v16 when it is
/// not null. scratch holds avz_winograd_f4_input_scratch(w) floats. (WinogradF4.swift documents the layout.)
long avz_winograd_f4_input_scratch(long w);
void avz_winograd_f4_input(const float *src, long h, long w, long ty0, long rows, float sc,
                           float *scratch, float *v, unsigned short *v16, long point_stride);
/// The output transform of one output channel: M rows at m + ξ·point_stride + r·(w/4) → dst (already at
/// the channel's plane and phase offset), every `up`-th pixel of rows out_w wide, times sc. scratch holds
/// avz_winograd_f4_output_scratch(w) floats.
long avz_winograd_f4_output_scratch(long w);
void avz_winograd_f4_output(const float *m, long point_stride, long w, long ty0, long rows, float sc,
                            long up, long out_w, float *scratch, float *dst);

/// x[c][i] = clamp(lrelu((x[c][i] + noise[i]) + bias[c]) · gain, ±lim) for `channels` rows of `count`: StyleGAN2's
/// bias_act for a synthesis layer. noise and bias may be null (nothing added); slope 1 is linear; lim may be
/// infinity.
void avz_bias_act(float *x, long channels, long count, const float *bias, const float *noise, float slope,
                  float gain, float lim);

/// glibc: serve large blocks from the heap and never trim it, so freed planes are reused without page
/// faults (see Tensors' Allocator). No effect elsewhere.
void avz_keep_freed_memory(void);
/// glibc: hand the heap's free pages back to the kernel (malloc_trim), once, e.g. after a network is freed.
void avz_return_freed_memory(void);
