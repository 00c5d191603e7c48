/* cl_ops.h: the ops of the cl backend, one block per cl_ops_*.c file, as
 * the table in cl_backend.c uses them, and what the op files share: the
 * GEMM every convolution goes through (cl_gemm.c) and a one-call kernel
 * launcher (cl_ops_run.c). Signatures are those of backend_impl.h;
 * arguments arrive checked by ops.c. */
#ifndef CLUNET_CL_OPS_H
#define CLUNET_CL_OPS_H

#include "cl_consts.h"
#include "cl_internal.h"

/* cl_ops_act.c (cl/act.cl): element-wise activations and axpy. */
enum cu_status cu_cl_axpy(struct cu_backend *be, struct cu_tensor *y, float alpha, const struct cu_tensor *x,
                          struct cu_err *err);
enum cu_status cu_cl_relu_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                              struct cu_err *err);
enum cu_status cu_cl_relu_bwd(struct cu_backend *be, struct cu_tensor *dy, const struct cu_tensor *y,
                              struct cu_err *err);
enum cu_status cu_cl_sigmoid_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                 struct cu_err *err);
enum cu_status cu_cl_sigmoid_bwd(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                 const struct cu_tensor *y, struct cu_err *err);

/* --- clops --- */

/* One kernel argument: its size and a pointer to its value. */
struct cu_cl_karg {
    size_t size;
    const void *value;
};
#define CU_KARG(v) ((struct cu_cl_karg){sizeof(v), &(v)})

/* Work-group sizes. Every kernel of these files runs over a 1-D range with
 * a fixed work-group size and splits its index itself: PoCL compiles a
 * kernel once per work-group size, so letting the size follow the shape
 * (a NULL local size) recompiled each kernel for every layer shape
 * (~0.3 s each, cold). CU_CL_WG_TILE is for kernels whose work-item is a
 * whole register tile (panel GEMM, implicit conv; CPU devices only). */
#define CU_CL_WG 64
#define CU_CL_WG_TILE 8

/* Looks up kernel kname, sets its nargs arguments and enqueues it over n
 * work-items in work-groups of local (n is rounded up to a multiple;
 * kernels bound-check); fails naming the kernel. */
enum cu_status cu_cl_ops_run(struct cu_cl_backend *cb, const char *kname, size_t n, size_t local, int nargs,
                             const struct cu_cl_karg *args, struct cu_err *err);
#define CU_CL_RUN(cb, kname, n, local, err, ...)                                                                  \
    cu_cl_ops_run((cb), (kname), (n), (local),                                                                    \
                  (int)(sizeof((struct cu_cl_karg[]){__VA_ARGS__}) / sizeof(struct cu_cl_karg)),                  \
                  (struct cu_cl_karg[]){__VA_ARGS__}, (err))

/* Fails with CU_EDEVICE when a kernel index range of count elements would
 * not fit the kernels' int indices. */
enum cu_status cu_cl_ops_fits(const struct cu_cl_backend *cb, size_t count, const char *what, struct cu_err *err);

/* The per-channel sum db[c] += sum over n, pixels of dy (N,C,HW)
 * (cu_conv_bias_grad), shared by conv and tconv backward. */
enum cu_status cu_cl_ops_bias_grad(struct cu_cl_backend *cb, cl_mem db, cl_mem dy, int n, int c, int hw,
                                   struct cu_err *err);

/* C = alpha op(A) op(B) + beta C, row-major, single precision, on cl_mem
 * with element offsets: op(A) m x k, op(B) k x n, C m x n; trans_a/trans_b
 * say A/B are stored transposed (A then k x m with lda >= m). ws, ws_off:
 * a workspace of cu_cl_gemm_ws(cb, ...) floats (0 floats: ws may be
 * NULL), not overlapping A, B or C. The one place a device-specific GEMM
 * plugs in (issue 10): CLBlast, or cl/gemm.cl on CPU devices. what names
 * the layer for messages. */
enum cu_status cu_cl_gemm(struct cu_cl_backend *cb, bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                          cl_mem a, size_t a_off, int lda, cl_mem b, size_t b_off, int ldb, float beta, cl_mem c,
                          size_t c_off, int ldc, cl_mem ws, size_t ws_off, const char *what, struct cu_err *err);
/* Floats of workspace cu_cl_gemm needs for that product (same arguments). */
size_t cu_cl_gemm_ws(const struct cu_cl_backend *cb, bool trans_a, bool trans_b, int m, int n, int k, int lda,
                     int ldb);
/* Whether cu_cl_gemm runs the panel GEMM of cl/gemm.cl on this device; if
 * so, an op may write B directly in panels ([ceil(n/16)][k][16], zero past
 * n) and call cu_cl_gemm_packed: C = alpha A Bp + beta C, A m x k row-major
 * (lda), C m x n (ldc), no workspace, no packing pass. */
bool cu_cl_gemm_panels(const struct cu_cl_backend *cb);
enum cu_status cu_cl_gemm_packed(struct cu_cl_backend *cb, int m, int n, int k, float alpha, cl_mem a,
                                 size_t a_off, int lda, cl_mem bp, size_t bp_off, float beta, cl_mem c,
                                 size_t c_off, int ldc, const char *what, struct cu_err *err);

/* cl_ops_conv.c, cl_ops_pool.c, cl_ops_upsample.c, cl_ops_tconv.c,
 * cl_ops_concat.c, cl_ops_loss.c, cl_ops_adam.c (cl/conv.cl ... adam.cl). */
