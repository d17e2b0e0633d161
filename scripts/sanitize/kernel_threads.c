// ThreadSanitizer harness for CKernels' shared state: many threads at once run the variant dispatch, the
// oneDNN wrapper (engine made once, a stream and buffers per thread, freed by the key's destructor when
// each thread ends, the shape cache behind its lock) and the element-wise kernels, while one thread
// switches variants. scripts/sanitize.sh builds it with -fsanitize=thread (then with address) and runs it.
#include "ckernels.h"
#include "dnnl_gemm.h"
#include "kernel_variants.h"
#include <math.h>
#include <string.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum { THREADS = 8, ROUNDS = 40 };

static float rnd(unsigned *s) { *s = *s * 1664525u + 1013904223u; return (float)(*s >> 8) / (1 << 24) - 0.5f; }

static int failures;
static pthread_mutex_t failures_lock = PTHREAD_MUTEX_INITIALIZER;
static void fail(const char *what) {
    pthread_mutex_lock(&failures_lock);
    failures++;
    fprintf(stderr, "kernel_threads: %s\n", what);
    pthread_mutex_unlock(&failures_lock);
}

static void *worker(void *arg) {
    unsigned seed = (unsigned)(long)arg * 7919u + 1;
    for (int round = 0; round < ROUNDS; round++) {
        // Shapes vary per thread and round so the primitive cache is filled and read concurrently.
        long m = 3 + (seed + round) % 13, n = 5 + round % 7, k = 4 + (long)(arg) % 9;
        float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n), *c = malloc(sizeof(float) * m * n);
        for (long i = 0; i < m * k; i++) a[i] = rnd(&seed);
        for (long i = 0; i < k * n; i++) b[i] = rnd(&seed);
        if (avz_dnnl_gemm(0, 0, 0, m, n, k, a, k, b, n, 0, c, n) == 0) {
            for (long i = 0; i < m; i++)
                for (long j = 0; j < n; j++) {
                    double s = 0;
                    for (long t = 0; t < k; t++) s += (double)a[i * k + t] * b[t * n + j];
                    if (fabs(s - c[i * n + j]) > 1e-4) { fail("gemm differs from the reference"); i = m; break; }
                }
        }
        float bias[17];
        for (int j = 0; j < 17; j++) bias[j] = rnd(&seed);
        avz_softplus_bias_rows(c, bias, 1, n < 17 ? n : 17);
        avz_bias_act(a, m, k, NULL, NULL, 0.2f, 1.41421356f, 256.0f);
        free(a); free(b); free(c);

        // The renderer's lookup along rays, on planes in huge-page mappings: points inside, outside and NaN.
        long res = 5, ch = (round & 1) ? 32 : 3, per_ray = 4, rays = 3, count = 3 * res * res * ch;
        float *planes = avz_huge_map(sizeof(float) * count);
        unsigned short *planes16 = avz_huge_map(sizeof(unsigned short) * count);
        if (!planes || !planes16) { fail("huge-page mapping failed"); return NULL; }
        for (long i = 0; i < count; i++) {
            planes[i] = rnd(&seed);
            unsigned bits;
            memcpy(&bits, &planes[i], 4);
            planes16[i] = (unsigned short)(bits >> 16);
        }
        float origins[9], directions[9], depths[12], out[12 * 32], out16[12 * 32];
        for (int i = 0; i < 9; i++) { origins[i] = 0.2f * rnd(&seed); directions[i] = i >= 6 ? NAN : rnd(&seed); }
        for (int i = 0; i < 12; i++) depths[i] = 0.8f + rnd(&seed);
        int zy = (round & 2) != 0;
        // Points 1 … 11: a block that starts inside a ray; the last ray (points 8 … 11) has NaN directions.
        avz_ray_sample(planes, res, ch, zy, origins, directions, 1.5f, depths, per_ray, per_ray, 1, rays * per_ray - 1, out);
        avz_ray_sample_bf16(planes16, res, ch, zy, origins, directions, 1.5f, depths, per_ray, per_ray, 1, rays * per_ray - 1, out16);
        for (long p = 1; p < rays * per_ray; p++)
            for (long j = 0; j < ch; j++) {
                float v = out[(p - 1) * ch + j], v16 = out16[(p - 1) * ch + j];
                if (p >= 8 ? (v != 0 || v16 != 0) : (!isfinite(v) || !isfinite(v16) || fabsf(v - v16) > 0.02f)) {
                    fail("ray lookup: a NaN point not zero, or fp32 and bf16 apart"); p = rays * per_ray; break;
                }
            }
        avz_huge_unmap(planes, sizeof(float) * count);
        avz_huge_unmap(planes16, sizeof(unsigned short) * count);
    }
    return NULL;
}

static void *switcher(void *arg) {
    (void)arg;
    for (int round = 0; round < ROUNDS * 4; round++) avz_kernels_select(round % (avz_kernels_best() + 1));
    return NULL;
}

int main(void) {
    // Two waves: threads that end free their per-thread oneDNN state, and new ones make theirs.
    for (int wave = 0; wave < 2; wave++) {
        pthread_t t[THREADS + 1];
        for (long i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, (void *)(i + 100 * wave));
        pthread_create(&t[THREADS], NULL, switcher, NULL);
        for (int i = 0; i <= THREADS; i++) pthread_join(t[i], NULL);
    }
    printf("kernel_threads: %d threads x %d rounds x 2 waves, best variant %s, %d failures\n", THREADS, ROUNDS,
           avz_kernels_name(avz_kernels_best()), failures);
    return failures != 0;
}
