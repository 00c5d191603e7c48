/* model_file.h: a U-Net in a safetensors file (DESIGN.md section 3): models
 * (weights) and training checkpoints (weights + Adam moments + facts).
 *
 * Tensors: each parameter under its name (unet.h), conv weights
 * [Cout, Cin, k, k], transposed-conv weights [Cin, Cout, 2, 2], biases
 * [Cout]; with CU_MODEL_ADAM also "adam.m.<name>" and "adam.v.<name>" of
 * the same shapes. __metadata__ (all strings):
 *   format "clunet-unet", version "1", image_size, channel_rate (shortest
 *   decimal that reads back exactly), upsample ("bilinear"|"transposed"),
 *   input_channels, output_channels (only when > 1; absent = 1), plus the caller's free-form facts (epochs, val_dice,
 *   step, rng state, the training configuration, ...).
 * Loading builds the network the metadata describes, so predict never needs
 * -s or -c, and refuses (CU_EINPUT, one line naming the file) a wrong
 * format, version or configuration, a missing parameter, a tensor clunet
 * does not know, or a shape that does not fit the model. */
#ifndef CLUNET_MODEL_FILE_H
#define CLUNET_MODEL_FILE_H

#include "clunet/safetensors.h"
#include "clunet/unet.h"

#define CU_MODEL_FORMAT "clunet-unet"
#define CU_MODEL_VERSION "1"

/* flags: CU_MODEL_ADAM also the Adam moments; CU_MODEL_F16 stores the
 * weights as F16 (a shipped model: half the size; loading widens them to
 * float32 again, and the probabilities move by less than 5e-3, a bound
 * test_model_f16 checks) */
enum { CU_MODEL_ADAM = 1, CU_MODEL_F16 = 2 };

struct cu_meta_kv {
    const char *key, *value;
};

/* Adds the net's metadata and tensors (downloaded now) to w, so a caller
 * can add more metadata or tensors before cu_st_writer_write. */
enum cu_status cu_model_fill(struct cu_st_writer *w, const struct cu_unet *net, int flags, struct cu_err *err);
/* Writes path atomically: the net, flags as above, and n_extra facts
 * (a fact may not replace the model's own keys). */
enum cu_status cu_model_save(const char *path, const struct cu_unet *net, int flags, const struct cu_meta_kv *extra,
                             int n_extra, struct cu_err *err);

/* Rewrites the model file in (any dtype) as out (atomically) with its
 * tensors stored as dtype and its metadata plus n_extra facts (which may
 * replace free-form facts but not the model's own keys). A checkpoint
 * (Adam moments) is refused for F16: resuming needs its float32 state. */
enum cu_status cu_model_convert(const char *in, const char *out, enum cu_st_dtype dtype,
                                const struct cu_meta_kv *extra, int n_extra, struct cu_err *err);

/* The configuration a model file's metadata describes (validated). */
enum cu_status cu_model_config(const struct cu_st_file *f, struct cu_unet_config *cfg, struct cu_err *err);
/* Uploads the file's parameters (and with CU_MODEL_ADAM the moments, else
 * the moments are zeroed) into a net of the same configuration. */
enum cu_status cu_model_load_into(struct cu_unet *net, const struct cu_st_file *f, int flags, struct cu_err *err);
/* Reads path, builds the net it describes on be for batch_cap images and
 * loads it. *file (may be NULL) receives the open file, for its other
 * metadata; the caller frees it with cu_st_file_free. */
enum cu_status cu_model_load(struct cu_backend *be, const char *path, int batch_cap, int flags,
                             struct cu_unet **net, struct cu_st_file **file, struct cu_err *err);

#endif
