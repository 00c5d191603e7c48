/* ops.h: every U-Net op, forward and backward, over cu_tensor (NCHW, f32).
 *
 * Each function checks shapes and that all tensors belong to `be`, failing
 * with CU_EUSAGE and a message naming both shapes, then calls the backend's
 * implementation (src/backend_impl.h). Conventions (as llm.c):
 *   - outputs first, then inputs;
 *   - forward writes (=) its output;
 *   - backward ADDS (+=) into dx, dw, db so that a tensor feeding two
 *     consumers (an encoder output feeds pooling and a skip concat) sums both
 *     gradients; the caller zeroes gradients once per step. Any gradient
 *     output may be NULL when it is not wanted (e.g. dx of the first layer).
 * Shapes: x (N,C,H,W); conv weight w (Cout,Cin,k,k), odd k; bias (Cout,1,1,1);
 * transposed-conv weight (Cin,Cout,2,2) as PyTorch's ConvTranspose2d. */
#ifndef CLUNET_OPS_H
#define CLUNET_OPS_H

#include "clunet/backend.h"

enum cu_act { CU_ACT_NONE, CU_ACT_RELU };

enum cu_loss { CU_LOSS_BCE, CU_LOSS_DICE, CU_LOSS_BCE_DICE };

/* Adam as Keras implements it (see src/ops.c for the epsilon placement). */
struct cu_adam {
    float lr, beta1, beta2, eps;
};
#define CU_ADAM_DEFAULTS ((struct cu_adam){1e-3f, 0.9f, 0.999f, 1e-7f})

/* y = act(conv(x, w) + b): stride 1, 'same' zero padding, odd k.
 * x (N,Cin,H,W), w (Cout,Cin,k,k), b (Cout,1,1,1), y (N,Cout,H,W). */
enum cu_status cu_conv_forward(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                               const struct cu_tensor *w, const struct cu_tensor *b, enum cu_act act,
                               struct cu_err *err);
/* Given dy = dL/d(conv(x,w)+b) (apply cu_relu_backward first for a ReLU
 * layer): dx += , dw += , db += . */
enum cu_status cu_conv_backward(struct cu_backend *be, struct cu_tensor *dx, struct cu_tensor *dw,
                                struct cu_tensor *db, const struct cu_tensor *dy,
                                const struct cu_tensor *x, const struct cu_tensor *w, struct cu_err *err);
/* The same on the channel concatenation x = [xa, xb] (N, Ca+Cb, H, W)
 * without storing it (a U-Net decoder's skip and up-sampled input): the
 * result equals that of cu_conv_forward on the concatenated tensor, and
 * backward adds dx's two parts into dxa and dxb (both, or neither). */
enum cu_status cu_conv_forward_cat(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *xa,
                                   const struct cu_tensor *xb, const struct cu_tensor *w, const struct cu_tensor *b,
                                   enum cu_act act, struct cu_err *err);
enum cu_status cu_conv_backward_cat(struct cu_backend *be, struct cu_tensor *dxa, struct cu_tensor *dxb,
                                    struct cu_tensor *dw, struct cu_tensor *db, const struct cu_tensor *dy,
                                    const struct cu_tensor *xa, const struct cu_tensor *xb,
                                    const struct cu_tensor *w, struct cu_err *err);
/* How a convolution's backward writes dx: added into (as every backward
 * op), set, or set to the gradient through the ReLU whose output is the
 * input x: dx = dL/dx where x > 0, else 0 (what cu_relu_backward on dx
 * with y = x gives), without passes of their own over dx. */
enum cu_dx_mode { CU_DX_ADD, CU_DX_SET, CU_DX_SET_RELU };
enum cu_status cu_conv_backward_ex(struct cu_backend *be, struct cu_tensor *dxa, struct cu_tensor *dxb,
                                   struct cu_tensor *dw, struct cu_tensor *db, const struct cu_tensor *dy,
                                   const struct cu_tensor *xa, const struct cu_tensor *xb,
                                   const struct cu_tensor *w, enum cu_dx_mode mode, struct cu_err *err);

/* y = max(x, 0); y may be x. */
enum cu_status cu_relu_forward(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                               struct cu_err *err);
/* In place: dy *= (y > 0), y the ReLU's output. */
enum cu_status cu_relu_backward(struct cu_backend *be, struct cu_tensor *dy, const struct cu_tensor *y,
                                struct cu_err *err);
/* y = 1 / (1 + exp(-x)); y may be x. */
enum cu_status cu_sigmoid_forward(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                  struct cu_err *err);
/* dx += dy * y * (1 - y), y the sigmoid's output. */
enum cu_status cu_sigmoid_backward(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                   const struct cu_tensor *y, struct cu_err *err);

