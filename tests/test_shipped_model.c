/* test_shipped_model.c: the model that ships in models/ (models/README.md).
 *   - its file is F16, at most 16 MB, and carries the provenance facts the
 *     README promises (command, commit, data and licence, date, device,
 *     training time, validation scores);
 *   - on ref it predicts the committed sample datasets/samples/
 *     fluo-ed4b8e0d75.png as it did when the expected labels were made
 *     (tools/make-shipped-expected): foreground Dice >= 0.99 against
 *     datasets/fixtures/shipped/fluo-ed4b8e0d75_labels.png and a nucleus
 *     count within 2 % of the expected one. ref is deterministic, so on
 *     the machine that made them the match is exact; the tolerance leaves
 *     room for another compiler's float contraction moving a few boundary
 *     pixels across the 0.5 threshold, and nothing more.
 * argv[1]: the clunet binary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clunet/image.h"
#include "clunet/safetensors.h"
#include "predict_fixture.h"
#include "testutil.h"

#define SAMPLE "fluo-ed4b8e0d75"

static int count_nuclei(const struct cu_labels *l)
{
    uint32_t max = 0;
    for (size_t i = 0; i < (size_t)l->h * l->w; i++)
        max = l->v[i] > max ? l->v[i] : max;
    char *seen = calloc((size_t)max + 1, 1);
    int n = 0;
    for (size_t i = 0; seen && i < (size_t)l->h * l->w; i++)
        if (l->v[i] && !seen[l->v[i]])
            seen[l->v[i]] = 1, n++;
    free(seen);
    return n;
}

static void check_file(const char *model)
{
    struct stat sb;
    long long size = stat(model, &sb) == 0 ? (long long)sb.st_size : -1;
    TU_CHECK(size > 0 && size <= 16 * 1000 * 1000, "%s exists, %lld bytes (at most 16 MB)", model, size);
    struct cu_st_file *f = NULL;
    struct cu_err err = {0};
    if (!tu_ok(cu_st_file_read(model, &f, &err), &err, "read the shipped model"))
        return;
    int f16 = cu_st_file_count(f) > 0;
    for (int i = 0; i < cu_st_file_count(f); i++)
        f16 &= cu_st_file_entry(f, i)->dtype == CU_ST_F16;
    TU_CHECK(f16, "every tensor stored as F16");
    static const char *const keys[] = {"provenance", "command", "commit",   "data",     "licence",
                                       "trained",    "device",  "cpu",      "training_time", "eval_dsb",
                                       "eval_dice",  "eval_iou", "eval_images"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        const char *v = cu_st_file_meta(f, keys[k]);
        TU_CHECK(v && *v, "provenance fact %s: %s", keys[k], v ? v : "(missing)");
    }
    const char *lic = cu_st_file_meta(f, "licence");
    TU_CHECK(lic && strstr(lic, "CC0"), "the data's licence is CC0");
    cu_st_file_free(f);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return fprintf(stderr, "usage: test_shipped_model CLUNET\n"), 1;
    char model[2048], sample[2048], expected[2048], args[8192], out[4096], err_buf[4096], got[2048];
    snprintf(model, sizeof model, "%s", tu_source_path("models/nuclei.safetensors"));
    snprintf(sample, sizeof sample, "%s", tu_source_path("datasets/samples/" SAMPLE ".png"));
    snprintf(expected, sizeof expected, "%s", tu_source_path("datasets/fixtures/shipped/" SAMPLE "_labels.png"));
    check_file(model);

    snprintf(args, sizeof args, "--device ref predict --model '%s' '%s' --out '%s' --instances -q", model, sample,
             pf_path("out"));
    int rc = pf_run(argv[1], args, out, sizeof out, err_buf, sizeof err_buf);
    TU_CHECK(rc == 0, "predict the sample on ref (rc %d): %s", rc, err_buf);
    snprintf(got, sizeof got, "%s/" SAMPLE "_labels.png", pf_path("out"));
    struct cu_labels a = {0}, b = {0};
    struct cu_err err = {0};
    if (tu_ok(cu_image_read_labels(got, &a, &err), &err, "read the predicted labels") &&
        tu_ok(cu_image_read_labels(expected, &b, &err), &err, "read the expected labels") &&
        TU_CHECK(a.h == b.h && a.w == b.w, "same size %dx%d", a.w, a.h)) {
        size_t inter = 0, fa = 0, fb = 0;
        for (size_t i = 0; i < (size_t)a.h * a.w; i++) {
            fa += a.v[i] != 0, fb += b.v[i] != 0;
            inter += a.v[i] && b.v[i];
        }
        double dice = fa + fb ? 2.0 * inter / (double)(fa + fb) : 1.0;
        int na = count_nuclei(&a), nb = count_nuclei(&b);
        TU_CHECK(nb > 20, "the expected labels hold %d nuclei (a real image, not an empty mask)", nb);
        TU_CHECK(dice >= 0.99, "foreground Dice against the expected labels %.4f (at least 0.99)", dice);
        TU_CHECK(abs(na - nb) * 100 <= 2 * nb, "%d nuclei found, %d expected (within 2 %%)", na, nb);
    }
    cu_labels_free(&a);
    cu_labels_free(&b);
    pf_cleanup();
    return tu_finish();
}
