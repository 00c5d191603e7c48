/* test_cl_act.c: the cl backend's memory and element-wise ops on odd sizes:
 * upload/download round trip, zero (also of a partial batch), copy, axpy
 * against the ref backend, ReLU and sigmoid forward/backward against their
 * definitions in ops.h evaluated in double on the host (ref's own
 * element-wise ops are another helper's; the definitions are what both
 * must meet), in place where ops.h allows it; and an allocation beyond
 * CL_DEVICE_MAX_MEM_ALLOC_SIZE or the free global memory refused with a
 * message naming the tensor; the helpers the op files use (kernel lookup by
 * name, the scratch buffer).
 * Runs on the first OpenCL CPU device (PoCL in CI). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/cl_internal.h"
#include "clunet/ops.h"
#include "testutil.h"

static const struct cu_shape shapes[] = {
    {1, 1, 1, 1}, {1, 1, 1, 257}, {3, 5, 7, 11}, {2, 3, 17, 13}, {1, 1, 1, 4099},
};

static char label[64];
static const char *lab(struct cu_shape s)
{
    snprintf(label, sizeof label, "%dx%dx%dx%d", s.n, s.c, s.h, s.w);
    return label;
}

static float *random_host(size_t n, uint64_t *rng, float lo, float hi)
{
    float *h = malloc(n * sizeof *h);
    tu_fill_uniform(h, n, rng, lo, hi);
    return h;
}

/* Bit-exact checks: transfers, zero and copy move bytes, no arithmetic. */
static void check_memory(struct cu_backend *cl, struct cu_shape s, uint64_t *rng)
{
    size_t n = cu_shape_numel(s);
    struct cu_err err = {0};
    float *h = random_host(n, rng, -3, 3);
    struct cu_tensor *a = tu_tensor(cl, s, "a", h), *b = tu_tensor(cl, s, "b", NULL);
    float *back = tu_download(a);
    TU_CHECK(!memcmp(back, h, n * sizeof *h), "round trip %s exact", lab(s));
    free(back);
    float *zeros = tu_download(b);
    size_t nz = 0;
    for (size_t i = 0; i < n; i++)
        nz += zeros[i] != 0.0f;
    TU_CHECK(nz == 0, "new tensor %s is zero-filled (%zu non-zero)", lab(s), nz);
    free(zeros);
    tu_ok(cu_tensor_copy(cl, b, a, &err), &err, "copy");
    float *copied = tu_download(b);
    TU_CHECK(!memcmp(copied, h, n * sizeof *h), "copy %s exact", lab(s));
    free(copied);
    tu_ok(cu_tensor_zero(a, &err), &err, "zero");
    float *z = tu_download(a);
    nz = 0;
    for (size_t i = 0; i < n; i++)
        nz += z[i] != 0.0f;
    TU_CHECK(nz == 0, "zero %s (%zu non-zero left)", lab(s), nz);
    free(z);
    cu_tensor_free(a);
    cu_tensor_free(b);
    free(h);
}

/* Zero over a partial batch leaves the rest of the allocation alone. */
static void check_partial_zero(struct cu_backend *cl, uint64_t *rng)
{
    struct cu_shape s = {3, 2, 5, 3};
    size_t n = cu_shape_numel(s), per = n / 3;
    struct cu_err err = {0};
    float *h = random_host(n, rng, 1, 2);
    struct cu_tensor *t = tu_tensor(cl, s, "partial", h);
    tu_ok(cu_tensor_set_batch(t, 1, &err), &err, "set batch");
    tu_ok(cu_tensor_zero(t, &err), &err, "zero batch 1");
    tu_ok(cu_tensor_set_batch(t, 3, &err), &err, "set batch");
    float *d = tu_download(t);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += i < per ? d[i] != 0.0f : d[i] != h[i];
    TU_CHECK(bad == 0, "zero of batch 1 of 3 touches only that image (%zu wrong)", bad);
    free(d);
    free(h);
    cu_tensor_free(t);
}

/* axpy against ref. Tolerance: |y| <= 3 and |alpha*x| <= 1.5 here, and one
 * float multiply-add differs from another (fused or not) by at most about
 * 1 ulp of 4.5, i.e. 5e-7; 1e-6 leaves room for that and no more. */
