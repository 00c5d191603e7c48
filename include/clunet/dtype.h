/* dtype.h: the element types a tensor can hold (backend.h) and that files
 * store them in.
 *
 * F32 is what every op computes in. F16 (IEEE 754 binary16) is a storage
 * type: a backend can hold, zero, copy and move F16 tensors as bytes
 * (cu_tensor_write / cu_tensor_read), and ops refuse them, naming the
 * tensor. Adding a type is one row in dtype.c's table; an op that learns
 * to compute in it says so in its backend. */
#ifndef CLUNET_DTYPE_H
#define CLUNET_DTYPE_H

#include <stddef.h>

enum cu_dtype {
    CU_F32, /* float32: the default of every tensor */
    CU_F16, /* IEEE binary16, storage only */
};
#define CU_DTYPE_COUNT 2

struct cu_dtype_desc {
    enum cu_dtype id;
    const char *name; /* "F32", "F16": as safetensors headers spell them */
    size_t size;      /* bytes per element */
    int compute;      /* ops compute in it */
};

/* The row of d; NULL for a value outside the enum. */
const struct cu_dtype_desc *cu_dtype_desc(enum cu_dtype d);
/* Bytes per element (0 outside the enum) and the header name ("?"). */
size_t cu_dtype_size(enum cu_dtype d);
const char *cu_dtype_name(enum cu_dtype d);
/* A dtype from its name in either case ("F16", "f16"), or -1. */
int cu_dtype_parse(const char *s);

#endif
