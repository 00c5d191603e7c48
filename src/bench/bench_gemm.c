/* bench_gemm.c: `clunet bench`'s GEMM section: the device's SGEMM alone
 * (cu_cl_gemm_run, clunet/cl.h: CLBlast, or the panel GEMM of CPU
 * devices) on the GEMM shapes an im2col convolution of each layer has, for
 * one image, as the cl backend's convolution ops call it: the ceiling the
 * convolutions would reach if im2col, col2im and the bias were free. The
 * shapes come from cu_bench_gemm_shapes, which tests/bench_openblas.c also
 * uses, so OpenBLAS is timed on exactly the same products. Not here: the
 * convolutions themselves (src/bench.c), printing (src/cmd_bench.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_impl.h"
#include "clunet/cl.h"

int cu_bench_gemm_shapes(const struct cu_bench_layer *l, int first, struct cu_bench_gemm_shape out[3])
{
    int n = 0;
    if (l->k == 2) { /* 2x2 stride-2 transposed: as cl_ops_tconv.c, y columns (4 Cout x HWin) = W^T x */
        const int c4 = 4 * l->cout, hw = (l->side / 2) * (l->side / 2);
        out[n++] = (struct cu_bench_gemm_shape){"forward", 1, 0, c4, hw, l->cin, c4, hw, 0.0f};
        out[n++] = (struct cu_bench_gemm_shape){"dW", 0, 1, l->cin, c4, hw, hw, hw, 1.0f};
        if (!first)
            out[n++] = (struct cu_bench_gemm_shape){"dx", 0, 0, l->cin, hw, c4, c4, hw, 1.0f};
        return n;
    }
    /* k x k 'same': as cl_ops_conv.c, y = W col, dW += dy col^T, dcol = W^T dy (K = Cin k k) */
    const int kk = l->cin * l->k * l->k, hw = l->side * l->side;
    out[n++] = (struct cu_bench_gemm_shape){"forward", 0, 0, l->cout, hw, kk, kk, hw, 0.0f};
    out[n++] = (struct cu_bench_gemm_shape){"dW", 0, 1, l->cout, kk, hw, hw, hw, 1.0f};
    if (!first)
        out[n++] = (struct cu_bench_gemm_shape){"dx", 1, 0, kk, hw, l->cout, kk, hw, 0.0f};
    return n;
}

/* Median seconds of one GEMM of shape g (warm-up runs excluded), each call
 * followed by a device sync. */
static enum cu_status time_one(struct cu_backend *be, const struct cu_bench_opts *o,
                               const struct cu_bench_gemm_shape *g, double *t, double *med, struct cu_err *err)
{
    const int arows = g->trans_a ? g->k : g->m, brows = g->trans_b ? g->n : g->k;
    const size_t ws = cu_cl_gemm_workspace(be, g->trans_a, g->trans_b, g->m, g->n, g->k, g->lda, g->ldb);
    struct cu_tensor *a = NULL, *b = NULL, *c = NULL, *w = NULL;
    enum cu_status st = cu_bench_tensor_rand(be, (struct cu_shape){1, 1, arows, g->lda}, "GEMM A", 7, 0.1f, &a, err);
    if (!st)
        st = cu_bench_tensor_rand(be, (struct cu_shape){1, 1, brows, g->ldb}, "GEMM B", 8, 1.0f, &b, err);
    if (!st)
        st = cu_bench_tensor_rand(be, (struct cu_shape){1, 1, g->m, g->n}, "GEMM C", 9, 0.0f, &c, err);
    if (!st && ws)
        st = cu_tensor_new(be, (struct cu_shape){1, 1, 1, (int)ws}, "GEMM workspace", &w, err);
    for (int i = -o->warmup; !st && i < o->steps; i++) {
        double t0 = cu_bench_now();
        st = cu_cl_gemm_run(be, g->trans_a, g->trans_b, g->m, g->n, g->k, 1.0f, a, g->lda, b, g->ldb, g->beta, c, w,
                            g->what, err);
        if (!st)
            st = cu_backend_sync(be, err);
        if (i >= 0)
            t[i] = cu_bench_now() - t0;
    }
    if (!st)
        *med = cu_bench_stats(t, o->steps).med;
    cu_tensor_free(a);
    cu_tensor_free(b);
    cu_tensor_free(c);
    cu_tensor_free(w);
    return st;
}

/* Every layer's GEMMs with implementation j (already chosen). */
static enum cu_status time_impl(struct cu_backend *be, const struct cu_bench_opts *o, struct cu_bench_result *r,
                                int j, double *t, struct cu_err *err)
{
    enum cu_status st = CU_OK;
    for (int i = 0; !st && i < r->nlayers; i++) {
        struct cu_bench_layer *l = &r->layer[i];
        struct cu_bench_gemm_shape g[3];
        int n = cu_bench_gemm_shapes(l, i == 0, g);
        l->gemm_fwd_s[j] = l->gemm_bwd_s[j] = 0;
        for (int s = 0; !st && s < n; s++) {
            double med = 0;
            st = time_one(be, o, &g[s], t, &med, err);
            (s == 0 ? l->gemm_fwd_s : l->gemm_bwd_s)[j] += med * o->batch; /* the ops: one GEMM per image */
        }
    }
    return st;
}

enum cu_status cu_bench_gemm_run(struct cu_backend *be, const struct cu_bench_opts *o, struct cu_bench_result *r,
                                 struct cu_err *err)
{
    r->ngemm = 0;
    struct cu_cl_report rep;
    if (o->gemm == CU_BENCH_GEMM_NONE || !cu_cl_report(be, &rep))
        return CU_OK;
    const char *impl[CU_BENCH_GEMMS] = {rep.gemm, strcmp(rep.gemm, "panel") ? "panel" : "clblast"};
    const int n = o->gemm == CU_BENCH_GEMM_ALL ? 2 : 1;
    double *t = malloc((size_t)o->steps * sizeof *t);
    if (!t)
        return cu_fail(err, CU_EDEVICE, "bench: out of host memory");
    enum cu_status st = CU_OK;
    for (int j = 0; !st && j < n; j++) {
        snprintf(r->gemm_impl[j], sizeof r->gemm_impl[j], "%s", impl[j]);
        st = cu_cl_set_gemm(be, impl[j], err);
        if (!st)
            st = time_impl(be, o, r, j, t, err);
        r->ngemm = j + 1;
    }
    free(t);
    enum cu_status back = cu_cl_set_gemm(be, rep.gemm, err); /* the device's own choice again */
    return st ? st : back;
}
