/* fuzz_csv.c: libFuzzer target for the submission CSV parser and the RLE
 * decoder (rle.c, submission.c): the bytes as a whole CSV file, then each
 * parsed row decoded into an image of a few sizes; also the bytes as one
 * bare pairs string for cu_rle_check / cu_rle_decode. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "clunet/rle.h"

static const int sizes[][2] = {{8, 8}, {1, 64}, {37, 3}};

static void decode_rows(const struct cu_sub *s)
{
    size_t rows = cu_sub_rows(s);
    int32_t lab[64 * 2];
    for (size_t i = 0; i < rows && i < 16; i++) {
        const char *id = cu_sub_image(s, i);
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            struct cu_err err = {0};
            int n = 0;
            (void)cu_sub_decode(s, id, sizes[k][0], sizes[k][1], lab, &n, &err);
        }
        (void)cu_sub_pixels(s, i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cu_err err = {0};
    const char *path = fz_scratch_file("csv", data, size);
    struct cu_sub *s = NULL;
    if (path && !cu_sub_read(&s, path, &err)) {
        decode_rows(s);
        cu_sub_free(s);
    }
    char *str = malloc(size + 1);
    if (!str)
        return 0;
    memcpy(str, data, size);
    str[size] = 0;
    cu_err_clear(&err);
    (void)cu_rle_check(str, "fuzz", &err);
    int32_t lab[111] = {0};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        cu_err_clear(&err);
        memset(lab, 0, sizeof lab);
        (void)cu_rle_decode(lab, sizes[k][0], sizes[k][1], 1, str, "fuzz", &err);
    }
    free(str);
    return 0;
}