static void check_axpy(struct cu_backend *cl, struct cu_backend *ref, struct cu_shape s, uint64_t *rng)
{
    size_t n = cu_shape_numel(s);
    struct cu_err err = {0};
    float *hy = random_host(n, rng, -3, 3), *hx = random_host(n, rng, -2, 2);
    struct cu_tensor *cy = tu_tensor(cl, s, "y", hy), *cx = tu_tensor(cl, s, "x", hx);
    struct cu_tensor *ry = tu_tensor(ref, s, "y", hy), *rx = tu_tensor(ref, s, "x", hx);
    tu_ok(cu_axpy(cl, cy, -0.75f, cx, &err), &err, "cl axpy");
    tu_ok(cu_axpy(ref, ry, -0.75f, rx, &err), &err, "ref axpy");
    float *a = tu_download(cy), *b = tu_download(ry);
    double e = tu_max_abs_err(a, b, n);
    TU_CHECK(e <= 1e-6, "axpy %s cl vs ref max abs err %.3g <= 1e-6", lab(s), e);
    free(a), free(b), free(hx), free(hy);
    cu_tensor_free(cy), cu_tensor_free(cx), cu_tensor_free(ry), cu_tensor_free(rx);
}

static double sigmoid_d(double x) { return 1.0 / (1.0 + exp(-x)); }

static void check_relu(struct cu_backend *cl, struct cu_shape s, uint64_t *rng)
{
    size_t n = cu_shape_numel(s);
    struct cu_err err = {0};
    float *hx = random_host(n, rng, -2, 2), *hdy = random_host(n, rng, -1, 1);
    if (n > 3) /* the kink: relu(0) = 0, gradient 0 at y = 0; NaN passes, as in ref */
        hx[1] = 0.0f, hx[2] = -0.0f, hx[3] = NAN;
    struct cu_tensor *x = tu_tensor(cl, s, "x", hx), *y = tu_tensor(cl, s, "y", NULL);
    struct cu_tensor *dy = tu_tensor(cl, s, "dy", hdy);
    tu_ok(cu_relu_forward(cl, y, x, &err), &err, "relu fwd");
    tu_ok(cu_relu_backward(cl, dy, y, &err), &err, "relu bwd");
    tu_ok(cu_relu_forward(cl, x, x, &err), &err, "relu fwd in place");
    float *gy = tu_download(y), *gdy = tu_download(dy), *gx = tu_download(x);
    size_t bad_f = 0, bad_b = 0, bad_i = 0;
    for (size_t i = 0; i < n; i++) {
        float want = hx[i] < 0.0f ? 0.0f : hx[i];
        int nan = isnan(want);
        bad_f += nan ? !isnan(gy[i]) : gy[i] != want;
        bad_i += nan ? !isnan(gx[i]) : gx[i] != want;
        bad_b += gdy[i] != (want > 0.0f ? hdy[i] : 0.0f);
    }
    /* max and a comparison are exact in float: no tolerance. */
    TU_CHECK(bad_f == 0, "relu fwd %s exact (%zu wrong)", lab(s), bad_f);
    TU_CHECK(bad_i == 0, "relu fwd in place %s exact (%zu wrong)", lab(s), bad_i);
    TU_CHECK(bad_b == 0, "relu bwd %s exact (%zu wrong)", lab(s), bad_b);
    free(gy), free(gdy), free(gx), free(hx), free(hdy);
    cu_tensor_free(x), cu_tensor_free(y), cu_tensor_free(dy);
}

/* Tolerances: OpenCL's exp is within 3 ulp, the division 2.5 ulp more;
 * against double that is < 1e-6 relative (8 ulp). Backward: dx += dy*y*(1-y)
 * with |dx| <= 1, |dy*y*(1-y)| <= 0.25: three float roundings of values
 * below 1.25 stay under 1e-6 absolute. */
