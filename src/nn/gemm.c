/* gemm.c - gemm.h: the kernel-path choice, B packing, and the threaded driver that cuts C
 * into row bands (blocks of kern->mc rows, in order: with the pool's contiguous lanes, a
 * thread computes the same rows in consecutive layers, docs/DESIGN.md) and, when there are
 * too few bands for the threads, also into ranges of column panels.
 * Scratch: none, except when C is the residual and K has several K blocks (the partial sums
 * then go to a per-slot buffer of mc x N floats from the conv scratch free list, or the
 * process-wide reserve that packing made sure of).
 * Thread-safety: packed B objects are immutable; everything here is reentrant. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "nn/conv_plan_internal.h"
#include "nn/gemm_internal.h"

/* Below this many multiply-adds (about 9 us on one core at 90 GFLOP/s) a call stays on the
 * calling thread: a pool job's hand-off and join cost microseconds, and a sleeping worker's
 * wake-up through the hypervisor 10-50 us (docs/DESIGN.md). */
#define GEMM_SERIAL_MACS 400000.0

/* The kernel path a new packed B gets: the one place the choice is made (the process default
 * of cpu.h / nn_options.h). Returns -1 when the request is not a known path. */
static int gemm_requested_isa(enh_isa *out)
{
    return enh_cpu_requested_isa(out);
}

/* The kernel for a supported path and N (NULL = the reference): panels no wider than needed
 * (8 for N <= 8, 16 up to 16), AVX-512 for wider N on CPUs that have it. */
static const enh_gemm_kern *kern_for(enh_isa isa, int n)
{
    switch (isa) {
    case ENH_ISA_AVX512:
        if (n > 16)
            return &enh_gemm_kern_avx512;
        /* fall through */
    case ENH_ISA_AVX2: return n <= 8 ? &enh_gemm_kern_avx2n : &enh_gemm_kern_avx2;
    case ENH_ISA_PORTABLE: return &enh_gemm_kern_portable;
    default: return NULL;
    }
}

const char *enh_gemm_kernel_name(void)
{
    enh_isa isa;
    if (gemm_requested_isa(&isa) != 0 || isa == ENH_ISA_AUTO || !enh_cpu_isa_supported(isa))
        isa = enh_cpu_best_isa();
    const enh_gemm_kern *k = kern_for(isa, 64);
    return k ? k->name : "ref";
}

enh_status enh_gemm_pack_b(const float *b, int k, int n, int ldb, const float *bias, enh_gemm_b **out,
                           enh_error *err)
{
    enh_isa isa;
    *out = NULL;
    if (gemm_requested_isa(&isa) != 0)
        return enh_fail(err, ENH_EINVAL,
                        "gemm: the requested kernel path is unknown (use ref, portable, avx2, avx512 or auto)");
    return enh_gemm_pack_b_isa(b, k, n, ldb, bias, isa, out, err);
}

static size_t cbuf_floats(const enh_gemm_b *B, int panels)
{
    return B->kern && B->k > B->kc ? (size_t)B->kern->mc * panels * B->kern->nr : 0;
}

enh_status enh_gemm_pack_b_isa(const float *b, int k, int n, int ldb, const float *bias, enh_isa isa,
                               enh_gemm_b **out, enh_error *err)
{
    *out = NULL;
    if (!b || k < 1 || n < 1 || ldb < n)
        return enh_fail(err, ENH_EINVAL, "gemm: B must be a K x N matrix with K, N >= 1 and row stride >= N "
                                         "(got K=%d N=%d ldb=%d)", k, n, ldb);
    if (isa == ENH_ISA_AUTO)
        isa = enh_cpu_best_isa();
    if (!enh_cpu_isa_supported(isa))
        return enh_fail(err, ENH_EUNSUPPORTED, "gemm: this CPU cannot run the %s kernels (choose the kernel path "
                                               "auto)", enh_isa_name(isa));
    enh_gemm_b *B = calloc(1, sizeof *B);
    if (!B)
        return enh_fail(err, ENH_ENOMEM, "gemm: out of memory");
    B->k = k, B->n = n;
    B->kern = kern_for(isa, n);
    const int nr = B->kern ? B->kern->nr : 1;
    B->ldp = (n + nr - 1) / nr * nr;
    B->kc = B->kern ? B->kern->kc : k;
    B->packed = enh_alloc((size_t)k * B->ldp * sizeof(float));
    B->bias = bias ? enh_calloc((size_t)B->ldp, sizeof(float)) : NULL;
    if (!B->packed || (bias && !B->bias) || !enh_conv_reserve_ensure(cbuf_floats(B, B->ldp / nr) + 1)) {
        enh_gemm_b_free(B);
        return enh_fail(err, ENH_ENOMEM, "gemm: out of memory packing a %d x %d matrix", k, n);
    }
    if (bias)
        memcpy(B->bias, bias, (size_t)n * sizeof(float));
    float *dst = B->packed;
    if (!B->kern) { /* the reference path keeps B as it is */
        for (int kk = 0; kk < k; kk++)
            memcpy(dst + (size_t)kk * n, b + (size_t)kk * ldb, (size_t)n * sizeof(float));
        *out = B;
        return ENH_OK;
    }
    for (int pc = 0; pc < k; pc += B->kc) {
        const int kb = k - pc < B->kc ? k - pc : B->kc;
        for (int col0 = 0; col0 < B->ldp; col0 += nr)
            for (int kk = 0; kk < kb; kk++) {
                const float *src = b + (size_t)(pc + kk) * ldb;
                for (int c = col0; c < col0 + nr; c++)
                    *dst++ = c < n ? src[c] : 0.0f;
            }
    }
    *out = B;
    return ENH_OK;
}

