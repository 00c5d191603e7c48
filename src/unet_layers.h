/* unet_layers.h: the rows of the U-Net's layer table (unet_layers.c), by
 * name, for the hand-written forward and backward of unet.c. The rows are
 * in parameter order: encoder levels 1..4 (conv1, conv2), the bottleneck,
 * decoder levels 4..1 (up, conv1, conv2; up only with transposed
 * up-sampling), then the head. */
#ifndef CLUNET_UNET_LAYERS_H
#define CLUNET_UNET_LAYERS_H

enum cu_layer_row {
    L_ENC1_CONV1, L_ENC1_CONV2, L_ENC2_CONV1, L_ENC2_CONV2,
    L_ENC3_CONV1, L_ENC3_CONV2, L_ENC4_CONV1, L_ENC4_CONV2,
    L_MID_CONV1, L_MID_CONV2,
    L_DEC4_UP, L_DEC4_CONV1, L_DEC4_CONV2,
    L_DEC3_UP, L_DEC3_CONV1, L_DEC3_CONV2,
    L_DEC2_UP, L_DEC2_CONV1, L_DEC2_CONV2,
    L_DEC1_UP, L_DEC1_CONV1, L_DEC1_CONV2,
    L_HEAD_CONV, L_HEAD_OUT,
    L_ROWS
};

/* Row of encoder level k (0..3) conv j (0, 1); of decoder level k's
 * up-sampling and conv j. */
#define L_ENC(k, j) (L_ENC1_CONV1 + 2 * (k) + (j))
#define L_MID(j) (L_MID_CONV1 + (j))
#define L_DEC_UP(k) (L_DEC1_UP - 3 * (k))
#define L_DEC(k, j) (L_DEC_UP(k) + 1 + (j))

#endif
