/* cl_backend.c: the OpenCL backend's object: opening a device (context,
 * one in-order queue, capabilities, programs), the ops table, tensor memory
 * (cl_mem) with its limits checked before allocating, transfers, and the
 * launch/scratch helpers every op file uses. The ops themselves live in
 * cl_ops_*.c (declared in cl_ops.h). */
#include "cl_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_ops.h"

static void cl_destroy(struct cu_backend *be)
{
    struct cu_cl_backend *cb = cu_cl(be);
    if (cb->queue)
        clFinish(cb->queue); /* nothing enqueued may outlive its buffers */
    cu_cl_programs_release(cb);
    if (cb->scratch)
        clReleaseMemObject(cb->scratch);
    if (cb->queue)
        clReleaseCommandQueue(cb->queue);
    if (cb->ctx)
        clReleaseContext(cb->ctx);
    free(cb);
}

static void cl_caps(const struct cu_backend *be, struct cu_caps *out)
{
    *out = ((const struct cu_cl_backend *)be)->caps;
}

static double gib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0 * 1024.0); }

/* Refuses what the device cannot hold before asking the driver: many
 * drivers fail late (at first use) or not at all on over-allocation. */
static enum cu_status check_room(const struct cu_cl_backend *cb, const struct cu_tensor *t, size_t bytes,
                                 struct cu_err *err)
{
    const char *hint = "try a smaller --batch or -s";
    if (cb->caps.max_alloc && bytes > cb->caps.max_alloc)
        return cu_fail(err, CU_EDEVICE,
                       "%s: tensor %s (%dx%dx%dx%d) needs %.2f GiB, more than the device's largest buffer "
                       "(%.2f GiB); %s",
                       cb->caps.name, t->name, t->cap_n, t->c, t->h, t->w, gib(bytes), gib(cb->caps.max_alloc), hint);
    uint64_t used = cb->base.stats.bytes_live + cb->scratch_bytes;
    if (cb->caps.global_mem && used + bytes > cb->caps.global_mem)
        return cu_fail(err, CU_EDEVICE,
                       "%s: tensor %s (%dx%dx%dx%d) needs %.2f GiB but only %.2f GiB of the device's %.2f GiB are "
                       "free; %s",
                       cb->caps.name, t->name, t->cap_n, t->c, t->h, t->w, gib(bytes),
                       gib(used < cb->caps.global_mem ? cb->caps.global_mem - used : 0), gib(cb->caps.global_mem),
                       hint);
    return CU_OK;
}

/* bytes: a multiple of elem, the element size (2 or 4: zero bits are zero
 * in every dtype). */
static enum cu_status fill_zero(struct cu_cl_backend *cb, cl_mem m, size_t bytes, size_t elem, const char *what,
                                struct cu_err *err)
{
    const cl_uint zero = 0;
    return CU_CL(cb, clEnqueueFillBuffer(cb->queue, m, &zero, elem, 0, bytes, 0, NULL, NULL), what, err);
}

static enum cu_status cl_alloc(struct cu_backend *be, struct cu_tensor *t, struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    size_t bytes = cu_tensor_cap_bytes(t);
    enum cu_status st = check_room(cb, t, bytes, err);
    if (st)
        return st;
    cl_int rc;
    cl_mem m = clCreateBuffer(cb->ctx, CL_MEM_READ_WRITE, bytes, NULL, &rc);
    st = cu_cl_check(cb, rc, "clCreateBuffer", t->name, err);
    if (st)
        return st;
    st = fill_zero(cb, m, bytes, cu_dtype_size(t->dtype), t->name, err);
    if (st) {
        clReleaseMemObject(m);
        return st;
    }
    t->impl = m;
    return CU_OK;
}

/* A sub-buffer: the device checks the alignment too. */
static enum cu_status cl_view(struct cu_backend *be, struct cu_tensor *t, size_t byte_off, struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    cl_buffer_region region = {byte_off, cu_tensor_cap_bytes(t)};
    cl_int rc;
    cl_mem m = clCreateSubBuffer(cu_cl_mem(t->base), CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &region, &rc);
    CU_TRY(cu_cl_check(cb, rc, "clCreateSubBuffer", t->name, err));
    t->impl = m;
    return CU_OK;
}

