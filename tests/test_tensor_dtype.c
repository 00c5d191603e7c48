/* test_tensor_dtype.c: tensors with an element type (dtype.h) on ref and
 * on the first OpenCL CPU device (PoCL in CI): the dtype table (names,
 * sizes, parsing); an F16 tensor holds 2 bytes per element (allocation
 * accounting), starts zero, moves its own bytes exactly through
 * cu_tensor_write/read, zeroes and copies (odd element counts, so a byte
 * count that is not a multiple of 4); float32 transfers and every compute
 * op refuse it with a message naming the tensor and its dtype; a copy
 * between F16 and F32 is refused. All checks are bit-exact: nothing here
 * does arithmetic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/dtype.h"
#include "clunet/ops.h"
#include "testutil.h"

static void check_table(void)
{
    TU_CHECK(cu_dtype_size(CU_F32) == 4 && cu_dtype_size(CU_F16) == 2, "F32 4 bytes, F16 2 bytes");
    TU_CHECK(!strcmp(cu_dtype_name(CU_F32), "F32") && !strcmp(cu_dtype_name(CU_F16), "F16"), "names F32, F16");
    TU_CHECK(cu_dtype_parse("f16") == CU_F16 && cu_dtype_parse("F32") == CU_F32, "parse either case");
    TU_CHECK(cu_dtype_parse("F64") == -1 && cu_dtype_parse("") == -1 && cu_dtype_parse(NULL) == -1,
             "unknown names parse to -1");
    TU_CHECK(cu_dtype_desc((enum cu_dtype)CU_DTYPE_COUNT) == NULL && cu_dtype_size((enum cu_dtype)7) == 0,
             "no row outside the enum");
    TU_CHECK(cu_dtype_desc(CU_F32)->compute && !cu_dtype_desc(CU_F16)->compute, "ops compute in F32 only");
}

static void check_backend(const char *spec)
{
    struct cu_backend *be = NULL;
    struct cu_err err = {0};
    if (!tu_ok(cu_backend_open(spec, &be, &err), &err, spec))
        return;
    const struct cu_shape s = {3, 1, 1, 7}; /* 21 elements: 42 bytes */
    struct cu_backend_stats st0, st1;
    cu_backend_stats(be, &st0);
    struct cu_tensor *h = NULL, *h2 = NULL, *f = NULL;
    int ok = tu_ok(cu_tensor_new_dtype(be, s, CU_F16, "half", &h, &err), &err, "new F16 tensor");
    ok &= tu_ok(cu_tensor_new_dtype(be, s, CU_F16, "half2", &h2, &err), &err, "second F16 tensor");
    ok &= tu_ok(cu_tensor_new(be, s, "single", &f, &err), &err, "F32 tensor");
    if (!ok)
        goto out;
    cu_backend_stats(be, &st1);
    TU_CHECK(st1.bytes_live - st0.bytes_live == 42 + 42 + 84, "%s: 2 bytes per F16 element, 4 per F32 (%llu live)",
             spec, (unsigned long long)(st1.bytes_live - st0.bytes_live));
    TU_CHECK(h->dtype == CU_F16 && f->dtype == CU_F32 && cu_tensor_bytes(h) == 42, "%s: dtype and bytes", spec);
    uint16_t in[21], back[21];
    memset(back, 0xff, sizeof back);
    tu_ok(cu_tensor_read(h, back, &err), &err, "read");
    int zero = 1;
    for (int i = 0; i < 21; i++)
        zero &= back[i] == 0;
    TU_CHECK(zero, "%s: a new F16 tensor is zero", spec);
    for (int i = 0; i < 21; i++)
        in[i] = (uint16_t)(0x3c00 + 977 * i); /* arbitrary bit patterns */
    tu_ok(cu_tensor_write(h, in, &err), &err, "write");
    tu_ok(cu_tensor_read(h, back, &err), &err, "read");
    TU_CHECK(!memcmp(in, back, sizeof in), "%s: F16 bytes round-trip exactly", spec);
    tu_ok(cu_tensor_copy(be, h2, h, &err), &err, "copy F16");
    memset(back, 0, sizeof back);
    tu_ok(cu_tensor_read(h2, back, &err), &err, "read copy");
    TU_CHECK(!memcmp(in, back, sizeof in), "%s: F16 copy exact", spec);
    tu_ok(cu_tensor_set_batch(h2, 2, &err), &err, "batch 2");
    tu_ok(cu_tensor_zero(h2, &err), &err, "zero 2 of 3 images");
    tu_ok(cu_tensor_set_batch(h2, 3, &err), &err, "batch 3");
    tu_ok(cu_tensor_read(h2, back, &err), &err, "read zeroed");
    int z = 1;
    for (int i = 0; i < 14; i++)
        z &= back[i] == 0;
    TU_CHECK(z && !memcmp(back + 14, in + 14, 7 * sizeof *in), "%s: zero of a partial F16 batch, rest kept", spec);

    float fl[21] = {0};
    struct cu_err e1 = {0}, e2 = {0}, e3 = {0}, e4 = {0};
    TU_CHECK(cu_tensor_upload(h, fl, &e1) == CU_EUSAGE && strstr(e1.msg, "half") && strstr(e1.msg, "F16"),
             "%s: float upload into F16 refused: %s", spec, e1.msg);
    TU_CHECK(cu_tensor_download(h, fl, &e2) == CU_EUSAGE && strstr(e2.msg, "half"),
             "%s: float download of F16 refused: %s", spec, e2.msg);
    TU_CHECK(cu_relu_forward(be, f, h, &e3) == CU_EUSAGE && strstr(e3.msg, "half") && strstr(e3.msg, "F16"),
             "%s: an op refuses an F16 input: %s", spec, e3.msg);
    TU_CHECK(cu_tensor_copy(be, f, h, &e4) == CU_EUSAGE && strstr(e4.msg, "F16") && strstr(e4.msg, "F32"),
             "%s: copy F16 -> F32 refused: %s", spec, e4.msg);
    struct cu_tensor *bad = NULL;
    struct cu_err e5 = {0};
    TU_CHECK(cu_tensor_new_dtype(be, s, (enum cu_dtype)9, "bad", &bad, &e5) == CU_EUSAGE && !bad,
             "%s: unknown dtype refused: %s", spec, e5.msg);
out:
    cu_tensor_free(h);
    cu_tensor_free(h2);
    cu_tensor_free(f);
    cu_backend_stats(be, &st1);
    TU_CHECK(st1.bytes_live == st0.bytes_live, "%s: every byte released", spec);
    cu_backend_free(be);
}

int main(void)
{
    check_table();
    check_backend("ref");
    check_backend("cpu");
    return tu_finish();
}
