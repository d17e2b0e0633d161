#include "dnnl_gemm.h"
#include "kernel_variants.h"
#include <oneapi/dnnl/dnnl.h>
#include <dlfcn.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// ---- CPU features -------------------------------------------------------------------------------

int avz_cpu_has_bf16(void) { return avz_kernels_variant() >= AVZ_KERNELS_AVX512_BF16; }

// ---- float32 → bfloat16 ---------------------------------------------------------------------------

static inline uint16_t bf16_scalar(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7FFFFFFF) > 0x7F800000) return (uint16_t)((u >> 16) | 0x40);  // NaN stays NaN
    u += 0x7FFF + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

#if defined(__x86_64__)
__attribute__((target("avx512bf16,avx512f,avx512bw,avx512vl")))
static void to_bf16_avx512(const float *src, uint16_t *dst, long n) {
    long i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 lo = _mm512_loadu_ps(src + i), hi = _mm512_loadu_ps(src + i + 16);
        __m512bh v = _mm512_cvtne2ps_pbh(hi, lo);  // lanes 0–15 from the second operand
        _mm512_storeu_si512((void *)(dst + i), (__m512i)v);
    }
    for (; i < n; i++) dst[i] = bf16_scalar(src[i]);
}
#endif

void avz_to_bf16(const float *src, unsigned short *dst, long n) {
#if defined(__x86_64__)
    if (avz_cpu_has_bf16()) { to_bf16_avx512(src, dst, n); return; }
#endif
    for (long i = 0; i < n; i++) dst[i] = bf16_scalar(src[i]);
}

/// rows × cols of src (leading dimension ld) into dense bf16 rows.
static void to_bf16_block(const float *src, long rows, long cols, long ld, uint16_t *dst) {
    if (ld == cols) { avz_to_bf16(src, dst, rows * cols); return; }
    for (long r = 0; r < rows; r++) avz_to_bf16(src + r * ld, dst + r * cols, cols);
}

// ---- engine, per-thread state, primitive cache ------------------------------------------------------

static dnnl_engine_t engine;
static int engine_ok;
static void (*set_omp_threads)(int);
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
// Each calling thread's stream and staging buffers, freed by the key's destructor when the thread ends
// (Dispatch's pool retires idle threads, and each would otherwise leak its buffers).
static pthread_key_t state_key;
static int state_key_ok;

typedef struct {
    dnnl_stream_t stream;
    void *scratch; size_t scratch_size;
    uint16_t *abuf; size_t abuf_size;
    uint16_t *bbuf; size_t bbuf_size;
} thread_state_t;

static void free_thread_state(void *p) {
    thread_state_t *s = p;
    if (!s) return;
    if (s->stream) dnnl_stream_destroy(s->stream);
    free(s->scratch); free(s->abuf); free(s->bbuf);
    free(s);
}

// oneDNN's own ISA dispatch follows $AVATARIZE_KERNELS too, so a forced variant covers its kernels
// (dnnl_set_max_cpu_isa only takes effect before the first primitive).
static void cap_dnnl_isa(void) {
    int want = avz_kernels_requested();
    if (want < 0) return;
    static const dnnl_cpu_isa_t isa[AVZ_KERNELS_COUNT] = {dnnl_cpu_isa_sse41, dnnl_cpu_isa_avx2, dnnl_cpu_isa_avx512_core,
                                                          dnnl_cpu_isa_avx512_core_bf16};
    dnnl_set_max_cpu_isa(isa[want]);
}

static void make_engine(void) {
    // Debian's oneDNN runs on libgomp; each calling thread asks it for one thread (see thread_state).
    set_omp_threads = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    cap_dnnl_isa();
    state_key_ok = pthread_key_create(&state_key, free_thread_state) == 0;
    engine_ok = state_key_ok && dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success;
}

int avz_dnnl_available(void) {
    pthread_once(&engine_once, make_engine);
    return engine_ok;
}

static thread_state_t *thread_state(void) {
    thread_state_t *s = pthread_getspecific(state_key);
    if (s) return s;
    s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (set_omp_threads) set_omp_threads(1);  // this thread's OpenMP regions run on itself alone
    if (dnnl_stream_create(&s->stream, engine, dnnl_stream_default_flags) != dnnl_success) { free(s); return NULL; }
    if (pthread_setspecific(state_key, s) != 0) { free_thread_state(s); return NULL; }
    return s;
}