/* An allocation or a view's sub-buffer alike. */
static void cl_release(struct cu_backend *be, struct cu_tensor *t)
{
    (void)be;
    if (t->impl)
        clReleaseMemObject(cu_cl_mem(t));
    t->impl = NULL;
}

/* Blocking: the caller may reuse src at once. */
static enum cu_status cl_upload(struct cu_backend *be, struct cu_tensor *t, const void *src, size_t bytes,
                                struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    return CU_CL(cb, clEnqueueWriteBuffer(cb->queue, cu_cl_mem(t), CL_TRUE, 0, bytes, src, 0, NULL, NULL), t->name,
                 err);
}

static enum cu_status cl_download(struct cu_backend *be, const struct cu_tensor *t, void *dst, size_t bytes,
                                  struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    return CU_CL(cb, clEnqueueReadBuffer(cb->queue, cu_cl_mem(t), CL_TRUE, 0, bytes, dst, 0, NULL, NULL), t->name,
                 err);
}

/* On CPU devices a kernel (cu_zero, cl/act.cl) over both threads: PoCL's
 * fill runs on one thread, a few bytes at a time. */
static enum cu_status cl_zero(struct cu_backend *be, struct cu_tensor *t, struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    size_t bytes = cu_tensor_bytes(t);
    if (!cb->policy.cpu || bytes % 4 || bytes / 4 > INT_MAX - 16)
        return fill_zero(cb, cu_cl_mem(t), bytes, cu_dtype_size(t->dtype), t->name, err);
    cl_mem m = cu_cl_mem(t);
    const int n = (int)(bytes / 4);
    return CU_CL_RUN(cb, "cu_zero", (size_t)(n + 15) / 16, CU_CL_WG, err, CU_KARG(m), CU_KARG(n));
}

static enum cu_status cl_copy(struct cu_backend *be, struct cu_tensor *dst, const struct cu_tensor *src,
                              struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    if (dst->impl == src->impl) /* OpenCL refuses overlapping copies; this one is a no-op */
        return CU_OK;
    return CU_CL(cb,
                 clEnqueueCopyBuffer(cb->queue, cu_cl_mem(src), cu_cl_mem(dst), 0, 0, cu_tensor_bytes(src), 0, NULL,
                                     NULL),
                 dst->name, err);
}

static enum cu_status cl_sync(struct cu_backend *be, struct cu_err *err)
{
    struct cu_cl_backend *cb = cu_cl(be);
    return CU_CL(cb, clFinish(cb->queue), "", err);
}

/* The ops table: memory and transfers here, each op from its cl_ops_*.c
 * file (cl_ops.h). A NULL slot makes ops.c fail with "op X is not
 * implemented" (no silent fallback to the host). */
static const struct cu_backend_ops cl_table = {
    .name = "cl",
    .destroy = cl_destroy,
    .caps = cl_caps,
    .tensor_alloc = cl_alloc,
    .tensor_view = cl_view,
    .tensor_release = cl_release,
    .upload = cl_upload,
    .download = cl_download,
    .zero = cl_zero,
    .copy = cl_copy,
    .sync = cl_sync,
    /* element-wise: cl_ops_act.c, kernels cl/act.cl */
    .axpy = cu_cl_axpy,
    .relu_fwd = cu_cl_relu_fwd,
    .relu_bwd = cu_cl_relu_bwd,
    .sigmoid_fwd = cu_cl_sigmoid_fwd,
    .sigmoid_bwd = cu_cl_sigmoid_bwd,
    /* convolution, pooling, up-sampling, transposed convolution, concat,
     * loss, Adam: cl_ops_conv.c ... cl_ops_adam.c, kernels cl/conv.cl ... */
    .conv_fwd = cu_cl_conv_fwd,
    .conv_bwd = cu_cl_conv_bwd,
    .maxpool_fwd = cu_cl_maxpool_fwd,
    .maxpool_bwd = cu_cl_maxpool_bwd,
    .upsample_fwd = cu_cl_upsample_fwd,
    .upsample_bwd = cu_cl_upsample_bwd,
    .tconv_fwd = cu_cl_tconv_fwd,
    .tconv_bwd = cu_cl_tconv_bwd,
    .concat_fwd = cu_cl_concat_fwd,
    .concat_bwd = cu_cl_concat_bwd,
    .loss_fwd = cu_cl_loss_fwd,
    .loss_bwd = cu_cl_loss_bwd,
    .adam = cu_cl_adam,
};

