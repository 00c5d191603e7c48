/* test_model_find.c: models found without a path, through the clunet
 * binary. A tiny model "nuclei" (the default name) and one "other" in a
 * folder named by CLUNET_MODELS, the binary run from a fresh working folder:
 *   - clunet models lists both with their provenance line, and the source
 *     tree's models/ (this binary runs from its build tree);
 *   - predict IMAGE with no model uses the default; with no --out the first
 *     line names a new folder in the working folder that holds the results,
 *     and nothing is written beside the input; a second run gets another;
 *   - --model NAME, --model RUN_DIR (its best.safetensors) and the old
 *     positional MODEL.safetensors pick the model they name (told apart by
 *     the image size each prints);
 *   - an unknown name is one line naming it, exit 2, no folder left;
 *   - eval with a model found by name writes into a new eval-* folder. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "testutil.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "predict_fixture.h"

static char exe[PATH_MAX];

static int count_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        n += !strncmp(e->d_name, prefix, strlen(prefix));
    if (d)
        closedir(d);
    return n;
}

static int run(const char *args, char *out, char *err)
{
    return pf_run(exe, args, out, 8192, err, 8192);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !realpath(argv[1], exe)) {
        fprintf(stderr, "usage: test_model_find CLUNET\n");
        return 1;
    }
    char models[1024], work[1024], img[1024], rundir[1024], args[4096], out[8192], err[8192];
    snprintf(models, sizeof models, "%s", pf_path("models"));
    snprintf(work, sizeof work, "%s", pf_path("work"));
    snprintf(img, sizeof img, "%s", pf_path("in/cells.png"));
    snprintf(rundir, sizeof rundir, "%s", pf_path("run"));
    mkdir(models, 0777), mkdir(work, 0777), mkdir(pf_path("in"), 0777), mkdir(rundir, 0777);
    char p[2100]; /* work + folder + a name: 1023 + 1023 + 12 */
    snprintf(p, sizeof p, "%s/nuclei-f32.safetensors", rundir);
    TU_CHECK(pf_make_model(p, 16, 0.125, 1) == 0, "model made");
    /* the default name, S=16, F16 with a provenance fact; another, S=32 */
    snprintf(args, sizeof args, "convert '%s' '%s/nuclei.safetensors' --meta 'provenance=tiny test model, seed 1'", p,
             models);
    TU_CHECK(run(args, out, err) == 0, "convert to F16 with provenance: %s", err);
    snprintf(p, sizeof p, "%s/other.safetensors", models);
    TU_CHECK(pf_make_model(p, 32, 0.125, 2) == 0, "second model made");
    snprintf(p, sizeof p, "%s/best.safetensors", rundir);
    TU_CHECK(pf_make_model(p, 48, 0.125, 3) == 0, "run folder's best model made");
    TU_CHECK(pf_write_rgb8(img, 40, 50, 7) == 0, "image written");
    setenv("CLUNET_MODELS", models, 1);
    setenv("CLUNET_DEVICE", "ref", 1);
    if (chdir(work) != 0)
        return tu_check(0, "chdir"), tu_finish();

    TU_CHECK(run("models", out, err) == 0, "clunet models runs: %s", err);
    TU_CHECK(strstr(out, "nuclei") && strstr(out, "(default)") && strstr(out, "tiny test model, seed 1") &&
                 strstr(out, "F16") && strstr(out, "other") && strstr(out, "S=32") &&
                 strstr(out, "(no provenance recorded)"),
             "models lists both, the default marked, provenance line or its absence:\n%s", out);
    TU_CHECK(strstr(out, "(CLUNET_MODELS)") && strstr(out, "(source tree") && strstr(out, "(installed"),
             "models names the folders it searched, the source tree's among them");

    /* the default model, no --out */
    snprintf(args, sizeof args, "predict '%s'", img);
    TU_CHECK(run(args, out, err) == 0, "predict IMAGE with the default model: %s", err);
    char first[1024] = "", folder[1024] = "";
    sscanf(out, "%1023[^\n]", first);
    TU_CHECK(sscanf(first, "clunet predict: results go to %1023[^/]/", folder) == 1 &&
                 !strncmp(folder, "predictions-", 12),
             "the first line names a new folder: %s", first);
    TU_CHECK(strstr(first, models) && strstr(first, "nuclei.safetensors"), "and the default model it used");
    snprintf(p, sizeof p, "%s/%s/cells.png", work, folder);
    struct stat sb;
    TU_CHECK(stat(p, &sb) == 0, "the mask is in that folder (%s)", p);
    TU_CHECK(pf_count_files(pf_path("in")) == 1, "nothing written beside the input");
    TU_CHECK(strstr(out, "S=16"), "the default model (S=16) predicted: %s", out);
    TU_CHECK(run(args, out, err) == 0 && count_prefixed(work, "predictions-") == 2,
             "a second run makes a second folder, never reusing the first");

    snprintf(args, sizeof args, "predict --model other '%s' --out named", img);
    TU_CHECK(run(args, out, err) == 0 && strstr(out, "S=32") && !strstr(out, "results go to"),
             "--model NAME picks it; --out given: no folder line: %s%s", out, err);
    snprintf(args, sizeof args, "predict --model '%s' '%s' --out byrun", rundir, img);
    TU_CHECK(run(args, out, err) == 0 && strstr(out, "S=48"), "--model RUN_DIR uses its best.safetensors: %s%s",
             out, err);
    snprintf(args, sizeof args, "predict '%s/other.safetensors' '%s' --out positional", models, img);
    TU_CHECK(run(args, out, err) == 0 && strstr(out, "S=32"), "positional MODEL.safetensors still works: %s%s",
             out, err);

    int before = count_prefixed(work, "predictions-");
    snprintf(args, sizeof args, "predict --model nosuchmodel '%s'", img);
    int rc = run(args, out, err);
    TU_CHECK(rc == 2 && pf_lines(err) == 1 && strstr(err, "clunet: nosuchmodel: no model of that name"),
             "an unknown name: exit 2 (got %d), one line naming it: %s", rc, err);
    TU_CHECK(count_prefixed(work, "predictions-") == before, "and no output folder left behind");
    snprintf(args, sizeof args, "predict --model '%s/missing.safetensors' '%s'", work, img);
    rc = run(args, out, err);
    TU_CHECK(rc == 2 && pf_lines(err) == 1 && strstr(err, "missing.safetensors"), "a missing path: exit 2: %s", err);

    /* eval: a labelled folder (images/ + masks/) scored with the default model */
    mkdir(pf_path("lab"), 0777), mkdir(pf_path("lab/images"), 0777), mkdir(pf_path("lab/masks"), 0777);
    pf_write_rgb8(pf_path("lab/images/a.png"), 32, 32, 3);
    pf_write_gray8(pf_path("lab/masks/a.png"), 32, 32, 3);
    snprintf(args, sizeof args, "eval -q '%s'", pf_path("lab"));
    rc = run(args, out, err);
    TU_CHECK(rc == 0 && count_prefixed(work, "eval-") == 1, "eval DATA with the default model writes eval-*/ (%d): %s",
             rc, err);
    snprintf(args, sizeof args, "eval other '%s' --json", pf_path("lab"));
    TU_CHECK(run(args, out, err) == 0 && out[0] == '{' && strstr(err, "results go to eval-"),
             "eval NAME DATA --json: JSON on stdout, the folder on stderr: %s", err);

    if (chdir("/") != 0)
        tu_check(0, "chdir /");
    pf_cleanup();
    return tu_finish();
}
