/* fuzz_tiff.c: libFuzzer target for the TIFF decoder (tiff_read.c, tiff_meta.c) through
 * the one image reader: probe, every page, and each conversion (fz_read_image). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fz_scratch_file("tiff", data, size);
    if (path)
        fz_read_image(path);
    return 0;
}