static void *grow(void **buf, size_t *size, size_t need) {
    if (need <= *size) return *buf;
    void *p = realloc(*buf, need);
    if (!p) return NULL;
    *buf = p; *size = need;
    return p;
}

typedef struct { long m, n, k, lda, ldb, ldc; int bf16, ta, tb, acc; } shape_key_t;
typedef struct { shape_key_t key; dnnl_primitive_t prim; dnnl_memory_desc_t a, b, c; size_t scratch; } entry_t;

enum { CACHE_CAP = 1024 };
static entry_t cache[CACHE_CAP];
static int cache_count;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int same(const shape_key_t *x, const shape_key_t *y) { return memcmp(x, y, sizeof *x) == 0; }

static const entry_t *lookup(const shape_key_t *key) {
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; i < cache_count; i++) {
        if (same(&cache[i].key, key)) { const entry_t *e = &cache[i]; pthread_mutex_unlock(&cache_lock); return e; }
    }
    if (cache_count == CACHE_CAP) { pthread_mutex_unlock(&cache_lock); return NULL; }  // full: OpenBLAS serves
    entry_t e;
    memset(&e, 0, sizeof e);
    e.key = *key;
    dnnl_data_type_t dt = key->bf16 ? dnnl_bf16 : dnnl_f32;
    // bf16 operands are packed densely by the caller; f32 ones are read in place with their strides.
    dnnl_dims_t ad = {key->m, key->k}, bd = {key->k, key->n}, cd = {key->m, key->n};
    long lda = key->bf16 ? (key->ta ? key->m : key->k) : key->lda;
    long ldb = key->bf16 ? (key->tb ? key->k : key->n) : key->ldb;
    dnnl_dims_t as = {key->ta ? 1 : lda, key->ta ? lda : 1};
    dnnl_dims_t bs = {key->tb ? 1 : ldb, key->tb ? ldb : 1};
    dnnl_dims_t cs = {key->ldc, 1};
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    dnnl_primitive_desc_t pd = NULL;
    int ok = dnnl_memory_desc_init_by_strides(&e.a, 2, ad, dt, as) == dnnl_success
        && dnnl_memory_desc_init_by_strides(&e.b, 2, bd, dt, bs) == dnnl_success
        && dnnl_memory_desc_init_by_strides(&e.c, 2, cd, dnnl_f32, cs) == dnnl_success
        && dnnl_primitive_attr_create(&attr) == dnnl_success
        && dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) == dnnl_success;
    if (ok && key->acc) {
        ok = dnnl_post_ops_create(&ops) == dnnl_success && dnnl_post_ops_append_sum(ops, 1.0f) == dnnl_success
            && dnnl_primitive_attr_set_post_ops(attr, ops) == dnnl_success;
    }
    dnnl_matmul_desc_t md;
    ok = ok && dnnl_matmul_desc_init(&md, &e.a, &e.b, NULL, &e.c) == dnnl_success
        && dnnl_primitive_desc_create(&pd, &md, attr, engine, NULL) == dnnl_success;
    if (ok) {
        e.scratch = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0));
        ok = dnnl_primitive_create(&e.prim, pd) == dnnl_success;
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (ops) dnnl_post_ops_destroy(ops);
    if (attr) dnnl_primitive_attr_destroy(attr);
    const entry_t *result = NULL;
    if (ok) {
        cache[cache_count] = e;
        result = &cache[cache_count++];
    } else if (e.prim) {
        dnnl_primitive_destroy(e.prim);
    }
    pthread_mutex_unlock(&cache_lock);
    return result;
}

/// Runs a cached primitive on operands already in its layout.
static int execute(thread_state_t *s, const entry_t *e, const void *ap, const void *bp, float *c);

