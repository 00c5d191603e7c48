/* keras_import.h: a Keras model of the DSB2018 U-Net (an .h5 file written
 * by Keras 2 or 3 `model.save`, or Keras 3's .keras zip holding
 * config.json and model.weights.h5) turned into a clunet model file.
 *
 * The architecture comes from the model's own configuration (the
 * `model_config` attribute, or config.json) and must be the DSB2018 U-Net
 * (src/io/keras_arch.h says what is checked); the channel rate comes from
 * its filter counts, the image size from its input shape (or image_size
 * when the input shape leaves it open). Kernels are read with libhdf5 and
 * turned from Keras's HWIO (Conv2D) and HWOI (Conv2DTranspose) layouts into
 * clunet's OIHW and IOHW; any float type is converted to float32. Anything
 * that does not fit is CU_EINPUT with one line naming the file and the first
 * thing wrong; libhdf5's own error stack is silenced. */
#ifndef CLUNET_KERAS_IMPORT_H
#define CLUNET_KERAS_IMPORT_H

#include "clunet/status.h"
#include "clunet/unet.h"

/* Reads the Keras model in_path and writes the clunet model out_path
 * (atomically). image_size: the -s of the command line, 0 when not given;
 * it may only fill an open input shape or repeat the model's own. *cfg (may
 * be NULL) receives the imported configuration. */
enum cu_status cu_keras_import(const char *in_path, const char *out_path, int image_size, struct cu_unet_config *cfg,
                               struct cu_err *err);

#endif
