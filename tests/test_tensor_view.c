/* test_tensor_view.c: views into a flat buffer (cu_tensor_view) on ref and
 * on the first OpenCL CPU device (PoCL in CI): views at aligned offsets
 * read and write the base's storage exactly where they say, ops on a view
 * touch nothing outside it, misaligned / overrunning views and views of
 * views are refused with a message naming them, and views hold no memory
 * of their own (the backend's live bytes count the base only). Bit-exact:
 * transfers and zero move bytes, the ReLU of a view is compared with the
 * ReLU of its values (max(0, x), exact). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/ops.h"
#include "testutil.h"

static void check_backend(const char *spec)
{
    struct cu_backend *be = NULL;
    struct cu_err err = {0};
    if (!tu_ok(cu_backend_open(spec, &be, &err), &err, spec))
        return;
    const size_t align = cu_backend_view_align(be) / sizeof(float);
    const size_t unit = align < 8 ? 8 : align, n = 5 * unit; /* views at multiples of unit */
    TU_CHECK(align >= 1 && cu_backend_view_align(be) % sizeof(float) == 0, "%s: views start at multiples of %zu bytes",
             spec, cu_backend_view_align(be));
    float *h = malloc(n * sizeof *h), *back = malloc(n * sizeof *back);
    uint64_t rng = 11;
    tu_fill_uniform(h, n, &rng, -1, 1);
    struct cu_backend_stats s0, s1;
    struct cu_tensor *base = tu_tensor(be, (struct cu_shape){1, 1, 1, (int)n}, "flat", h), *a = NULL, *b = NULL;
    cu_backend_stats(be, &s0);
    /* a: 3 elements at unit; b: (2, 1, 1, 3) at 3 * unit */
    int ok = tu_ok(cu_tensor_view(base, unit, (struct cu_shape){1, 1, 1, 3}, "a", &a, &err), &err, "view a");
    ok &= tu_ok(cu_tensor_view(base, 3 * unit, (struct cu_shape){2, 1, 1, 3}, "b", &b, &err), &err, "view b");
    cu_backend_stats(be, &s1);
    TU_CHECK(s1.bytes_live == s0.bytes_live && s1.allocs == s0.allocs, "%s: views allocate nothing", spec);
    if (ok) {
        float va[3], vb[6], in[3] = {5, -6, 7};
        tu_ok(cu_tensor_download(a, va, &err), &err, "read a");
        tu_ok(cu_tensor_download(b, vb, &err), &err, "read b");
        TU_CHECK(!memcmp(va, h + unit, sizeof va) && !memcmp(vb, h + 3 * unit, sizeof vb),
                 "%s: views read the base at their offsets", spec);
        tu_ok(cu_tensor_upload(a, in, &err), &err, "write a");
        tu_ok(cu_tensor_zero(b, &err), &err, "zero b");
        tu_ok(cu_relu_forward(be, a, a, &err), &err, "relu a in place");
        tu_ok(cu_tensor_download(base, back, &err), &err, "read base");
        memcpy(h + unit, (float[3]){5, 0, 7}, 3 * sizeof *h);
        memset(h + 3 * unit, 0, 6 * sizeof *h);
        TU_CHECK(!memcmp(back, h, n * sizeof *h), "%s: writes, zero and an op through views land in place only",
                 spec);
    }
    struct cu_tensor *bad = NULL;
    struct cu_err e1 = {0}, e2 = {0}, e3 = {0};
    if (align > 1)
        TU_CHECK(cu_tensor_view(base, 1, (struct cu_shape){1, 1, 1, 1}, "odd", &bad, &e1) == CU_EUSAGE &&
                     strstr(e1.msg, "odd") && !bad,
                 "%s: a misaligned view refused: %s", spec, e1.msg);
    TU_CHECK(cu_tensor_view(base, 4 * unit, (struct cu_shape){1, 1, 1, (int)unit + 1}, "long", &bad, &e2) ==
                     CU_EUSAGE && strstr(e2.msg, "long") && !bad,
             "%s: a view past the end refused: %s", spec, e2.msg);
    if (a)
        TU_CHECK(cu_tensor_view(a, 0, (struct cu_shape){1, 1, 1, 1}, "inner", &bad, &e3) == CU_EUSAGE && !bad,
                 "%s: a view of a view refused: %s", spec, e3.msg);
    cu_tensor_free(a);
    cu_tensor_free(b);
    cu_backend_stats(be, &s1);
    TU_CHECK(s1.bytes_live == s0.bytes_live, "%s: freeing views frees nothing of the base", spec);
    cu_tensor_free(base);
    cu_backend_free(be);
    free(h);
    free(back);
}

int main(void)
{
    check_backend("ref");
    check_backend("cpu");
    return tu_finish();
}
