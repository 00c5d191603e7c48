/* fuzz_zip.c: libFuzzer target for the zip reader (io/zip_read.c) that
 * opens .keras archives: end-of-central-directory search, central
 * directory, local headers, stored and deflate entries, CRC. Every entry
 * the reader hands back is read end to end, so a bad length shows up
 * under ASan. */
#include "fuzz.h"

#include <stdlib.h>

#include "io/zip_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"config.json", "model.weights.h5", "metadata.json"};
    volatile unsigned sink = 0;
    for (int i = 0; i < 3; i++) {
        unsigned char *out = NULL;
        size_t len = 0;
        struct cu_err err = {0};
        if (cu_zip_extract(data, size, names[i], "fuzz.keras", &out, &len, &err))
            continue;
        for (size_t k = 0; k <= len; k++) /* the NUL past the end too */
            sink += out[k];
        free(out);
    }
    (void)sink;
    return 0;
}