enum cu_status cu_cl_conv_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                              const struct cu_tensor *x2, const struct cu_tensor *w, const struct cu_tensor *b,
                              enum cu_act act, struct cu_err *err);
enum cu_status cu_cl_conv_bwd(struct cu_backend *be, struct cu_tensor *dx, struct cu_tensor *dx2,
                              struct cu_tensor *dw, struct cu_tensor *db, const struct cu_tensor *dy,
                              const struct cu_tensor *x, const struct cu_tensor *x2, const struct cu_tensor *w,
                              enum cu_dx_mode mode, struct cu_err *err);
enum cu_status cu_cl_maxpool_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                 struct cu_err *err);
enum cu_status cu_cl_maxpool_bwd(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                 const struct cu_tensor *x, struct cu_err *err);
enum cu_status cu_cl_upsample_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                                  struct cu_err *err);
enum cu_status cu_cl_upsample_bwd(struct cu_backend *be, struct cu_tensor *dx, const struct cu_tensor *dy,
                                  struct cu_err *err);
enum cu_status cu_cl_tconv_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *x,
                               const struct cu_tensor *w, const struct cu_tensor *b, struct cu_err *err);
enum cu_status cu_cl_tconv_bwd(struct cu_backend *be, struct cu_tensor *dx, struct cu_tensor *dw,
                               struct cu_tensor *db, const struct cu_tensor *dy, const struct cu_tensor *x,
                               const struct cu_tensor *w, struct cu_err *err);
enum cu_status cu_cl_concat_fwd(struct cu_backend *be, struct cu_tensor *y, const struct cu_tensor *a,
                                const struct cu_tensor *b, struct cu_err *err);
enum cu_status cu_cl_concat_bwd(struct cu_backend *be, struct cu_tensor *da, struct cu_tensor *db,
                                const struct cu_tensor *dy, struct cu_err *err);
enum cu_status cu_cl_loss_fwd(struct cu_backend *be, struct cu_tensor *out, const struct cu_tensor *z,
                              const struct cu_tensor *t, enum cu_loss kind, const float *w,
                              struct cu_err *err);
enum cu_status cu_cl_loss_bwd(struct cu_backend *be, struct cu_tensor *dz, const struct cu_tensor *z,
                              const struct cu_tensor *t, enum cu_loss kind, const float *w,
                              struct cu_err *err);
enum cu_status cu_cl_adam(struct cu_backend *be, struct cu_tensor *p, const struct cu_tensor *g,
                          struct cu_tensor *m, struct cu_tensor *v, const struct cu_adam *hp, long step,
                          struct cu_err *err);

/* --- wino: cl_ops_wino.c (cl/wino.cl, cl/wino4.cl), 3x3 convolutions as
 * Winograd F(2x2,3x3) and F(4x4,3x3) on CPU devices. --- */
/* How a k x k convolution with m outputs and kin inputs (for the data
 * gradient: the layer's Cin and Cout) at h x w runs here: 4: Winograd
 * F(4x4,3x3), 2: F(2x2,3x3), 0: not as Winograd. */
int cu_cl_wino_tile(const struct cu_cl_backend *cb, int k, int m, int kin, int h, int w);
/* Whether its weight gradient (m = Cout, kin = Cin) runs as Winograd
 * (cu_cl_wino_dw: F(4x4,3x3) where its tile rows fit, else F(2x2,3x3)). */
bool cu_cl_wino_dw_use(const struct cu_cl_backend *cb, int k, int m, int kin);
/* One Winograd convolution over a batch, F(4x4,3x3) or F(2x2,3x3) as
 * cu_cl_wino_tile says: y (n, m, h, w) from x (n, kin, h, w) and 3x3
 * weights wt: (m, kin, 3, 3), or with flip (kin, m, 3, 3) used transposed
 * and turned by 180 degrees (the data gradient). x: kin channels in two
 * parts [x, x2] split at ka (ka = kin: x alone), y: m channels in two
 * parts [y, y2] split at ma (ma = m: y alone); mode 0: y = act(conv + b)
 * (relu: ReLU), 1: y += conv, 2: y = conv, 3: y = conv where the mask
 * [xm, xm2] (split as y) is > 0, else 0 (b unused but in mode 0). */
struct cu_cl_wino {
    cl_mem y, y2, x, x2, xm, xm2, wt, b;
    int n, kin, ka, m, ma, h, w;
    int flip, relu, mode;
    const char *what; /* the layer, for messages */
};
enum cu_status cu_cl_wino_conv(struct cu_cl_backend *cb, const struct cu_cl_wino *c, struct cu_err *err);
/* dw (m, kin, 3, 3) += the weight gradient of that convolution from
 * dy (n, m, h, w) and x (n, kin, h, w), x in two parts split at ka. */
enum cu_status cu_cl_wino_dw(struct cu_cl_backend *cb, cl_mem dw, cl_mem dy, cl_mem x, cl_mem x2, int ka, int n,
                             int kin, int m, int h, int w, const char *what, struct cu_err *err);
/* The same weight gradient computed directly (no Winograd, no im2col),
 * for 3x3 layers with few output channels on CPU devices
 * (cu_cl_dw_direct_use; CLUNET_NO_DW_DIRECT=1 turns it off). */
bool cu_cl_dw_direct_use(const struct cu_cl_backend *cb, int k, int m, int kin);
enum cu_status cu_cl_dw_direct(struct cu_cl_backend *cb, cl_mem dw, cl_mem dy, cl_mem x, cl_mem x2, int ka, int n,
                               int kin, int m, int h, int w, const char *what, struct cu_err *err);

#endif