int avz_dnnl_gemm(int bf16, int ta, int tb, long m, long n, long k,
                  const float *a, long lda, const float *b, long ldb,
                  int accumulate, float *c, long ldc) {
    if (!avz_dnnl_available() || m <= 0 || n <= 0 || k <= 0) return 1;
    if (bf16 && !avz_cpu_has_bf16()) return 2;
    thread_state_t *s = thread_state();
    if (!s) return 3;
    shape_key_t key = {m, n, k, bf16 ? 0 : lda, bf16 ? 0 : ldb, ldc, bf16 != 0, ta != 0, tb != 0, accumulate != 0};
    const entry_t *e = lookup(&key);
    if (!e) return 4;
    const void *ap = a, *bp = b;
    if (bf16) {
        size_t an = (size_t)m * k * 2, bn = (size_t)k * n * 2;
        if (!grow((void **)&s->abuf, &s->abuf_size, an) || !grow((void **)&s->bbuf, &s->bbuf_size, bn)) return 5;
        if (ta) to_bf16_block(a, k, m, lda, s->abuf); else to_bf16_block(a, m, k, lda, s->abuf);
        if (tb) to_bf16_block(b, n, k, ldb, s->bbuf); else to_bf16_block(b, k, n, ldb, s->bbuf);
        ap = s->abuf; bp = s->bbuf;
    }
    return execute(s, e, ap, bp, c);
}

int avz_dnnl_gemm_bf16_packed(long m, long n, long k, const unsigned short *a,
                              const float *b, long ldb, int accumulate, float *c, long ldc) {
    if (!avz_dnnl_available() || m <= 0 || n <= 0 || k <= 0) return 1;
    if (!avz_cpu_has_bf16()) return 2;
    thread_state_t *s = thread_state();
    if (!s) return 3;
    shape_key_t key = {m, n, k, 0, 0, ldc, 1, 0, 0, accumulate != 0};
    const entry_t *e = lookup(&key);
    if (!e) return 4;
    if (!grow((void **)&s->bbuf, &s->bbuf_size, (size_t)k * n * 2)) return 5;
    to_bf16_block(b, k, n, ldb, s->bbuf);
    return execute(s, e, a, s->bbuf, c);
}

int avz_dnnl_gemm_bf16_both(long m, long n, long k, const unsigned short *a, const unsigned short *b,
                            float *c, long ldc) {
    if (!avz_dnnl_available() || m <= 0 || n <= 0 || k <= 0) return 1;
    if (!avz_cpu_has_bf16()) return 2;
    thread_state_t *s = thread_state();
    if (!s) return 3;
    shape_key_t key = {m, n, k, 0, 0, ldc, 1, 0, 0, 0};
    const entry_t *e = lookup(&key);
    if (!e) return 4;
    return execute(s, e, a, b, c);
}

static int execute(thread_state_t *s, const entry_t *e, const void *ap, const void *bp, float *c) {
    if (e->scratch && !grow(&s->scratch, &s->scratch_size, e->scratch)) return 5;
    dnnl_memory_t am = NULL, bm = NULL, cm = NULL, sm = NULL;
    int rc = 6;
    if (dnnl_memory_create(&am, &e->a, engine, (void *)ap) == dnnl_success
        && dnnl_memory_create(&bm, &e->b, engine, (void *)bp) == dnnl_success
        && dnnl_memory_create(&cm, &e->c, engine, c) == dnnl_success) {
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}, {DNNL_ARG_SCRATCHPAD, NULL}};
        int nargs = 3;
        if (e->scratch) {
            const dnnl_memory_desc_t *smd;
            dnnl_memory_desc_t flat;
            dnnl_dims_t sd = {(dnnl_dim_t)e->scratch};
            dnnl_memory_desc_init_by_tag(&flat, 1, sd, dnnl_u8, dnnl_a);
            smd = &flat;
            if (dnnl_memory_create(&sm, smd, engine, s->scratch) == dnnl_success) { args[3].memory = sm; nargs = 4; }
        }
        if ((!e->scratch || sm) && dnnl_primitive_execute(e->prim, s->stream, nargs, args) == dnnl_success
            && dnnl_stream_wait(s->stream) == dnnl_success) rc = 0;
    }
    if (am) dnnl_memory_destroy(am);
    if (bm) dnnl_memory_destroy(bm);
    if (cm) dnnl_memory_destroy(cm);
    if (sm) dnnl_memory_destroy(sm);
    return rc;
}
