/* backend.h: the one interface through which the network, the trainer and
 * the predictor touch a compute device.
 *
 * A backend is either `ref` (plain C on the host, the definition of every
 * op) or `cl` (an OpenCL device). Tensors are NCHW with an element type
 * (dtype.h: float32 unless made otherwise; ops compute in float32 only) and
 * live where their backend lives: a ref tensor is host memory, a cl tensor
 * is a cl_mem.
 * Data crosses between host and device only through cu_tensor_upload and
 * cu_tensor_download (counted in cu_backend_stats, so tests can assert that
 * a training step reads back only the loss scalars). Ops are enqueued; only
 * download and cu_backend_sync wait for the device.
 *
 * The ops themselves are declared in ops.h. */
#ifndef CLUNET_BACKEND_H
#define CLUNET_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "clunet/dtype.h"
#include "clunet/status.h"

struct cu_backend;

enum cu_backend_kind { CU_BACKEND_REF, CU_BACKEND_CL };

struct cu_shape {
    int n, c, h, w;
};

/* A 4-D tensor owned by its backend. Weights are (Cout, Cin, kh, kw),
 * biases (Cout, 1, 1, 1). n may be lowered below cap_n with
 * cu_tensor_set_batch (a partial last batch) without reallocating. */
struct cu_tensor {
    struct cu_backend *be;
    int n, c, h, w;
    int cap_n;
    enum cu_dtype dtype;
    char name[48]; /* for messages: "enc1.conv1.weight", "dec2.up" */
    void *impl;    /* float * (ref) or cl_mem (cl) */
    /* A view (cu_tensor_view) borrows this tensor's storage; NULL when the
     * tensor owns its own. */
    const struct cu_tensor *base;
};

struct cu_caps {
    char name[128];          /* "ref" or the OpenCL device name */
    enum cu_backend_kind kind;
    uint64_t global_mem;     /* bytes; 0 = unknown / host */
    uint64_t max_alloc;      /* bytes; 0 = no limit known */
    int fp16, fp64;
};

/* Host<->device traffic and device memory, for tests and `clunet bench`. */
struct cu_backend_stats {
    uint64_t uploads, downloads;     /* calls */
    uint64_t bytes_up, bytes_down;
    uint64_t allocs;                 /* tensor allocations so far */
    uint64_t bytes_live, bytes_peak; /* device memory held by tensors */
};

/* spec: "ref", or an OpenCL device spec ("0:1", a name substring, "gpu",
 * "cpu", "accelerator"); NULL or "" means the default (first GPU, else
 * first OpenCL device, else ref). */
enum cu_status cu_backend_open(const char *spec, struct cu_backend **out, struct cu_err *err);
void cu_backend_free(struct cu_backend *be);

const char *cu_backend_name(const struct cu_backend *be); /* "ref" or "cl" */
enum cu_backend_kind cu_backend_kind(const struct cu_backend *be);
void cu_backend_caps(const struct cu_backend *be, struct cu_caps *out);
void cu_backend_stats(const struct cu_backend *be, struct cu_backend_stats *out);
/* Waits until every enqueued op has finished. */
enum cu_status cu_backend_sync(struct cu_backend *be, struct cu_err *err);

size_t cu_shape_numel(struct cu_shape s);
size_t cu_tensor_numel(const struct cu_tensor *t); /* of the current shape */
struct cu_shape cu_tensor_shape(const struct cu_tensor *t);

/* Allocates a zero-filled float32 tensor; name is copied (truncated) for
 * messages. */
enum cu_status cu_tensor_new(struct cu_backend *be, struct cu_shape s, const char *name,
                             struct cu_tensor **out, struct cu_err *err);
/* The same with any dtype of dtype.h (CU_EUSAGE for an unknown one). */
enum cu_status cu_tensor_new_dtype(struct cu_backend *be, struct cu_shape s, enum cu_dtype dtype,
                                   const char *name, struct cu_tensor **out, struct cu_err *err);
/* Bytes of the current shape: numel x the dtype's size. */
size_t cu_tensor_bytes(const struct cu_tensor *t);
void cu_tensor_free(struct cu_tensor *t);
/* A tensor of shape s on base's storage, offset elements in (a multiple of
 * cu_backend_view_align(be) bytes, and inside base at its full capacity);
 * same dtype, nothing allocated or zeroed. Writing the view writes base.
 * cu_tensor_free releases the view alone; base must outlive it. A flat
 * buffer with views lets one op or one transfer cover many tensors (the
 * network's parameters, gradients and Adam moments). */
enum cu_status cu_tensor_view(struct cu_tensor *base, size_t offset, struct cu_shape s, const char *name,
                              struct cu_tensor **out, struct cu_err *err);
/* Bytes a view's start must be a multiple of: 1 element on ref, the
 * device's CL_DEVICE_MEM_BASE_ADDR_ALIGN on OpenCL. */
size_t cu_backend_view_align(const struct cu_backend *be);
/* Sets the current batch size, 1 <= n <= cap_n. */
enum cu_status cu_tensor_set_batch(struct cu_tensor *t, int n, struct cu_err *err);
/* Copy cu_tensor_numel(t) floats host -> tensor / tensor -> host (float32
 * tensors; CU_EUSAGE naming the tensor otherwise). Download waits for the
 * ops that produce t. */
enum cu_status cu_tensor_upload(struct cu_tensor *t, const float *src, struct cu_err *err);
enum cu_status cu_tensor_download(const struct cu_tensor *t, float *dst, struct cu_err *err);
/* Copy cu_tensor_bytes(t) bytes of t's own element type host -> tensor /
 * tensor -> host, whatever the dtype (e.g. F16 storage the caller converts). */
enum cu_status cu_tensor_write(struct cu_tensor *t, const void *src, struct cu_err *err);
enum cu_status cu_tensor_read(const struct cu_tensor *t, void *dst, struct cu_err *err);
enum cu_status cu_tensor_zero(struct cu_tensor *t, struct cu_err *err);

#endif
