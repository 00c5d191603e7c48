/* ref_adam.c: one Adam step, ref backend, in Keras's form (the epsilon-hat
 * placement, see src/ops.c):
 *     m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
 *     lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)
 *     p -= lr_t * m / (sqrt(v) + eps)        (eps on the uncorrected sqrt(v))
 * Arithmetic in double, stored as float; t = step, 1-based. No weight
 * decay, no AMSGrad, no gradient clipping. */
#include "ref_ops.h"

#include <math.h>

enum cu_status cu_ref_adam(struct cu_backend *be, struct cu_tensor *p, const struct cu_tensor *g,
                           struct cu_tensor *m, struct cu_tensor *v, const struct cu_adam *hp, long step,
                           struct cu_err *err)
{
    (void)be, (void)err;
    double b1 = hp->beta1, b2 = hp->beta2, eps = hp->eps;
    double lr_t = hp->lr * sqrt(1.0 - pow(b2, (double)step)) / (1.0 - pow(b1, (double)step));
    float *pp = ref_data(p), *pm = ref_data(m), *pv = ref_data(v);
    const float *pg = ref_data(g);
    for (size_t i = 0, n = cu_tensor_numel(p); i < n; i++) {
        double gi = pg[i];
        double mi = b1 * pm[i] + (1.0 - b1) * gi;
        double vi = b2 * pv[i] + (1.0 - b2) * gi * gi;
        pm[i] = (float)mi;
        pv[i] = (float)vi;
        pp[i] = (float)(pp[i] - lr_t * mi / (sqrt(vi) + eps));
    }
    return CU_OK;
}
