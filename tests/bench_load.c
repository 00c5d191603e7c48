/* bench_load.c: times loading a dataset into memory at S x S with the
 * loader of dataset.h (2 threads), as the trainer does before its first
 * epoch. Default: the real DSB2018 dev split (../shared, 503 images) at
 * S = 128 and 256. Usage: bench_load [DIR [S...]]. A benchmark, not a test:
 * `meson test -C build --benchmark load`.
 * With CLUNET_DUMP=FILE set, the arrays of the last size are written to
 * FILE as raw float32 (images then masks), for tools/compare_loader.py. */
#include <stdio.h>
#include <stdlib.h>

#include "clunet/dataset.h"
#include "clunet/progress.h"
#include "testutil.h"

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : tu_shared_path("datasets/dsb2018/stage1_train");
    int sizes[8] = {128, 256}, ns = 2;
    if (argc > 2)
        for (ns = 0; ns < 8 && ns + 2 < argc; ns++)
            sizes[ns] = atoi(argv[ns + 2]);
    for (int k = 0; k < ns; k++) {
        struct cu_dataset_opts o = {.size = sizes[k], .need_masks = 1, .threads = 2, .progress = stderr};
        struct cu_dataset *ds = NULL;
        struct cu_err err = {0};
        double t0 = cu_now();
        if (!tu_ok(cu_dataset_open(dir, &o, &ds, &err), &err, "load"))
            continue;
        double t = cu_now() - t0;
        double fg = 0;
        for (size_t i = 0; i < (size_t)ds->n * (size_t)ds->size * (size_t)ds->size; i++)
            fg += ds->masks[i];
        printf("load %s: %d images at S=%d in %.2f s (%.1f images/s), 2 threads, foreground %.3f\n", ds->dir,
               ds->n, ds->size, t, ds->n / t, fg / ((double)ds->n * ds->size * ds->size));
        TU_CHECK(ds->n > 0, "loaded %d images at S=%d", ds->n, ds->size);
        const char *dump = getenv("CLUNET_DUMP");
        FILE *f = dump && k == ns - 1 ? fopen(dump, "wb") : NULL;
        if (f) {
            size_t ss = (size_t)ds->size * (size_t)ds->size, n = (size_t)ds->n;
            int ok = fwrite(ds->images, sizeof(float), 3 * ss * n, f) == 3 * ss * n &&
                     fwrite(ds->masks, sizeof(float), ss * n, f) == ss * n;
            TU_CHECK(fclose(f) == 0 && ok, "wrote %s", dump);
        }
        cu_dataset_free(ds);
    }
    return tu_finish();
}
