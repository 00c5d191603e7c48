/* backend.c: opening a backend by spec, and the backend-independent half of
 * tensor handling (shape bookkeeping, traffic counters), around the table
 * of src/backend_impl.h. */
#include "backend_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum cu_status cu_backend_open(const char *spec, struct cu_backend **out, struct cu_err *err)
{
    if (!spec || !*spec)
        spec = getenv("CLUNET_DEVICE");
    if (spec && strcasecmp(spec, "ref") == 0)
        return cu_ref_backend_new(out, err);
    struct cu_backend *be = NULL;
    enum cu_status st = cu_cl_backend_new(spec, &be, err);
    if (st)
        return st;
    if (!be) /* default spec and no OpenCL device at all */
        return cu_ref_backend_new(out, err);
    *out = be;
    return CU_OK;
}

void cu_backend_free(struct cu_backend *be)
{
    if (be)
        be->ops->destroy(be);
}

const char *cu_backend_name(const struct cu_backend *be) { return be->ops->name; }

enum cu_backend_kind cu_backend_kind(const struct cu_backend *be) { return be->kind; }

void cu_backend_caps(const struct cu_backend *be, struct cu_caps *out)
{
    memset(out, 0, sizeof *out);
    be->ops->caps(be, out);
}

void cu_backend_stats(const struct cu_backend *be, struct cu_backend_stats *out) { *out = be->stats; }

enum cu_status cu_backend_sync(struct cu_backend *be, struct cu_err *err) { return be->ops->sync(be, err); }

size_t cu_shape_numel(struct cu_shape s) { return (size_t)s.n * (size_t)s.c * (size_t)s.h * (size_t)s.w; }

size_t cu_tensor_numel(const struct cu_tensor *t)
{
    return (size_t)t->n * (size_t)t->c * (size_t)t->h * (size_t)t->w;
}

struct cu_shape cu_tensor_shape(const struct cu_tensor *t) { return (struct cu_shape){t->n, t->c, t->h, t->w}; }

size_t cu_tensor_bytes(const struct cu_tensor *t) { return cu_tensor_numel(t) * cu_dtype_size(t->dtype); }

size_t cu_tensor_cap_bytes(const struct cu_tensor *t)
{
    return (size_t)t->cap_n * (size_t)t->c * (size_t)t->h * (size_t)t->w * cu_dtype_size(t->dtype);
}

static size_t tensor_bytes(const struct cu_tensor *t) { return cu_tensor_cap_bytes(t); }

enum cu_status cu_tensor_new(struct cu_backend *be, struct cu_shape s, const char *name,
                             struct cu_tensor **out, struct cu_err *err)
{
    return cu_tensor_new_dtype(be, s, CU_F32, name, out, err);
}

enum cu_status cu_tensor_new_dtype(struct cu_backend *be, struct cu_shape s, enum cu_dtype dtype,
                                   const char *name, struct cu_tensor **out, struct cu_err *err)
{
    if (s.n < 1 || s.c < 1 || s.h < 1 || s.w < 1)
        return cu_fail(err, CU_EUSAGE, "%s: invalid tensor shape %dx%dx%dx%d", name ? name : "tensor", s.n, s.c,
                       s.h, s.w);
    if (!cu_dtype_desc(dtype))
        return cu_fail(err, CU_EUSAGE, "%s: unknown dtype %d", name ? name : "tensor", (int)dtype);
    struct cu_tensor *t = calloc(1, sizeof *t);
    if (!t)
        return cu_fail(err, CU_EDEVICE, "%s: out of host memory", name ? name : "tensor");
    t->be = be;
    t->dtype = dtype;
    t->n = t->cap_n = s.n;
    t->c = s.c;
    t->h = s.h;
    t->w = s.w;
    snprintf(t->name, sizeof t->name, "%s", name ? name : "tensor");
    enum cu_status st = be->ops->tensor_alloc(be, t, err);
    if (st) {
        free(t);
        return st;
    }
    be->stats.allocs++;
    be->stats.bytes_live += tensor_bytes(t);
    if (be->stats.bytes_live > be->stats.bytes_peak)
        be->stats.bytes_peak = be->stats.bytes_live;
    *out = t;
    return CU_OK;
}