static void check_sigmoid(struct cu_backend *cl, struct cu_shape s, uint64_t *rng)
{
    size_t n = cu_shape_numel(s);
    struct cu_err err = {0};
    float *hx = random_host(n, rng, -12, 12), *hdy = random_host(n, rng, -1, 1);
    float *hdx = random_host(n, rng, -1, 1);
    /* Far tails, where a naive 1/(1+exp(-x)) overflows exp: checked by
     * absolute error (a device may flush the tiny results to zero). */
    static const float tails[] = {-1e30f, -100.0f, -88.0f, 88.0f, 100.0f, 1e30f};
    size_t ntails = n >= 8 ? sizeof tails / sizeof tails[0] : 0;
    memcpy(hx, tails, ntails * sizeof *hx);
    struct cu_tensor *x = tu_tensor(cl, s, "x", hx), *y = tu_tensor(cl, s, "y", NULL);
    struct cu_tensor *dy = tu_tensor(cl, s, "dy", hdy), *dx = tu_tensor(cl, s, "dx", hdx);
    tu_ok(cu_sigmoid_forward(cl, y, x, &err), &err, "sigmoid fwd");
    tu_ok(cu_sigmoid_backward(cl, dx, dy, y, &err), &err, "sigmoid bwd");
    float *gy = tu_download(y), *gdx = tu_download(dx);
    tu_ok(cu_sigmoid_forward(cl, x, x, &err), &err, "sigmoid fwd in place");
    float *gx = tu_download(x);
    double ef = 0, ei = 0, eb = 0, et = 0;
    for (size_t i = 0; i < n; i++) {
        double want = sigmoid_d(hx[i]);
        if (i < ntails) {
            et = fmax(et, fmax(fabs(gy[i] - want), fabs(gx[i] - want)));
            if (isnan(gy[i]) || isnan(gx[i]))
                et = INFINITY;
        } else {
            ef = fmax(ef, fabs(gy[i] - want) / want);
            ei = fmax(ei, fabs(gx[i] - want) / want);
        }
        double y1 = gy[i]; /* backward from the device's y, so only backward's error counts */
        double wb = hdx[i] + (double)hdy[i] * y1 * (1.0 - y1);
        eb = fmax(eb, fabs(gdx[i] - wb));
    }
    TU_CHECK(ef <= 1e-6, "sigmoid fwd %s max rel err %.3g <= 1e-6", lab(s), ef);
    TU_CHECK(ei <= 1e-6, "sigmoid fwd in place %s max rel err %.3g <= 1e-6", lab(s), ei);
    TU_CHECK(eb <= 1e-6, "sigmoid bwd %s max abs err %.3g <= 1e-6", lab(s), eb);
    if (ntails)
        TU_CHECK(et <= 1e-7, "sigmoid fwd %s tails (|x| up to 1e30) max abs err %.3g <= 1e-7", lab(s), et);
    free(gy), free(gdx), free(gx), free(hx), free(hdy), free(hdx);
    cu_tensor_free(x), cu_tensor_free(y), cu_tensor_free(dy), cu_tensor_free(dx);
}

/* A tensor past the device's largest buffer fails before the driver is
 * asked, naming the tensor and suggesting a smaller batch or size. */
static void check_too_big(struct cu_backend *cl)
{
    struct cu_caps caps;
    cu_backend_caps(cl, &caps);
    TU_CHECK(caps.max_alloc > 0, "device reports a max allocation (%llu bytes)", (unsigned long long)caps.max_alloc);
    uint64_t floats = caps.max_alloc / sizeof(float) + 1;
    int w = 1 << 14, h = (int)((floats + (uint64_t)w - 1) / (uint64_t)w);
    struct cu_err err = {0};
    struct cu_tensor *t = NULL;
    struct cu_backend_stats before, after;
    cu_backend_stats(cl, &before);
    enum cu_status st = cu_tensor_new(cl, (struct cu_shape){1, 1, h, w}, "dec9.huge", &t, &err);
    cu_backend_stats(cl, &after);
    TU_CHECK(st == CU_EDEVICE && !t, "1x1x%dx%d (> max alloc) fails with CU_EDEVICE (status %d)", h, w, (int)st);
    TU_CHECK(strstr(err.msg, "dec9.huge") && strstr(err.msg, "--batch") && strstr(err.msg, " -s"),
             "message names the tensor and suggests --batch or -s: %s", err.msg);
    TU_CHECK(!strchr(err.msg, '\n'), "message is one line");
    TU_CHECK(after.bytes_live == before.bytes_live && after.allocs == before.allocs,
             "nothing was allocated (live bytes %llu -> %llu)", (unsigned long long)before.bytes_live,
             (unsigned long long)after.bytes_live);
}

/* The global-memory check, with the device's size lowered in the backend's
 * caps so that a small tensor crosses it (no real memory is exhausted). */
