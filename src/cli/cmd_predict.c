/* cmd_predict.c: `clunet predict` flags and help, and the prediction flags
 * that `clunet eval` shares (cu_predict_flag). The work is clunet_predict
 * (predict_run.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "clunet/cli.h"
#include "clunet/model_find.h"
#include "clunet/predict.h"
#include "predict/predict_impl.h"

const char cu_predict_flags_help[] =
    "prediction:\n"
    "  --mode M          resize | tile | auto (default resize; auto: tile for an image\n"
    "                    larger than S in either direction, else resize). resize is the\n"
    "                    default because a model trained on images shrunk to SxS sees\n"
    "                    nuclei at that scale: on the dev split it scored DSB 0.17 vs\n"
    "                    0.04 for tile (docs/predict.md)\n"
    "                    resize: the original pipeline: resize to SxS, predict, resize\n"
    "                      the probability map back as scikit-image would\n"
    "                    tile: native resolution, SxS tiles at stride S/2 blended with a\n"
    "                      raised-cosine window; smaller images are mirror-padded\n"
    "  --tta             average the 8 flips/90-degree rotations of every input (8x work)\n"
    "  --batch N         SxS inputs (tiles, views) per forward pass (default 4)\n"
    "  --threshold T     foreground where probability > T (default 0.5)\n"
    "  --no-split        plain 8-connected components: no watershed separation of\n"
    "                    touching nuclei (default: split)\n"
    "  --split-h H       watershed markers are the h-maxima of the distance transform:\n"
    "                    a peak must rise H pixels above its saddle to be its own\n"
    "                    nucleus (default 1.0)\n"
    "  --min-size N      remove nuclei of fewer than N pixels (default 10; 0 keeps all)\n"
    "  --device SPEC     ref, an OpenCL id (0:1), a name substring, gpu/cpu (default:\n"
    "                    CLUNET_DEVICE, else the first GPU, else the first OpenCL device,\n"
    "                    else ref)\n";

/* The value of flag at argv[*i] ("--flag V" or "--flag=V"), or NULL when
 * argv[*i] is not that flag. *missing is set when the value is absent. */