enum cu_status cu_tensor_view(struct cu_tensor *base, size_t offset, struct cu_shape s, const char *name,
                              struct cu_tensor **out, struct cu_err *err)
{
    struct cu_backend *be = base->be;
    const char *nm = name ? name : "view";
    size_t elem = cu_dtype_size(base->dtype), align = cu_backend_view_align(be);
    if (s.n < 1 || s.c < 1 || s.h < 1 || s.w < 1)
        return cu_fail(err, CU_EUSAGE, "%s: invalid view shape %dx%dx%dx%d", nm, s.n, s.c, s.h, s.w);
    if (base->base)
        return cu_fail(err, CU_EUSAGE, "%s: a view of the view %s", nm, base->name);
    if (offset + cu_shape_numel(s) > cu_tensor_cap_bytes(base) / elem)
        return cu_fail(err, CU_EUSAGE, "%s: view of %zu elements at %zu runs past the end of %s", nm,
                       cu_shape_numel(s), offset, base->name);
    if (offset * elem % align)
        return cu_fail(err, CU_EUSAGE, "%s: view at byte %zu of %s is not a multiple of %zu bytes", nm, offset * elem,
                       base->name, align);
    struct cu_tensor *t = calloc(1, sizeof *t);
    if (!t)
        return cu_fail(err, CU_EDEVICE, "%s: out of host memory", nm);
    t->be = be;
    t->dtype = base->dtype;
    t->n = t->cap_n = s.n;
    t->c = s.c;
    t->h = s.h;
    t->w = s.w;
    t->base = base;
    snprintf(t->name, sizeof t->name, "%s", nm);
    enum cu_status st = be->ops->tensor_view(be, t, offset * elem, err);
    if (st) {
        free(t);
        return st;
    }
    *out = t;
    return CU_OK;
}

size_t cu_backend_view_align(const struct cu_backend *be) { return be->view_align ? be->view_align : 4; }

void cu_tensor_free(struct cu_tensor *t)
{
    if (!t)
        return;
    if (t->base) { /* a view: nothing of its own to count */
        t->be->ops->tensor_release(t->be, t);
        free(t);
        return;
    }
    t->be->stats.bytes_live -= tensor_bytes(t);
    t->be->ops->tensor_release(t->be, t);
    free(t);
}

enum cu_status cu_tensor_set_batch(struct cu_tensor *t, int n, struct cu_err *err)
{
    if (n < 1 || n > t->cap_n)
        return cu_fail(err, CU_EUSAGE, "%s: batch %d outside 1..%d", t->name, n, t->cap_n);
    t->n = n;
    return CU_OK;
}

enum cu_status cu_tensor_write(struct cu_tensor *t, const void *src, struct cu_err *err)
{
    size_t bytes = cu_tensor_bytes(t);
    t->be->stats.uploads++;
    t->be->stats.bytes_up += bytes;
    return t->be->ops->upload(t->be, t, src, bytes, err);
}

enum cu_status cu_tensor_read(const struct cu_tensor *t, void *dst, struct cu_err *err)
{
    size_t bytes = cu_tensor_bytes(t);
    t->be->stats.downloads++;
    t->be->stats.bytes_down += bytes;
    return t->be->ops->download(t->be, t, dst, bytes, err);
}

static enum cu_status need_f32(const struct cu_tensor *t, const char *what, struct cu_err *err)
{
    if (t->dtype == CU_F32)
        return CU_OK;
    return cu_fail(err, CU_EUSAGE, "%s: tensor %s is %s; %s moves float32 (cu_tensor_write/read move its own bytes)",
                   what, t->name, cu_dtype_name(t->dtype), what);
}

enum cu_status cu_tensor_upload(struct cu_tensor *t, const float *src, struct cu_err *err)
{
    CU_TRY(need_f32(t, "upload", err));
    return cu_tensor_write(t, src, err);
}

enum cu_status cu_tensor_download(const struct cu_tensor *t, float *dst, struct cu_err *err)
{
    CU_TRY(need_f32(t, "download", err));
    return cu_tensor_read(t, dst, err);
}

enum cu_status cu_tensor_zero(struct cu_tensor *t, struct cu_err *err) { return t->be->ops->zero(t->be, t, err); }