/* "OpenCL C 1.2 PoCL" -> 102; 0 when unreadable. */
static int c_version(const char *v)
{
    int major = 0, minor = 0;
    if (sscanf(v, "OpenCL C %d.%d", &major, &minor) != 2)
        return 0;
    return major * 100 + minor;
}

/* The options of every program build: the language version, then each
 * constant of cl_consts.h as -D NAME=VALUE. */
static void build_options(struct cu_cl_backend *cb, const char *std)
{
    size_t o = (size_t)snprintf(cb->options, sizeof cb->options, "%s", std);
#define CU_CL_CONST_OPTION(name, value, what)                                                                     \
    if (o < sizeof cb->options)                                                                                   \
        o += (size_t)snprintf(cb->options + o, sizeof cb->options - o, "%s-D " #name "=%d", o ? " " : "", value);
    CU_CL_CONSTS(CU_CL_CONST_OPTION)
#undef CU_CL_CONST_OPTION
}

static void fill_caps(struct cu_cl_backend *cb, const struct cu_cl_device_info *di)
{
    cb->platform = di->platform;
    cb->device = di->device;
    snprintf(cb->id, sizeof cb->id, "%s", di->pub.id);
    snprintf(cb->platform_name, sizeof cb->platform_name, "%s", di->pub.platform_name);
    clGetPlatformInfo(di->platform, CL_PLATFORM_VERSION, sizeof cb->platform_version - 1, cb->platform_version,
                      NULL);
    snprintf(cb->driver_version, sizeof cb->driver_version, "%s", di->pub.driver);
    snprintf(cb->caps.name, sizeof cb->caps.name, "%s", di->pub.name);
    cb->caps.kind = CU_BACKEND_CL;
    cb->caps.global_mem = di->pub.global_mem;
    cb->caps.max_alloc = di->pub.max_alloc;
    cb->caps.fp16 = di->pub.fp16;
    cb->caps.fp64 = di->pub.fp64;
    /* Kernels are OpenCL C 1.2; say so only to a device that knows it
     * (a 1.1 device rejects the option). */
    build_options(cb, c_version(di->pub.version) >= 102 ? "-cl-std=CL1.2" : "");
    cu_cl_policy_fill(cb);
}

static bool cache_enabled(void)
{
    const char *v = getenv("CLUNET_NO_KERNEL_CACHE");
    return !(v && *v && strcmp(v, "0") != 0);
}

static enum cu_status open_device(struct cu_cl_backend *cb, struct cu_err *err)
{
    cl_int rc;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)cb->platform, 0};
    cb->ctx = clCreateContext(props, 1, &cb->device, NULL, NULL, &rc);
    enum cu_status st = cu_cl_check(cb, rc, "clCreateContext", cb->id, err);
    if (st)
        return st;
    cb->queue = clCreateCommandQueue(cb->ctx, cb->device, 0, &rc);
    st = cu_cl_check(cb, rc, "clCreateCommandQueue", cb->id, err);
    if (st)
        return st;
    cb->use_cache = cache_enabled();
    return cu_cl_programs_build(cb, err);
}

enum cu_status cu_cl_backend_new(const char *spec, struct cu_backend **out, struct cu_err *err)
{
    struct cu_cl_device_info *devs = NULL;
    int n = 0, index = -1;
    const char *why = NULL;
    *out = NULL;
    enum cu_status st = cu_cl_devices(&devs, &n, &why, err);
    if (!st)
        st = cu_cl_device_pick(spec, devs, n, why, &index, err);
    if (st || index < 0) { /* index < 0: default spec, no device: the caller falls back to ref */
        free(devs);
        return st;
    }
    struct cu_cl_backend *cb = calloc(1, sizeof *cb);
    if (!cb) {
        st = cu_fail(err, CU_EDEVICE, "%s: out of host memory", devs[index].pub.name);
        free(devs);
        return st;
    }
    cb->base.ops = &cl_table;
    cb->base.kind = CU_BACKEND_CL;
    fill_caps(cb, &devs[index]);
    free(devs);
    st = open_device(cb, err);
    if (st) {
        cl_destroy(&cb->base);
        return st;
    }
    *out = &cb->base;
    return CU_OK;
}

