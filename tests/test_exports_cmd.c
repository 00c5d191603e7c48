/* test_exports_cmd.c: the export flags of `clunet predict` (argv[1] is the
 * built binary) on a tiny He-initialised model and synthetic PNGs: which
 * files each flag writes (and nothing else, no temporary file left), the
 * usage errors of --labels-format, --prob-format and --pixel-size (exit 1,
 * one line), and an export that cannot be written (exit 4, one line
 * naming it, no half-written file). What the files hold is checked by
 * check_exports.py and test_measure.c. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "predict_fixture.h"
#include "testutil.h"

static const char *exe;
static char model[1024], in[1024];
static char out_buf[1 << 16], err_buf[1 << 16];

static int exists(const char *dir, const char *name)
{
    char p[2048];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &sb) == 0;
}

static int predict(const char *out, const char *flags)
{
    char args[4096];
    snprintf(args, sizeof args, "--device ref predict -q '%s' '%s' --out '%s' --threshold 0.3 --min-size 1 %s", model,
             in, pf_path(out), flags);
    return pf_run(exe, args, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
}

static void test_files(void)
{
    static const struct {
        const char *flags, *files[6];
    } cases[] = {
        {"--measure", {"img.png", "img_nuclei.csv", "nuclei_summary.csv"}},
        {"--rois --geojson", {"img.png", "img_rois.zip", "img.geojson"}},
        {"--labels-format tif", {"img.png", "img_labels.tif"}},
        {"--instances", {"img.png", "img_labels.png"}},
        {"--prob-format tif", {"img.png", "img_prob.tif"}},
        {"--prob-format png,tif --labels-format png", {"img.png", "img_prob.png", "img_prob.tif", "img_labels.png"}},
        {"--probabilities --pixel-size 0.2 --measure",
         {"img.png", "img_prob.png", "img_nuclei.csv", "nuclei_summary.csv"}},
        {"--maps", {"img.png", "img_maps.tif"}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char out[32];
        snprintf(out, sizeof out, "files%zu", k);
        int rc = predict(out, cases[k].flags);
        int n = 0, all = 1;
        for (; cases[k].files[n]; n++)
            all &= exists(pf_path(out), cases[k].files[n]);
        TU_CHECK(rc == 0 && all && pf_count_files(pf_path(out)) == n,
                 "%s: exactly %s ... (%d files) (rc %d: %s)", cases[k].flags, cases[k].files[1], n, rc, err_buf);
    }
    /* the micrometre columns appear only with a pixel size */
    FILE *f = fopen(pf_path("files6/img_nuclei.csv"), "r");
    char head[2048] = "";
    if (f && !fgets(head, sizeof head, f))
        head[0] = '\0';
    if (f)
        fclose(f);
    TU_CHECK(strstr(head, ",area_um2,") != NULL, "--pixel-size: area_um2 column (%s)", head);
    f = fopen(pf_path("files0/img_nuclei.csv"), "r");
    if (f && !fgets(head, sizeof head, f))
        head[0] = '\0';
    if (f)
        fclose(f);
    TU_CHECK(strstr(head, "area_um2") == NULL && strstr(head, "label,area,") == head,
             "no pixel size: no micrometre columns");
}

static void test_usage(void)
{
    static const char *bad[] = {"--labels-format jpg", "--prob-format bmp", "--pixel-size 0", "--pixel-size x",
                                "--labels-format"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        int rc = predict("usage", bad[k]);
        TU_CHECK(rc == 1 && pf_lines(err_buf) == 1 && pf_count_files(pf_path("usage")) <= 0,
                 "%s: exit 1, one line, nothing written (%d: %s)", bad[k], rc, err_buf);
    }
}

/* A folder where the export should go: the rename fails. */
static void test_unwritable(void)
{
    static const struct {
        const char *flag, *name;
    } cases[] = {
        {"--measure", "img_nuclei.csv"},
        {"--measure", "nuclei_summary.csv"},
        {"--rois", "img_rois.zip"},
        {"--geojson", "img.geojson"},
        {"--labels-format tif", "img_labels.tif"},
        {"--prob-format tif", "img_prob.tif"},
        {"--maps", "img_maps.tif"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char out[32], p[2048];
        snprintf(out, sizeof out, "blocked%zu", k);
        mkdir(pf_path(out), 0777);
        snprintf(p, sizeof p, "%s/%s", pf_path(out), cases[k].name);
        mkdir(p, 0777);
        int rc = predict(out, cases[k].flag);
        TU_CHECK(rc == 4 && pf_lines(err_buf) == 1 && strstr(err_buf, cases[k].name) &&
                     tu_count_names(pf_path(out), "", ".tmp.") == 0,
                 "%s with %s a folder: exit 4, one line naming it, no temporary left (%d: %s)", cases[k].flag,
                 cases[k].name, rc, err_buf);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_exports_cmd CLUNET\n");
        return 1;
    }
    exe = argv[1];
    snprintf(model, sizeof model, "%s", pf_path("model.safetensors"));
    snprintf(in, sizeof in, "%s", pf_path("img.png"));
    TU_CHECK(pf_make_model(model, 16, 0.125, 7) == 0, "saved a model");
    TU_CHECK(pf_write_rgb8(in, 40, 52, 3) == 0, "wrote an image");
    test_files();
    test_usage();
    test_unwritable();
    pf_cleanup();
    return tu_finish();
}
