/* unet.h: the U-Net of DESIGN.md section 4 on any backend: building it for
 * an image size and channel rate, He-normal initialisation, forward,
 * loss, backward, the Adam step, and walking its parameters by name.
 *
 * Layout (f = int(32c), int(64c), int(128c), int(256c), int(512c)):
 *   enc1..enc4   conv1, conv2: 3x3 ReLU, f[k-1] channels; 2x2 max-pool after
 *   mid          conv1, conv2: 3x3 ReLU, f[4] channels
 *   dec4..dec1   up (transposed only: ConvTranspose 2x2 s2, f[k] -> f[k-1],
 *                bias, no activation; bilinear has no parameters), concat
 *                [skip, up], conv1, conv2: 3x3 ReLU, f[k-1] channels
 *   head.conv    3x3 ReLU to 2 channels (f[0] with more than one output)
 *   head.out     1x1 to K channels (output_channels, 1 by default): the
 *                logits; channel 0's sigmoid is the mask. K = 3 is the
 *                nuclei recipe's [body, contour, touching border].
 * The layers are written once, as a table (src/unet_layers.c): the
 * builder, the parameter and FLOP counts and `clunet bench`'s layer list
 * all come from cu_unet_layers.
 * Parameter names are "<layer>.weight" / "<layer>.bias", e.g.
 * "enc1.conv1.weight", "dec2.up.bias", "head.out.weight". Conv weights are
 * (Cout, Cin, k, k), transposed-conv weights (Cin, Cout, 2, 2), biases
 * (Cout, 1, 1, 1) here and [Cout] in model files.
 *
 * Every tensor (parameters, gradients, Adam moments, activations and their
 * gradients) is allocated once by cu_unet_new for a batch capacity (the
 * parameters, gradients and moments as four flat buffers); a
 * smaller batch only lowers n. A training step downloads nothing but the
 * two loss scalars. Model files are in model_file.h. */
#ifndef CLUNET_UNET_H
#define CLUNET_UNET_H

#include <stdint.h>

#include "clunet/backend.h"
#include "clunet/ops.h"

enum cu_upsample { CU_UPSAMPLE_BILINEAR, CU_UPSAMPLE_TRANSPOSED };

struct cu_unet_config {
    int image_size;     /* S: a multiple of 16, >= 16 */
    double channel_rate; /* c: widths int(32c)...; int(32c) >= 1 */
    enum cu_upsample upsample;
    int input_channels; /* 3 for RGB */
    int output_channels; /* of head.out, the logits; 0 means 1 (the default) */
};

#define CU_UNET_LEVELS 5 /* four encoder levels and the bottleneck */
#define CU_UNET_MAX_LAYERS 24 /* learned layers with transposed up-sampling */

enum cu_layer_kind {
    CU_LAYER_CONV,  /* k x k, stride 1, "same" padding */
    CU_LAYER_TCONV, /* 2x2 transposed convolution, stride 2 */
};

/* One learned layer of the network for a configuration: a weight
 * "<name>.weight" (Cout, Cin, k, k), or (Cin, Cout, 2, 2) when transposed,
 * and a bias "<name>.bias" (Cout). */
struct cu_unet_layer {
    int row;                /* the row of the layer table */
    const char *name;       /* "enc1.conv1", "dec2.up", "head.out" */
    enum cu_layer_kind kind;
    int k;                  /* kernel side: 3, 1, or 2 (transposed) */
    int level;              /* its output is at S >> level pixels a side */
    int side;               /* that side for the configuration */
    int cin, cout;
    enum cu_act act;        /* applied to its output */
    const char *input;      /* the tensor that feeds it: "input", "enc1.pool", "dec4.cat", ... */
    long long params;       /* learned floats: weights and biases */
    double flops;           /* forward FLOPs per image, 2 per multiply-add */
};

/* One learned tensor with its gradient and Adam moments (same shape):
 * views into the network's four flat buffers (cu_unet_flat). */
struct cu_unet_param {
    struct cu_tensor *w, *g, *m, *v;
};

/* The flat buffers: every parameter's weights, gradients, Adam m and v, in
 * parameter order, each tensor starting at a multiple of
 * CU_UNET_PARAM_ALIGN floats (4 KiB: where any OpenCL device lets a
 * sub-buffer start); the gaps are zero and stay zero. The layout depends on
 * the configuration only, never on the backend. */
enum cu_unet_buf { CU_UNET_WEIGHTS, CU_UNET_GRADS, CU_UNET_ADAM_M, CU_UNET_ADAM_V };
#define CU_UNET_BUFS 4
#define CU_UNET_PARAM_ALIGN ((size_t)1024)

struct cu_unet;

/* The default configuration: S=128, c=0.5, bilinear, 3 input channels. */
struct cu_unet_config cu_unet_config_default(void);
/* CU_OK or CU_EUSAGE with a message saying which field is wrong. */
enum cu_status cu_unet_config_check(const struct cu_unet_config *cfg, struct cu_err *err);
/* "bilinear" / "transposed"; parse returns -1 for anything else. */
const char *cu_upsample_name(enum cu_upsample u);
int cu_upsample_parse(const char *s);
/* Channel widths f[0..4] = int(32c * 2^k), as Python's int() truncates. */
void cu_unet_widths(double channel_rate, int f[CU_UNET_LEVELS]);
/* head.out's channels: output_channels, or 1 when it is 0. */
int cu_unet_output_channels(const struct cu_unet_config *cfg);
/* head.conv's width: 2 for one output, f[0] for more (two ReLU channels
 * cannot carry three maps). */
int cu_unet_head_width(const struct cu_unet_config *cfg);
/* The learned layers for cfg in parameter order (transposed up-sampling
 * layers only when cfg has them); returns their count. Needs no backend. */
