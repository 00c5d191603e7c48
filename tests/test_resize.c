/* test_resize.c: cu_resize against scikit-image 0.19's resize, on the
 * fixtures of datasets/resize_fixtures.bin (tools/make_resize_fixtures.py):
 * RGB images down, up, mixed, identity, extreme aspect, to one pixel; a
 * union mask down and up (also thresholded at 0.5, as the loader does); and
 * probability maps resized back to an original size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/image.h"
#include "testutil.h"

static int read_i32(FILE *f, int *v)
{
    unsigned char b[4];
    if (fread(b, 1, 4, f) != 4)
        return -1;
    *v = (int)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
    return 0;
}

static float *read_f32(FILE *f, size_t n)
{
    float *v = malloc(sizeof *v * n);
    if (v && fread(v, sizeof *v, n, f) != n) { /* fixtures are little-endian, as the hosts */
        free(v);
        return NULL;
    }
    return v;
}

int main(void)
{
    const char *path = tu_source_path("datasets/resize_fixtures.bin");
    FILE *f = fopen(path, "rb");
    char magic[4] = {0};
    int version = 0, count = 0;
    int ok = f && fread(magic, 1, 4, f) == 4 && !memcmp(magic, "CURZ", 4) && !read_i32(f, &version) &&
             version == 1 && !read_i32(f, &count) && count > 0;
    TU_CHECK(ok, "%s: header (%d cases)", path, count);
    for (int k = 0; ok && k < count; k++) {
        int c, sh, sw, dh, dw;
        if (read_i32(f, &c) || read_i32(f, &sh) || read_i32(f, &sw) || read_i32(f, &dh) || read_i32(f, &dw)) {
            TU_CHECK(0, "case %d: truncated", k);
            break;
        }
        float *src = read_f32(f, (size_t)c * sh * sw);
        float *want = read_f32(f, (size_t)c * dh * dw);
        float *got = malloc(sizeof *got * (size_t)c * dh * dw);
        struct cu_err err = {0};
        if (!src || !want || !got || !tu_ok(cu_resize(src, c, sh, sw, got, dh, dw, &err), &err, "resize")) {
            TU_CHECK(0, "case %d: read or resize failed", k);
        } else {
            size_t n = (size_t)c * dh * dw;
            double d = tu_max_abs_err(got, want, n);
            /* 1e-4: the bound. The sums run in double as scipy's;
             * what remains is float32 storage (inputs v/255 and outputs). */
            TU_CHECK(d <= 1e-4, "case %d: %dx%dx%d -> %dx%d max abs diff %.3g (<= 1e-4)", k, c, sh, sw,
                     dh, dw, d);
            if (c == 1) { /* masks: the 0.5 threshold must agree too, away from ties */
                size_t flips = 0;
                for (size_t i = 0; i < n; i++)
                    if ((got[i] > 0.5f) != (want[i] > 0.5f) && (want[i] > 0.5001f || want[i] < 0.4999f))
                        flips++;
                TU_CHECK(flips == 0, "case %d: %zu pixels differ after > 0.5", k, flips);
            }
        }
        free(src), free(want), free(got);
    }
    if (f)
        fclose(f);

    /* Bad sizes are refused, not crashed on. */
    struct cu_err err = {0};
    float one = 1, out[4];
    TU_CHECK(cu_resize(&one, 1, 1, 1, out, 0, 2, &err) == CU_EUSAGE, "zero output size refused: %s", err.msg);
    return tu_finish();
}
