/* ref_loss.c: the training loss and its metric, ref backend: binary
 * cross-entropy from logits and the soft Dice coefficient, forward (into
 * [loss, dice]) and backward (dz += dLoss/dz). z, t (N,1,H,W); P = N*H*W.
 *
 *   bce  = (1/P) sum_i max(z,0) - z*t + log(1 + exp(-|z|))   (stable form)
 *   dice = (2*S_tp + 1) / (S_t + S_p + 1), p = sigmoid(z), sums over the
 *          whole batch, smooth = 1 (the DSB2018 script's dice_coef)
 *   loss = bce | 1 - dice | bce + 1 - dice
 * Gradients: d bce/dz_i = (p_i - t_i)/P;
 *   d dice/dp_i = (2 t_i D - 2 S_tp - 1)/D^2 with D = S_t + S_p + 1, and
 *   dp/dz = p(1-p). All sums and the sigmoid are in double. The metric
 * [1] is always Dice, whatever the loss.
 * With C channels (ops.h): each BCE term is scaled by C * w[c] and the Dice
 * sums run over channel 0's pixels only. */
#include "ref_ops.h"

#include <math.h>

static enum cu_status check_kind(enum cu_loss kind, struct cu_err *err)
{
    if (kind != CU_LOSS_BCE && kind != CU_LOSS_DICE && kind != CU_LOSS_BCE_DICE)
        return cu_fail(err, CU_EUSAGE, "ref: loss: unknown loss kind %d", (int)kind);
    return CU_OK;
}

struct dice_sums {
    double tp, t, p; /* sum t*p, sum t, sum p */
};

static double sigmoid_d(double z)
{
    if (z >= 0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

/* Channel of flat index i in an (N,C,H,W) tensor with hw = H*W. */
static int chan_of(size_t i, size_t hw, int c) { return (int)((i / hw) % (size_t)c); }

static struct dice_sums dice_sums(const float *z, const float *t, size_t n, size_t hw, int c)
{
    struct dice_sums s = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        if (chan_of(i, hw, c) != 0)
            continue;
        double p = sigmoid_d(z[i]);
        s.tp += t[i] * p;
        s.t += t[i];
        s.p += p;
    }
    return s;
}

static double dice_of(struct dice_sums s) { return (2.0 * s.tp + 1.0) / (s.t + s.p + 1.0); }

enum cu_status cu_ref_loss_fwd(struct cu_backend *be, struct cu_tensor *out, const struct cu_tensor *z,
                               const struct cu_tensor *t, enum cu_loss kind, const float *w, struct cu_err *err)
{
    (void)be;
    enum cu_status st = check_kind(kind, err);
    if (st)
        return st;
    size_t n = cu_tensor_numel(z), hw = (size_t)z->h * (size_t)z->w;
    const float *pz = ref_data(z), *pt = ref_data(t);
    double bce = 0;
    for (size_t i = 0; i < n; i++) {
        double zi = pz[i];
        bce += (double)z->c * w[chan_of(i, hw, z->c)] * (fmax(zi, 0.0) - zi * pt[i] + log1p(exp(-fabs(zi))));
    }
    bce /= (double)n;
    double dice = dice_of(dice_sums(pz, pt, n, hw, z->c));
    double loss = kind == CU_LOSS_BCE ? bce : kind == CU_LOSS_DICE ? 1.0 - dice : bce + 1.0 - dice;
    float *po = ref_data(out);
    po[0] = (float)loss;
    po[1] = (float)dice;
    return CU_OK;
}

enum cu_status cu_ref_loss_bwd(struct cu_backend *be, struct cu_tensor *dz, const struct cu_tensor *z,
                               const struct cu_tensor *t, enum cu_loss kind, const float *w, struct cu_err *err)
{
    (void)be;
    enum cu_status st = check_kind(kind, err);
    if (st)
        return st;
    size_t n = cu_tensor_numel(z), hw = (size_t)z->h * (size_t)z->w;
    const float *pz = ref_data(z), *pt = ref_data(t);
    float *pd = ref_data(dz);
    int use_bce = kind != CU_LOSS_DICE, use_dice = kind != CU_LOSS_BCE;
    struct dice_sums s = {0, 0, 0};
    if (use_dice)
        s = dice_sums(pz, pt, n, hw, z->c);
    double num = 2.0 * s.tp + 1.0, den = s.t + s.p + 1.0;
    for (size_t i = 0; i < n; i++) {
        double p = sigmoid_d(pz[i]), g = 0;
        int c = chan_of(i, hw, z->c);
        if (use_bce)
            g += (double)z->c * w[c] * (p - pt[i]) / (double)n;
        if (use_dice && c == 0) /* d(1 - dice)/dz */
            g -= (2.0 * pt[i] * den - num) / (den * den) * p * (1.0 - p);
        pd[i] = (float)(pd[i] + g);
    }
    return CU_OK;
}
