/* ref_eltwise.c: the element-wise and copying ops of the ref backend:
 * ReLU and sigmoid (forward and backward) and the channel concatenation
 * [a, b] with its split. Shapes: include/clunet/ops.h. Forward outputs may
 * alias their input (y == x); backward adds (+=), except ReLU's backward,
 * which masks dy in place. NaN propagates through ReLU (max(NaN,0) would
 * hide a diverging step from the trainer's NaN check). */
#include "ref_ops.h"

#include <math.h>
#include <string.h>

enum cu_status cu_ref_relu_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                               struct cu_err *err)
{
    (void)be, (void)err;
    const float *px = ref_data(x);
    float *py = ref_data(y);
    for (size_t i = 0, n = cu_tensor_numel(x); i < n; i++)
        py[i] = px[i] < 0.0f ? 0.0f : px[i];
    return CU_OK;
}

enum cu_status cu_ref_relu_bwd(struct cu_backend *be, struct cu_tensor *dy, const struct cu_tensor *y,
                               struct cu_err *err)
{
    (void)be, (void)err;
    const float *py = ref_data(y);
    float *pd = ref_data(dy);
    for (size_t i = 0, n = cu_tensor_numel(y); i < n; i++)
        if (!(py[i] > 0.0f))
            pd[i] = 0.0f;
    return CU_OK;
}

/* Stable for large |x|: exp is only taken of a non-positive number. */
static float sigmoid(float x)
{
    if (x >= 0.0f)
        return (float)(1.0 / (1.0 + exp(-(double)x)));
    double e = exp((double)x);
    return (float)(e / (1.0 + e));
}

enum cu_status cu_ref_sigmoid_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                  struct cu_err *err)
{
    (void)be, (void)err;
    const float *px = ref_data(x);
    float *py = ref_data(y);
    for (size_t i = 0, n = cu_tensor_numel(x); i < n; i++)
        py[i] = sigmoid(px[i]);
    return CU_OK;
}

enum cu_status cu_ref_sigmoid_bwd(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                  const struct cu_tensor *y, struct cu_err *err)
{
    (void)be, (void)err;
    const float *pdy = ref_data(dy), *py = ref_data(y);
    float *pdx = ref_data(dx);
    for (size_t i = 0, n = cu_tensor_numel(y); i < n; i++)
        pdx[i] = (float)(pdx[i] + (double)pdy[i] * py[i] * (1.0 - py[i]));
    return CU_OK;
}

/* Per batch item, y holds a's channels then b's: (Ca + Cb) planes. */
enum cu_status cu_ref_concat_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *a,
                                 const struct cu_tensor *b, struct cu_err *err)
{
    (void)be, (void)err;
    size_t na = (size_t)a->c * a->h * a->w, nb = (size_t)b->c * b->h * b->w;
    const float *pa = ref_data(a), *pb = ref_data(b);
    float *py = ref_data(y);
    for (int in = 0; in < a->n; in++) {
        memcpy(py + in * (na + nb), pa + in * na, na * sizeof *py);
        memcpy(py + in * (na + nb) + na, pb + in * nb, nb * sizeof *py);
    }
    return CU_OK;
}

enum cu_status cu_ref_concat_bwd(struct cu_backend *be, struct cu_tensor *da, struct cu_tensor *db,
                                 const struct cu_tensor *dy, struct cu_err *err)
{
    (void)be, (void)err;
    size_t na = (size_t)da->c * da->h * da->w, nb = (size_t)db->c * db->h * db->w;
    const float *pdy = ref_data(dy);
    float *pa = ref_data(da), *pb = ref_data(db);
    for (int in = 0; in < da->n; in++) {
        const float *g = pdy + in * (na + nb);
        for (size_t i = 0; i < na; i++)
            pa[in * na + i] += g[i];
        for (size_t i = 0; i < nb; i++)
            pb[in * nb + i] += g[na + i];
    }
    return CU_OK;
}
