/* ref_backend.c: the reference backend's table and its memory: tensors
 * are plain host float arrays, "device" transfers are memcpy, sync is a
 * no-op. The ops live in ref_*.c beside this file. */
#include "ref_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ref_destroy(struct cu_backend *be) { free(be); }

static void ref_caps(const struct cu_backend *be, struct cu_caps *out)
{
    (void)be;
    snprintf(out->name, sizeof out->name, "ref");
    out->kind = CU_BACKEND_REF;
    out->fp64 = 1;
}

static enum cu_status ref_alloc(struct cu_backend *be, struct cu_tensor *t, struct cu_err *err)
{
    (void)be;
    size_t bytes = cu_tensor_cap_bytes(t);
    t->impl = calloc(1, bytes);
    if (!t->impl)
        return cu_fail(err, CU_EDEVICE, "ref: %s: cannot allocate %zu bytes of host memory", t->name, bytes);
    return CU_OK;
}

static enum cu_status ref_view(struct cu_backend *be, struct cu_tensor *t, size_t byte_off, struct cu_err *err)
{
    (void)be, (void)err;
    t->impl = (char *)t->base->impl + byte_off;
    return CU_OK;
}

static void ref_release(struct cu_backend *be, struct cu_tensor *t)
{
    (void)be;
    if (!t->base) /* a view owns nothing */
        free(t->impl);
    t->impl = NULL;
}

static enum cu_status ref_upload(struct cu_backend *be, struct cu_tensor *t, const void *src, size_t bytes,
                                 struct cu_err *err)
{
    (void)be, (void)err;
    memcpy(t->impl, src, bytes);
    return CU_OK;
}

static enum cu_status ref_download(struct cu_backend *be, const struct cu_tensor *t, void *dst, size_t bytes,
                                   struct cu_err *err)
{
    (void)be, (void)err;
    memcpy(dst, t->impl, bytes);
    return CU_OK;
}

static enum cu_status ref_zero(struct cu_backend *be, struct cu_tensor *t, struct cu_err *err)
{
    (void)be, (void)err;
    memset(t->impl, 0, cu_tensor_bytes(t));
    return CU_OK;
}

static enum cu_status ref_copy(struct cu_backend *be, struct cu_tensor *dst, const struct cu_tensor *src,
                               struct cu_err *err)
{
    (void)be, (void)err;
    memmove(dst->impl, src->impl, cu_tensor_bytes(src));
    return CU_OK;
}

static enum cu_status ref_axpy(struct cu_backend *be, struct cu_tensor *y, float alpha, const struct cu_tensor *x,
                               struct cu_err *err)
{
    (void)be, (void)err;
    float *py = y->impl;
    const float *px = x->impl;
    for (size_t i = 0, n = cu_tensor_numel(x); i < n; i++)
        py[i] += alpha * px[i];
    return CU_OK;
}

static enum cu_status ref_sync(struct cu_backend *be, struct cu_err *err)
{
    (void)be, (void)err;
    return CU_OK;
}

static const struct cu_backend_ops ref_table = {
    .name = "ref",
    .destroy = ref_destroy,
    .caps = ref_caps,
    .tensor_alloc = ref_alloc,
    .tensor_view = ref_view,
    .tensor_release = ref_release,
    .upload = ref_upload,
    .download = ref_download,
    .zero = ref_zero,
    .copy = ref_copy,
    .axpy = ref_axpy,
    .sync = ref_sync,
    /* ops: ref_ops.h */
    .conv_fwd = cu_ref_conv_fwd,
    .conv_bwd = cu_ref_conv_bwd,
    .relu_fwd = cu_ref_relu_fwd,
    .relu_bwd = cu_ref_relu_bwd,
    .sigmoid_fwd = cu_ref_sigmoid_fwd,
    .sigmoid_bwd = cu_ref_sigmoid_bwd,
    .maxpool_fwd = cu_ref_maxpool_fwd,
    .maxpool_bwd = cu_ref_maxpool_bwd,
    .upsample_fwd = cu_ref_upsample_fwd,
    .upsample_bwd = cu_ref_upsample_bwd,
    .tconv_fwd = cu_ref_tconv_fwd,
    .tconv_bwd = cu_ref_tconv_bwd,
    .concat_fwd = cu_ref_concat_fwd,
    .concat_bwd = cu_ref_concat_bwd,
    .loss_fwd = cu_ref_loss_fwd,
    .loss_bwd = cu_ref_loss_bwd,
    .adam = cu_ref_adam,
};

enum cu_status cu_ref_backend_new(struct cu_backend **out, struct cu_err *err)
{
    struct cu_backend *be = calloc(1, sizeof *be);
    if (!be)
        return cu_fail(err, CU_EDEVICE, "ref: out of host memory");
    be->ops = &ref_table;
    be->kind = CU_BACKEND_REF;
    *out = be;
    return CU_OK;
}