enum cu_status cu_cl_arg(struct cu_cl_backend *cb, cl_kernel k, const char *kname, cl_uint i, size_t size,
                         const void *value, struct cu_err *err)
{
    return CU_CL(cb, clSetKernelArg(k, i, size, value), kname, err);
}

enum cu_status cu_cl_launch(struct cu_cl_backend *cb, cl_kernel k, const char *kname, cl_uint dims,
                            const size_t *global, const size_t *local, struct cu_err *err)
{
    if (dims < 1 || dims > 3)
        return cu_fail(err, CU_EUSAGE, "%s: %s launched over %u dimensions (1 to 3)", cb->caps.name, kname,
                       (unsigned)dims);
    size_t g[3];
    for (cl_uint d = 0; d < dims; d++)
        g[d] = local ? (global[d] + local[d] - 1) / local[d] * local[d] : global[d];
    return CU_CL(cb, clEnqueueNDRangeKernel(cb->queue, k, dims, NULL, g, local, 0, NULL, NULL), kname, err);
}

enum cu_status cu_cl_launch_n(struct cu_cl_backend *cb, cl_kernel k, const char *kname, size_t n,
                              struct cu_err *err)
{
    if (n > INT_MAX)
        return cu_fail(err, CU_EDEVICE, "%s: %s over %zu elements: more than a kernel's int index holds",
                       cb->caps.name, kname, n);
    /* 256 suits GPUs of every vendor; a smaller device or kernel limit
     * (a register-heavy kernel on a GPU) wins. */
    size_t local = cb->policy.max_wg < 256 ? cb->policy.max_wg : 256, kwg = 0;
    if (clGetKernelWorkGroupInfo(k, cb->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kwg, &kwg, NULL) == CL_SUCCESS &&
        kwg > 0 && kwg < local)
        local = kwg;
    return cu_cl_launch(cb, k, kname, 1, &n, &local, err);
}

enum cu_status cu_cl_scratch(struct cu_cl_backend *cb, size_t bytes, cl_mem *out, struct cu_err *err)
{
    if (bytes <= cb->scratch_bytes && cb->scratch) {
        *out = cb->scratch;
        return CU_OK;
    }
    if (cb->caps.max_alloc && bytes > cb->caps.max_alloc)
        return cu_fail(err, CU_EDEVICE,
                       "%s: the convolution workspace needs %.2f GiB, more than the device's largest buffer "
                       "(%.2f GiB); try a smaller --batch or -s",
                       cb->caps.name, gib(bytes), gib(cb->caps.max_alloc));
    uint64_t used = cb->base.stats.bytes_live; /* the old scratch is released first */
    if (cb->caps.global_mem && used + bytes > cb->caps.global_mem)
        return cu_fail(err, CU_EDEVICE,
                       "%s: the convolution workspace needs %.2f GiB but only %.2f GiB of device memory are free; "
                       "try a smaller --batch or -s",
                       cb->caps.name, gib(bytes), gib(used < cb->caps.global_mem ? cb->caps.global_mem - used : 0));
    if (cb->scratch) {
        clReleaseMemObject(cb->scratch);
        cb->scratch = NULL;
        cb->scratch_bytes = 0;
    }
    cl_int rc;
    cl_mem m = clCreateBuffer(cb->ctx, CL_MEM_READ_WRITE, bytes, NULL, &rc);
    enum cu_status st = cu_cl_check(cb, rc, "clCreateBuffer", "scratch", err);
    if (st)
        return st;
    cb->scratch = m;
    cb->scratch_bytes = bytes;
    *out = m;
    return CU_OK;
}