int cu_unet_layers(const struct cu_unet_config *cfg, struct cu_unet_layer out[CU_UNET_MAX_LAYERS]);
/* Number of learned floats, by host arithmetic (needs no backend). */
long long cu_unet_param_count(const struct cu_unet_config *cfg);
/* Forward FLOPs of the convolutions for one image (2 per multiply-add). */
double cu_unet_forward_flops(const struct cu_unet_config *cfg);

/* Builds the network on be for batches of up to batch_cap images.
 * Parameters start at zero: call cu_unet_init_he or load a model file. */
enum cu_status cu_unet_new(struct cu_backend *be, const struct cu_unet_config *cfg, int batch_cap,
                           struct cu_unet **out, struct cu_err *err);
void cu_unet_free(struct cu_unet *net);

const struct cu_unet_config *cu_unet_config(const struct cu_unet *net);
struct cu_backend *cu_unet_backend(const struct cu_unet *net);
int cu_unet_batch_cap(const struct cu_unet *net);
/* Parameters in a fixed order (encoder, mid, decoder, head; weight before
 * bias); the name is params[i].w->name. */
int cu_unet_n_params(const struct cu_unet *net);
const struct cu_unet_param *cu_unet_param(const struct cu_unet *net, int i);
/* The parameter called name, or NULL. */
const struct cu_unet_param *cu_unet_param_find(const struct cu_unet *net, const char *name);
/* Flat buffer which (1, 1, 1, total): one op or one transfer covers every
 * parameter (Adam, zeroing gradients, summing them across replicas). */
struct cu_tensor *cu_unet_flat(const struct cu_unet *net, enum cu_unet_buf which);
/* Sum of numel over the parameters of the built net. */
long long cu_unet_param_total(const struct cu_unet *net);

/* Keras he_normal for every weight, zeros for biases and Adam moments.
 * Each weight tensor gets its own generator: splitmix64 whose state starts
 * at splitmix64(seed ^ ((index + 1) * 0xD1B54A32D192ED03)) (index =
 * parameter position), so streams are unrelated; each
 * normal is Box-Muller's cosine branch over two 53-bit uniforms drawn from
 * it, u1 in (0,1], u2 in [0,1): z = sqrt(-2 ln u1) cos(2 pi u2), redrawn
 * while |z| > 2; w = z * sqrt(2 / fan_in) / 0.87962566103423978 (the std of
 * a unit normal truncated at 2), fan_in = Cin*k*k for conv weights and
 * Cout*2*2 for transposed ones (Keras's and PyTorch's convention). Values
 * are made on the host and uploaded, so every backend starts identical.
 * One deliberate difference from Keras: the output layer's (head.out, 1x1,
 * 2 -> 1) two weights start with opposite signs, the first negative and the
 * second positive (magnitudes as drawn; with several output channels, each
 * channel's two weights). The layer before it is a 3x3 ReLU
 * convolution to 2 channels; when both output weights start positive (one
 * seed in four, 42 among them), the first gradients, which push every
 * output towards background, silence both ReLU channels for good and only
 * the output bias learns. With opposite signs one channel is always pushed
 * up. */
enum cu_status cu_unet_init_he(struct cu_unet *net, uint64_t seed, struct cu_err *err);

/* Forward pass on x (n, input_channels, S, S), 1 <= n <= batch_cap. x is
 * borrowed until the next cu_unet_backward. *logits (n,1,S,S) belongs to
 * the net; its sigmoid is the mask probability (cu_unet_predict). */
enum cu_status cu_unet_forward(struct cu_unet *net, const struct cu_tensor *x, struct cu_tensor **logits,
                               struct cu_err *err);
/* Per-output-channel weights of the training loss (ops.h's
 * cu_loss_forward_w); NULL = ones (the default). */
void cu_unet_set_loss_weights(struct cu_unet *net, const float *w);
/* Loss and Dice of the last forward against target t (n,1,S,S) into the
 * net's scalars tensor (1,1,1,2) = [loss, dice], left on the device;
 * *scalars (may be NULL) receives it. */
enum cu_status cu_unet_loss(struct cu_unet *net, const struct cu_tensor *t, enum cu_loss kind,
                            struct cu_tensor **scalars, struct cu_err *err);
/* Gradients of the loss of the last forward w.r.t. every parameter: zeroes
 * them, then back-propagates (ReLU masks, skip gradients summed). */
enum cu_status cu_unet_backward(struct cu_unet *net, const struct cu_tensor *t, enum cu_loss kind,
                                struct cu_err *err);
/* One Adam update of every parameter from its gradient; step is 1-based. */
enum cu_status cu_unet_adam_step(struct cu_unet *net, const struct cu_adam *hp, long step,
                                 struct cu_err *err);
/* Forward and loss only (validation); downloads [loss, dice] into out. */
enum cu_status cu_unet_eval_step(struct cu_unet *net, const struct cu_tensor *x, const struct cu_tensor *t,
                                 enum cu_loss kind, float out[2], struct cu_err *err);
/* Inference: forward, then the sigmoid in place of the logits; *prob
 * (n,1,S,S) belongs to the net (valid until the next forward). A backward
 * after it is meaningless: the logits are gone. */
enum cu_status cu_unet_predict(struct cu_unet *net, const struct cu_tensor *x, struct cu_tensor **prob,
                               struct cu_err *err);
/* Forward, loss, backward, Adam; downloads [loss, dice] into out (may be
 * NULL: then nothing is downloaded). */
enum cu_status cu_unet_train_step(struct cu_unet *net, const struct cu_tensor *x, const struct cu_tensor *t,
                                  enum cu_loss kind, const struct cu_adam *hp, long step, float out[2],
                                  struct cu_err *err);

#endif
