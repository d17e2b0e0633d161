// Matrix products through oneDNN's matmul primitive (Debian's libdnnl), on the calling thread only:
// like OpenBLAS, oneDNN is kept single-threaded and Tensors' Dispatch pool splits the work, so no
// OpenMP team spins between calls. Primitives are made once per shape and kept.
#pragma once

/// 1 when the kernel variant in use (kernel_variants.h) has AVX512_BF16: the CPU and OS run it and
/// $AVATARIZE_KERNELS or a test did not ask for a lower variant. AMX-BF16 alone does not count.
int avz_cpu_has_bf16(void);

/// 1 once oneDNN's CPU engine could be created (0: use OpenBLAS).
int avz_dnnl_available(void);

/// C[m×n] (= or +=) op(A)·op(B), row-major with leading dimensions; op transposes when ta / tb is set.
/// bf16 ≠ 0: A and B are rounded to bfloat16 (nearest even) and multiplied with float32 accumulation;
/// needs avz_cpu_has_bf16(). accumulate ≠ 0 adds to C (beta 1), else overwrites it (beta 0).
/// Returns 0 on success; non-zero when oneDNN refused the shape (C is then untouched).
int avz_dnnl_gemm(int bf16, int ta, int tb, long m, long n, long k,
                  const float *a, long lda, const float *b, long ldb,
                  int accumulate, float *c, long ldc);

/// avz_dnnl_gemm in bf16 with A already in bf16: a dense row-major m×k block of bit patterns (weights
/// converted once at load), B float32 (rounded here). Same return codes.
int avz_dnnl_gemm_bf16_packed(long m, long n, long k, const unsigned short *a,
                              const float *b, long ldb, int accumulate, float *c, long ldc);

/// avz_dnnl_gemm in bf16 with both operands already bf16: A dense m×k, B dense k×n (row-major).
int avz_dnnl_gemm_bf16_both(long m, long n, long k, const unsigned short *a, const unsigned short *b,
                            float *c, long ldc);

/// dst[i] = bfloat16(src[i]) rounded to nearest even, as 16-bit patterns.
void avz_to_bf16(const float *src, unsigned short *dst, long n);
