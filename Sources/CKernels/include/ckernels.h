// Inner loops of the volume renderer in C, so they can be compiled for AVX2 + FMA as well as for the
// baseline x86-64 the Swift modules target; the loader picks the version this CPU runs (function
// multiversioning). Same arithmetic as Tensors' Pointwise and GridSample, up to FMA contraction.
#pragma once

/// x[r][j] = softplus(x[r][j] + bias[j]) (beta 1, threshold 20) for rows × cols, row-major.
void avz_softplus_bias_rows(float *x, const float *bias, long rows, long cols);

/// The OSG decoder's output activation on rows × cols: column 0 gets bias[0] added (raw density); every
/// other column becomes sigmoid(x + bias) · scale + shift.
void avz_sigmoid_bias_rows(float *x, const float *bias, long rows, long cols, float scale, float shift);

/// Mean of bilinear samples of three channels-last planes [3][res][res][channels] at n points given as
/// normalised coordinates (x, y, z) (grid_sample semantics: align_corners false, zeros outside). Planes
/// are read at (x, y), (x, z) and (z, x) as (width, height). out: [n][channels].
void avz_triplane_sample(const float *planes, long res, long channels, const float *xyz, long n, float *out);

/// glibc: serve large blocks from the heap and never trim it, so freed planes are reused without page
/// faults (see Tensors' Allocator). No effect elsewhere.
void avz_keep_freed_memory(void);
/// glibc: hand the heap's free pages back to the kernel (malloc_trim), once, e.g. after a network is freed.
void avz_return_freed_memory(void);
