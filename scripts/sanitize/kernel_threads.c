// ThreadSanitizer harness for CKernels' shared state: many threads at once run the variant dispatch, the
// oneDNN wrapper (engine made once, a stream and buffers per thread, freed by the key's destructor when
// each thread ends, the shape cache behind its lock) and the element-wise kernels, while one thread
// switches variants. scripts/sanitize.sh builds it with -fsanitize=thread (then with address) and runs it.
#include "ckernels.h"
#include "dnnl_gemm.h"
#include "kernel_variants.h"
#include <math.h>
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
