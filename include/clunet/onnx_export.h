/* onnx_export.h: a clunet U-Net as an ONNX model, for ONNX Runtime,
 * OpenVINO, TensorRT and the like.
 *
 * The graph (IR version 8, default-domain opset 13..17, chosen by the
 * caller) uses Conv, Relu, MaxPool, Resize (mode linear, half_pixel: the
 * bilinear up-sampling of Keras and clunet) or ConvTranspose, Concat and
 * Sigmoid. Input "image": float32 (N, input_channels, S, S), RGB in [0, 1]
 * (8-bit samples / 255), N dynamic; output "probability": float32
 * (N, C, S, S), the sigmoid of the last layer, C its output channels. The
 * layers and their shapes come from the network itself (its parameters),
 * weights are initializers named as in clunet's model files. metadata_props
 * hold the clunet version, image size, channel rate, up-sampling,
 * normalisation and the caller's extra facts. Written by clunet's own
 * protobuf encoder (io/pb_write.h), atomically. */
#ifndef CLUNET_ONNX_EXPORT_H
#define CLUNET_ONNX_EXPORT_H

#include "clunet/model_file.h"
#include "clunet/unet.h"

#define CU_ONNX_OPSET_MIN 13
#define CU_ONNX_OPSET_MAX 17
#define CU_ONNX_IR_VERSION 8

/* Writes net to path with the given opset; extra facts (n_extra of them)
 * go into metadata_props after clunet's own. CU_EUSAGE for an opset out of
 * range, CU_EIO when path cannot be written. */
enum cu_status cu_onnx_export(const struct cu_unet *net, const char *path, int opset, const struct cu_meta_kv *extra,
                              int n_extra, struct cu_err *err);

#endif
