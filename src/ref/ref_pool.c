/* ref_pool.c: 2x2 max-pooling, stride 2, ref backend, NCHW; forward and
 * backward. y (N,C,H/2,W/2): an odd last row or column is dropped (floor),
 * as Keras's MaxPooling2D with 'valid' padding does.
 *
 * Ties: the window is scanned in row-major order (0,0), (0,1), (1,0), (1,1)
 * and a later element wins only if strictly greater, so the FIRST maximum
 * takes the whole gradient. Backward recomputes that argmax from x rather
 * than keeping indices, so forward needs no side buffer. NaN: a NaN in the
 * first position propagates; later NaNs never compare greater (the cl
 * backend must scan in the same order with the same strict comparison). */
#include "ref_ops.h"

/* Offset of the first maximum of the 2x2 window whose top-left is at q. */
static size_t window_argmax(const float *q, int w)
{
    size_t best = 0;
    const size_t off[4] = {0, 1, (size_t)w, (size_t)w + 1};
    for (int k = 1; k < 4; k++)
        if (q[off[k]] > q[best])
            best = off[k];
    return best;
}

enum cu_status cu_ref_maxpool_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                  struct cu_err *err)
{
    (void)be, (void)err;
    int h = x->h, w = x->w, ho = y->h, wo = y->w;
    size_t planes = (size_t)x->n * x->c;
    const float *px = ref_data(x);
    float *py = ref_data(y);
    for (size_t pl = 0; pl < planes; pl++)
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < wo; j++) {
                const float *q = px + pl * h * w + (size_t)(2 * i) * w + 2 * j;
                py[pl * ho * wo + (size_t)i * wo + j] = q[window_argmax(q, w)];
            }
    return CU_OK;
}

enum cu_status cu_ref_maxpool_bwd(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                  const struct cu_tensor *x, struct cu_err *err)
{
    (void)be, (void)err;
    int h = x->h, w = x->w, ho = dy->h, wo = dy->w;
    size_t planes = (size_t)x->n * x->c;
    const float *px = ref_data(x), *pdy = ref_data(dy);
    float *pdx = ref_data(dx);
    for (size_t pl = 0; pl < planes; pl++)
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < wo; j++) {
                size_t top = pl * h * w + (size_t)(2 * i) * w + 2 * j;
                pdx[top + window_argmax(px + top, w)] += pdy[pl * ho * wo + (size_t)i * wo + j];
            }
    return CU_OK;
}