static const char *flag_value(int argc, char **argv, int *i, const char *flag, int *missing)
{
    size_t len = strlen(flag);
    if (strncmp(argv[*i], flag, len) != 0)
        return NULL;
    if (argv[*i][len] == '=')
        return argv[*i] + len + 1;
    if (argv[*i][len] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

int cu_predict_flag(int argc, char **argv, int *i, struct cu_predict_opts *o, const char **device,
                    struct cu_err *err)
{
    static const char *valued[] = {"--mode", "--batch", "--threshold", "--split-h", "--min-size", "--device"};
    const char *a = argv[*i];
    if (!strcmp(a, "--tta"))
        return o->tta = 1;
    if (!strcmp(a, "--no-split")) {
        o->inst.watershed = 0;
        return 1;
    }
    for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) {
        int missing = 0;
        const char *v = flag_value(argc, argv, i, valued[k], &missing);
        if (missing) {
            cu_fail(err, CU_EUSAGE, "%s needs a value", valued[k]);
            return -1;
        }
        if (!v)
            continue;
        double d = 0;
        int bad = 0;
        if (k == 0) {
            int m = cu_predict_mode_parse(v);
            bad = m < 0;
            o->mode = bad ? o->mode : (enum cu_predict_mode)m;
        } else if (k == 1) {
            bad = parse_double(v, 1, 4096, &d) || d != (int)d;
            o->batch = (int)d;
        } else if (k == 2) {
            bad = parse_double(v, 0, 1, &d);
            o->inst.threshold = (float)d;
        } else if (k == 3) {
            bad = parse_double(v, 0, 1e6, &d);
            o->inst.h = (float)d;
        } else if (k == 4) {
            bad = parse_double(v, 0, 1e9, &d) || d != (int)d;
            o->inst.min_size = (int)d;
        } else {
            *device = v;
        }
        if (bad) {
            cu_fail(err, CU_EUSAGE, "%s %s: %s", valued[k], v,
                    k == 0   ? "expected auto, resize or tile"
                    : k == 2 ? "expected a number between 0 and 1"
                             : "expected a non-negative number in range");
            return -1;
        }
        return 1;
    }
    return 0;
}

static void help(FILE *f)
{
    fprintf(f,
            "usage: clunet predict [--model MODEL] INPUT... [--out DIR] [options]\n"
            "       clunet predict MODEL.safetensors INPUT... [--out DIR] [options]\n\n"
            "Segments nuclei in images of any size and PNG flavour with a trained model and\n"
            "writes the results at each image's original size. INPUT: PNG files, folders of\n"
            "PNGs, or DSB2018 folders (<id>/images/<id>.png, test or train layout).\n\n"
            "model (it supplies the image size S, the channel rate and the up-sampling mode):\n"
            "  --model MODEL     a model file (.safetensors), a run folder (its best.safetensors),\n"
            "                    or the NAME of a model in the model folders (`clunet models`\n"
            "                    lists them). Default: " CU_DEFAULT_MODEL ", the nuclei model that ships with\n"
            "                    clunet. A first argument ending in .safetensors is the model too.\n\n"
            "outputs, per image <id> (each file written atomically):\n"
            "  --out DIR         output folder, created if missing (default: a new folder\n"
            "                    predictions-YYYYMMDD-HHMMSS in the current folder, never an\n"
            "                    existing one; the first line printed names it)\n"
            "                    <id>.png: binary mask, 0/255, the pixels of the nuclei found\n"
            "  --probabilities   also <id>_prob.png: the probability map, 8-bit (255 = 1.0)\n"
            "  --instances       also <id>_labels.png: 16-bit labels, 0 background, 1..N nuclei\n"
            "  --overlay         also <id>_overlay.png: the image dimmed, each nucleus outlined\n"
            "                    in its own colour\n"
            "  --submission FILE the Kaggle DSB2018 CSV (ImageId,EncodedPixels; one row per\n"
            "                    nucleus, 1-based run-length pairs, pixels numbered top to\n"
            "                    bottom then left to right; an empty row for an image with none)\n\n"
            "%s"
            "  -q                no progress bar or summary line\n"
            "  -h, --help        this help\n\n"
            "Nuclei: mask = probability > T; with splitting, a marker-based watershed of the\n"
            "exact Euclidean distance transform separates touching nuclei (markers: h-maxima,\n"
            "--split-h); nuclei smaller than --min-size are dropped; nuclei never overlap.\n"
            "A progress bar runs over the images (stderr); at the end one line gives the count,\n"
            "time and images/s (stdout).\n\n"
            "exit codes: 0 done, 1 usage, 2 bad image or model file (corrupt, truncated, not a\n"
            "clunet model), 3 device error, 4 cannot write an output (nothing half-written).\n",
            cu_predict_flags_help);
}

int cu_cmd_predict(int argc, char **argv)
{
    struct cu_err err = {0};
    struct cu_predict_run r = {0};
    cu_predict_opts_default(&r.opts);
    r.device = getenv("CLUNET_DEVICE");
    r.progress = stderr, r.report = stdout;
    const char **pos = calloc((size_t)argc, sizeof *pos), *model = NULL;
    int npos = 0;
    if (!pos)
        return cu_fail(&err, CU_EUSAGE, "out of memory"), cu_cli_report(&err);
    for (int i = 1; i < argc && !err.status; i++) {
        int missing = 0;
        const char *v;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            help(stdout);
            free(pos);
            return 0;
        } else if (cu_predict_flag(argc, argv, &i, &r.opts, &r.device, &err) != 0) {
            continue;
        } else if ((v = flag_value(argc, argv, &i, "--out", &missing))) {
            r.out_dir = v;
        } else if ((v = flag_value(argc, argv, &i, "--model", &missing))) {
            model = v;
        } else if ((v = flag_value(argc, argv, &i, "--submission", &missing))) {
            r.submission = v;
        } else if (missing) {
            cu_fail(&err, CU_EUSAGE, "%s needs a value", argv[i]);
        } else if (!strcmp(argv[i], "--probabilities")) {
            r.probabilities = 1;
        } else if (!strcmp(argv[i], "--instances")) {
            r.instances = 1;
        } else if (!strcmp(argv[i], "--overlay")) {
            r.overlay = 1;
        } else if (!strcmp(argv[i], "-q")) {
            r.progress = NULL, r.report = NULL;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            cu_fail(&err, CU_EUSAGE, "predict: unknown option %s (see clunet predict --help)", argv[i]);
        } else {
            pos[npos++] = argv[i];
        }
    }
    /* the positional MODEL of before --model: a first argument that is a
     * model file */
    int first = 0;
    if (!err.status && !model && npos >= 2 && cu_is_model_path(pos[0]))
        model = pos[first++];
    if (!err.status && npos - first < 1)
        cu_fail(&err, CU_EUSAGE, "usage: clunet predict [--model MODEL] INPUT... (see clunet predict --help)");
    char model_path[4096], out[4096];
    int made_out = 0;
    if (!err.status)
        cu_model_resolve(model, model_path, sizeof model_path, NULL, &err);
    if (!err.status && !r.out_dir && !cu_new_out_dir("predictions", out, sizeof out, &err)) {
        r.out_dir = out, made_out = 1;
        printf("clunet predict: results go to %s/ (model %s)\n", out, model_path);
        fflush(stdout);
    }
    if (!err.status) {
        r.model = model_path;
        r.inputs = pos + first;
        r.n_inputs = npos - first;
        clunet_predict(&r, &err);
    }
    if (err.status && made_out)
        rmdir(out); /* only if nothing was written into it */
    free(pos);
    return cu_cli_report(&err);
}
