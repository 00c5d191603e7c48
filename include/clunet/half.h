/* half.h: IEEE 754 binary16 (F16) and bfloat16 (BF16) to and from float32.
 * float -> F16 rounds to nearest, ties to even, keeps subnormals, and
 * turns values beyond F16's largest (65504) into infinities; NaN stays NaN.
 * Both 16-bit formats widen to float32 exactly. */
#ifndef CLUNET_HALF_H
#define CLUNET_HALF_H

#include <stdint.h>

#define CU_F16_MAX 65504.0f

float cu_f16_to_float(uint16_t h);
uint16_t cu_float_to_f16(float f);
float cu_bf16_to_float(uint16_t h);

#endif
