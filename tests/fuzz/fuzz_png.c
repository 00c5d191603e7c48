/* fuzz_png.c: libFuzzer target for the PNG reader (png_io.c): the size
 * probe, images (float RGB), label images and the mask union, each on the
 * same bytes, plus the mask union against a wrong size.
 *
 * Images over 2^20 pixels are only probed for their size: the reader
 * accepts up to CU_PNG_MAX_PIXELS (2^28) by design and allocates for them
 * before decoding, which is libFuzzer's malloc limit, not a bug. */
#include "fuzz.h"

#include <stdlib.h>

#include "clunet/image.h"

#define FUZZ_MAX_PIXELS (1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fz_scratch_file("png", data, size);
    struct cu_err err = {0};
    int h = 0, w = 0;
    if (!path || cu_image_read_size(path, &h, &w, &err))
        return 0;
    if ((long long)h * w > FUZZ_MAX_PIXELS)
        return 0;
    struct cu_image im = {0};
    cu_err_clear(&err);
    if (!cu_image_read_rgb(path, NULL, &im, &err))
        cu_image_free(&im);
    struct cu_labels lb = {0};
    cu_err_clear(&err);
    if (!cu_image_read_labels(path, &lb, &err))
        cu_labels_free(&lb);
    float *u = calloc((size_t)h * (size_t)w + 1, sizeof *u);
    if (u) {
        cu_err_clear(&err);
        (void)cu_image_or_mask(path, h, w, u, &err);
        cu_err_clear(&err);
        (void)cu_image_or_mask(path, 1, 1, u, &err); /* wrong size: must refuse, not write past u */
    }
    free(u);
    return 0;
}