void enh_gemm_b_free(enh_gemm_b *b)
{
    if (!b)
        return;
    enh_free(b->packed);
    enh_free(b->bias);
    free(b);
}

int enh_gemm_b_k(const enh_gemm_b *b) { return b->k; }
int enh_gemm_b_n(const enh_gemm_b *b) { return b->n; }
const char *enh_gemm_b_kernel(const enh_gemm_b *b) { return b->kern ? b->kern->name : "ref"; }

/* ---- the threaded driver */
typedef struct {
    const enh_gemm_b *b;
    const float *a;
    int m, lda, ldc;
    float *c;
    const enh_gemm_epi *epi;
    int rows;   /* rows per chunk */
    int nnr;    /* column ranges per row band */
    int per;    /* panels per column range */
    float **scr; /* per-slot partial-sum buffers, or NULL */
} run_ctx;

static void run_chunk(const run_ctx *r, size_t i, float *cbuf)
{
    const enh_gemm_b *B = r->b;
    const int r0 = (int)(i / (size_t)r->nnr) * r->rows, q = (int)(i % (size_t)r->nnr);
    const int m = r->m - r0 < r->rows ? r->m - r0 : r->rows;
    const enh_gemm_epi *e = r->epi;
    const float *res = e->residual ? e->residual + (size_t)r0 * e->ldr : NULL;
    if (!B->kern) {
        enh_gemm_epi el = *e;
        el.residual = res;
        enh_gemm_ref(r->a + (size_t)r0 * r->lda, m, B->k, r->lda, B->packed, B->n, B->n, B->bias,
                     r->c + (size_t)r0 * r->ldc, r->ldc, &el);
        return;
    }
    const int npan = B->ldp / B->kern->nr, j0 = q * r->per;
    enh_gemm_blk job = {.b = B, .a = r->a + (size_t)r0 * r->lda, .lda = r->lda, .m = m,
                        .c = r->c + (size_t)r0 * r->ldc, .ldc = r->ldc, .j0 = j0,
                        .j1 = j0 + r->per < npan ? j0 + r->per : npan, .act = (int)e->act,
                        .alpha = e->alpha, .res = res, .ldr = e->ldr, .cbuf = cbuf};
    B->kern->block(&job);
}

static void run_range(void *ctx, size_t begin, size_t end, int slot)
{
    const run_ctx *r = ctx;
    for (size_t i = begin; i < end; i++)
        run_chunk(r, i, r->scr ? r->scr[slot] : NULL);
}

void enh_gemm_run(const enh_gemm_b *b, const float *a, int m, int lda, float *c, int ldc,
                  const enh_gemm_epi *epi, enh_pool *pool)
{
    static const enh_gemm_epi none = {ENH_GEMM_ACT_NONE, 0.0f, NULL, 0};
    if (m <= 0)
        return;
    run_ctx r = {.b = b, .a = a, .m = m, .lda = lda, .ldc = ldc, .c = c, .epi = epi ? epi : &none};
    const int nt = pool ? enh_pool_threads(pool) : 1;
    const int serial = nt <= 1 || (double)m * b->k * b->ldp < GEMM_SERIAL_MACS;
    const int npan = b->kern ? b->ldp / b->kern->nr : 1;
    r.rows = b->kern ? b->kern->mc : 64;
    const int nmb = (m + r.rows - 1) / r.rows;
    /* too few row bands for the threads: also split the columns (4 chunks per thread) */
    r.nnr = 1;
    if (!serial && nmb < 4 * nt && b->kern) {
        int want = (4 * nt + nmb - 1) / nmb;
        r.nnr = want < npan ? want : npan;
    }
    r.per = (npan + r.nnr - 1) / r.nnr;
    r.nnr = (npan + r.per - 1) / r.per;
    const size_t nchunks = (size_t)nmb * r.nnr;
    /* partial sums must not overwrite the residual they will add */
    const size_t need = r.epi->residual == c ? cbuf_floats(b, r.per) : 0;

    const int nslots = serial || nchunks == 1 ? 1 : nt + 1;
    float *stack_bufs[17];
    float **bufs = NULL;
    int got = 0;
    if (need) {
        bufs = nslots <= 17 ? stack_bufs : malloc((size_t)nslots * sizeof *bufs);
        if (bufs)
            for (; got < nslots; got++)
                if (!(bufs[got] = enh_conv_scratch_acquire(need)))
                    break;
    }
    if (!need || got == nslots) {
        r.scr = bufs;
        if (nslots == 1)
            run_range(&r, 0, nchunks, 0);
        else
            enh_pool_run(pool, nchunks, 1, run_range, &r);
    }
    for (int i = 0; i < got; i++)
        enh_conv_scratch_release(bufs[i], need);
    if (bufs && bufs != stack_bufs)
        free(bufs);
    if (!need || got == nslots)
        return;
    /* out of memory: everything on this thread, in the reserve (packing made it large enough) */
    float *res = enh_conv_reserve_take();
    for (size_t i = 0; i < nchunks; i++)
        run_chunk(&r, i, res);
    enh_conv_reserve_give();
}
