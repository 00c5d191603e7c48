/* keras_arch.h: a Keras model configuration (the JSON of an .h5 file's
 * `model_config` attribute or of a .keras archive's config.json) checked
 * against the DSB2018 U-Net (DESIGN.md section 4) and mapped onto clunet's
 * layers.
 *
 * Keras 2 (tf.keras, tf-keras) and Keras 3 functional models are read;
 * their node formats differ and both are understood. Starting at the output
 * layer the graph is walked backwards: head (1x1 sigmoid Conv2D to 1
 * channel after a 3x3 ReLU Conv2D to 2), four decoder levels (two 3x3 ReLU
 * convolutions after Concatenate([skip, up]) with up = UpSampling2D(2,
 * bilinear) or Conv2DTranspose(2x2, stride 2, linear)), the bottleneck, four
 * encoder levels (two 3x3 ReLU convolutions, then MaxPooling2D(2)), and the
 * input. Dropout layers are skipped (identity at inference). Anything else
 * is refused with CU_EINPUT naming the first layer or setting that does
 * not fit. The channel rate comes from the filter counts, the image size
 * from the input shape. */
#ifndef CLUNET_IO_KERAS_ARCH_H
#define CLUNET_IO_KERAS_ARCH_H

#include <stddef.h>

#include "clunet/status.h"
#include "clunet/unet.h"

/* 9 levels x 2 convolutions, 4 transposed convolutions, 2 head layers. */
#define CU_KERAS_MAX_MAPPED 24
#define CU_KERAS_NAME_MAX 128

struct cu_keras_layer_map {
    char keras[CU_KERAS_NAME_MAX]; /* the Keras layer's name */
    char clunet[16];               /* clunet's layer: "enc1.conv1", "dec2.up", "head.out" */
    /* The layer's group in a .keras archive's weights: Keras 3 addresses
     * layers not by name but by snake-cased class name, numbered in layer
     * order ("conv2d", "conv2d_1", ..., "conv2d_transpose"). */
    char saved[CU_KERAS_NAME_MAX];
    int transposed; /* Conv2DTranspose (kernel HWOI) rather than Conv2D (HWIO) */
};

struct cu_keras_arch {
    /* image_size is 0 when the input shape leaves it open (the caller
     * supplies -s); channel_rate, upsample and input_channels are set. */
    struct cu_unet_config cfg;
    int n;
    struct cu_keras_layer_map map[CU_KERAS_MAX_MAPPED];
};

/* Parses json[0..len) and matches it; what names the file in messages. */
enum cu_status cu_keras_arch_parse(const char *json, size_t len, const char *what, struct cu_keras_arch *out,
                                   struct cu_err *err);

#endif