static void check_global_limit(struct cu_backend *cl)
{
    struct cu_cl_backend *cb = cu_cl(cl);
    uint64_t saved = cb->caps.global_mem;
    struct cu_tensor *held = tu_tensor(cl, (struct cu_shape){1, 1, 16, 16}, "held", NULL);
    cb->caps.global_mem = cl->stats.bytes_live + 4000; /* room for 1000 floats more */
    struct cu_err err = {0};
    struct cu_tensor *t = NULL;
    enum cu_status st = cu_tensor_new(cl, (struct cu_shape){1, 1, 32, 32}, "enc1.act", &t, &err);
    TU_CHECK(st == CU_EDEVICE && !t && strstr(err.msg, "enc1.act") && strstr(err.msg, "free") &&
                 strstr(err.msg, "--batch"),
             "past free global memory: CU_EDEVICE naming the tensor: %s", err.msg);
    cu_err_clear(&err);
    st = cu_tensor_new(cl, (struct cu_shape){1, 1, 10, 100}, "fits", &t, &err);
    TU_CHECK(st == CU_OK, "exactly the free memory still fits");
    cu_tensor_free(t);
    cb->caps.global_mem = saved;
    cu_tensor_free(held);
}

static void check_helpers(struct cu_backend *cl)
{
    struct cu_cl_backend *cb = cu_cl(cl);
    struct cu_err err = {0};
    cl_kernel a = NULL, b = NULL;
    tu_ok(cu_cl_kernel(cb, "cu_act_relu_fwd", &a, &err), &err, "kernel by name");
    tu_ok(cu_cl_kernel(cb, "cu_act_relu_fwd", &b, &err), &err, "kernel by name again");
    TU_CHECK(a && a == b, "a kernel is created once and then reused");
    enum cu_status st = cu_cl_kernel(cb, "cu_no_such_kernel", &b, &err);
    TU_CHECK(st == CU_EDEVICE && strstr(err.msg, "cu_no_such_kernel"), "an unknown kernel fails naming it: %s",
             err.msg);
    cu_err_clear(&err);
    cl_mem m1 = NULL, m2 = NULL, m3 = NULL;
    tu_ok(cu_cl_scratch(cb, 1000, &m1, &err), &err, "scratch 1000 B");
    tu_ok(cu_cl_scratch(cb, 500, &m2, &err), &err, "scratch 500 B");
    TU_CHECK(m1 && m1 == m2 && cb->scratch_bytes == 1000, "a smaller request reuses the scratch buffer");
    tu_ok(cu_cl_scratch(cb, 5000, &m3, &err), &err, "scratch 5000 B");
    TU_CHECK(m3 && cb->scratch == m3 && cb->scratch_bytes == 5000, "a larger request grows it");
    st = cu_cl_scratch(cb, (size_t)cb->caps.max_alloc + 1, &m3, &err);
    TU_CHECK(st == CU_EDEVICE && strstr(err.msg, "workspace") && strstr(err.msg, "--batch"),
             "scratch past max alloc fails cleanly: %s", err.msg);
    TU_CHECK(cb->scratch_bytes == 5000, "and keeps the old buffer");
}

int main(void)
{
    struct cu_err err = {0};
    struct cu_backend *cl = NULL, *ref = NULL;
    if (!tu_ok(cu_backend_open("cpu", &cl, &err), &err, "open cl cpu device") ||
        !tu_ok(cu_backend_open("ref", &ref, &err), &err, "open ref"))
        return tu_finish();
    TU_CHECK(cu_backend_kind(cl) == CU_BACKEND_CL, "cpu spec opens the cl backend (%s)", cu_backend_name(cl));
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        check_memory(cl, shapes[i], &rng);
        check_axpy(cl, ref, shapes[i], &rng);
        check_relu(cl, shapes[i], &rng);
        check_sigmoid(cl, shapes[i], &rng);
    }
    check_partial_zero(cl, &rng);
    check_too_big(cl);
    check_global_limit(cl);
    check_helpers(cl);
    tu_ok(cu_backend_sync(cl, &err), &err, "sync");
    struct cu_backend_stats st;
    cu_backend_stats(cl, &st);
    TU_CHECK(st.bytes_live == 0, "every tensor freed (%llu bytes live)", (unsigned long long)st.bytes_live);
    cu_backend_free(cl);
    cu_backend_free(ref);
    return tu_finish();
}