/* 2x2 max-pooling, stride 2: y (N,C,H/2,W/2) (floor: an odd last row or
 * column is dropped). Ties: the first maximum in row-major order of the
 * window ((0,0),(0,1),(1,0),(1,1)) takes the gradient. */
enum cu_status cu_maxpool_forward(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                  struct cu_err *err);
/* dx += dy routed to each window's first maximum of x. */
enum cu_status cu_maxpool_backward(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                   const struct cu_tensor *x, struct cu_err *err);

/* 2x bilinear up-sampling, half-pixel centres, edge clamping (PyTorch
 * interpolate(scale_factor=2, mode='bilinear', align_corners=False), Keras
 * UpSampling2D(interpolation='bilinear')): y (N,C,2H,2W). */
enum cu_status cu_upsample_forward(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                   struct cu_err *err);
/* dx += adjoint of the up-sampling applied to dy. */
enum cu_status cu_upsample_backward(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                    struct cu_err *err);

/* 2x2 stride-2 transposed convolution with bias, no activation:
 * x (N,Cin,H,W), w (Cin,Cout,2,2), b (Cout,1,1,1), y (N,Cout,2H,2W). */
enum cu_status cu_tconv_forward(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                const struct cu_tensor *w, const struct cu_tensor *b, struct cu_err *err);
enum cu_status cu_tconv_backward(struct cu_backend *be, struct cu_tensor *dx, struct cu_tensor *dw,
                                 struct cu_tensor *db, const struct cu_tensor *dy,
                                 const struct cu_tensor *x, const struct cu_tensor *w, struct cu_err *err);

/* y = [a, b] along channels: y (N, Ca+Cb, H, W). */
enum cu_status cu_concat_forward(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *a,
                                 const struct cu_tensor *b, struct cu_err *err);
/* The split: da += dy[:, :Ca], db += dy[:, Ca:]. */
enum cu_status cu_concat_backward(struct cu_backend *be, struct cu_tensor *da, struct cu_tensor *db,
                                  const struct cu_tensor *dy, struct cu_err *err);

/* Loss and metric from logits z (N,1,H,W) and a target t (N,1,H,W) in [0,1]:
 *   bce  = mean over all pixels of max(z,0) - z*t + log(1 + exp(-|z|))
 *   dice = (2*sum(t*p) + 1) / (sum(t) + sum(p) + 1), p = sigmoid(z), over
 *          the whole batch (smooth = 1)
 *   loss = bce | 1 - dice | bce + 1 - dice.
 * out (1,1,1,2) receives [loss, dice] on the device; download it to read.
 * With C > 1 channels (z, t (N,C,H,W), C <= CU_LOSS_MAX_CHANNELS) and
 * channel weights w[C] (cu_loss_forward_w; NULL = ones):
 *   bce  = sum over c of w[c] * (mean over channel c's pixels of the term)
 *        = (C / (N*C*H*W)) * sum over pixels of w[c(pixel)] * term,
 * and dice (the metric and the Dice part of the loss) is that of channel 0
 * alone. With C = 1 and w = NULL this is exactly the single-channel loss. */
#define CU_LOSS_MAX_CHANNELS 4
enum cu_status cu_loss_forward_w(struct cu_backend *be, struct cu_tensor *out, const struct cu_tensor *z,
                                 const struct cu_tensor *t, enum cu_loss kind, const float *w, struct cu_err *err);
enum cu_status cu_loss_backward_w(struct cu_backend *be, struct cu_tensor *dz, const struct cu_tensor *z,
                                  const struct cu_tensor *t, enum cu_loss kind, const float *w, struct cu_err *err);
enum cu_status cu_loss_forward(struct cu_backend *be, struct cu_tensor *out, const struct cu_tensor *z,
                               const struct cu_tensor *t, enum cu_loss kind, struct cu_err *err);
/* dz += d loss / d z. */
enum cu_status cu_loss_backward(struct cu_backend *be, struct cu_tensor *dz, const struct cu_tensor *z,
                                const struct cu_tensor *t, enum cu_loss kind, struct cu_err *err);

/* One Adam step on parameter p with gradient g and moments m, v (all the
 * same shape); step is 1-based. */
enum cu_status cu_adam_update(struct cu_backend *be, struct cu_tensor *p, const struct cu_tensor *g,
                              struct cu_tensor *m, struct cu_tensor *v, const struct cu_adam *hp,
                              long step, struct cu_err *err);

/* y += alpha * x (same numel): gradient sums across replicas. */
enum cu_status cu_axpy(struct cu_backend *be, struct cu_tensor *y, float alpha, const struct cu_tensor *x,
                       struct cu_err *err);
/* dst = src (same numel). */
enum cu_status cu_tensor_copy(struct cu_backend *be, struct cu_tensor *dst, const struct cu_tensor *src,
                              struct cu_err *err);

#endif
