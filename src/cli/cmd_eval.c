/* cmd_eval.c: `clunet eval` flags and help; the work is clunet_eval
 * (eval.c). The prediction flags are cmd_predict.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/cli.h"
#include <unistd.h>

#include "clunet/eval.h"
#include "clunet/model_find.h"
#include "predict/predict_impl.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: clunet eval [--model MODEL] DATA [options]\n"
            "       clunet eval MODEL DATA [options]\n"
            "       clunet eval --pred DIR DATA [options]\n\n"
            "Scores nuclei segmentation on a labelled folder DATA (DSB2018 train layout\n"
            "<id>/images/<id>.png + <id>/masks/*.png, one mask per nucleus; or images/ + masks/\n"
            "with label images). With MODEL the nuclei are predicted exactly as `clunet predict`\n"
            "would with the same options; with --pred DIR they are read from DIR/<id>_labels.png\n"
            "(as written by predict --instances) or else DIR/<id>.png (a label image, or a\n"
            "binary mask split into 8-connected components). A missing or wrongly sized\n"
            "prediction is an error, never skipped.\n\n"
            "Per image and as the mean over images: Dice and IoU of the foreground, and the\n"
            "DSB2018 score: for t = 0.50, 0.55, ..., 0.95 a predicted nucleus matches a true one\n"
            "when IoU > t, precision(t) = TP / (TP + FP + FN); the image's score is the mean\n"
            "over t. An image with no true and no predicted nucleus scores 1.\n\n"
            "  --model MODEL     a model file, a run folder (its best.safetensors) or the NAME of\n"
            "                    a model in the model folders (`clunet models`); default " CU_DEFAULT_MODEL ",\n"
            "                    the model that ships with clunet. MODEL DATA as two arguments\n"
            "                    is the same.\n"
            "  --pred DIR        score saved predictions instead of a model\n"
            "  --out DIR         where eval.csv (one row per image) and eval.json (images, dice,\n"
            "                    iou, dsb_score, precision at each threshold) go (default: the\n"
            "                    model file's folder, e.g. its run folder; with --pred, DIR itself;\n"
            "                    for a model found by name a new folder eval-YYYYMMDD-HHMMSS)\n"
            "  --json            print the eval.json summary on stdout instead of the table\n"
            "  --report DIR      also write DIR/index.html, a page to look at: the scores, the\n"
            "                    precision at each IoU threshold, a table per image-size group\n"
            "                    and one row per image (worst first, sortable) with the image\n"
            "                    and an overlay colouring each nucleus by its fate (matched,\n"
            "                    missed, false, merged, split); pictures go to DIR/img/\n"
            "  -q                no progress bar and no table (--json still prints)\n"
            "  -h, --help        this help\n\n"
            "%s\n"
            "exit codes: 0 done, 1 usage, 2 bad data, prediction or model file, 3 device error,\n"
            "4 cannot write eval.csv/eval.json.\n",
            cu_predict_flags_help);
}

int cu_cmd_eval(int argc, char **argv)
{
    struct cu_err err = {0};
    struct cu_eval_run r = {0};
    cu_predict_opts_default(&r.opts);
    r.device = getenv("CLUNET_DEVICE");
    r.progress = stderr, r.report = stdout;
    const char *pos[2], *model = NULL;
    int npos = 0, quiet = 0;
    for (int i = 1; i < argc && !err.status; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            return 0;
        } else if (cu_predict_flag(argc, argv, &i, &r.opts, &r.device, &err) != 0) {
            continue;
        } else if (!strcmp(a, "--pred") || !strcmp(a, "--out") || !strcmp(a, "--report") || !strcmp(a, "--model")) {
            if (i + 1 >= argc)
                cu_fail(&err, CU_EUSAGE, "%s needs a value", a);
            else if (!strcmp(a, "--pred"))
                r.pred_dir = argv[++i];
            else if (!strcmp(a, "--model"))
                model = argv[++i];
            else if (!strcmp(a, "--report"))
                r.report_dir = argv[++i];
            else
                r.out_dir = argv[++i];
        } else if (!strncmp(a, "--model=", 8)) {
            model = a + 8;
        } else if (!strncmp(a, "--report=", 9)) {
            r.report_dir = a + 9;
        } else if (!strncmp(a, "--pred=", 7)) {
            r.pred_dir = a + 7;
        } else if (!strncmp(a, "--out=", 6)) {
            r.out_dir = a + 6;
        } else if (!strcmp(a, "--json")) {
            r.json = 1;
        } else if (!strcmp(a, "-q")) {
            quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            cu_fail(&err, CU_EUSAGE, "eval: unknown option %s (see clunet eval --help)", a);
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            cu_fail(&err, CU_EUSAGE, "eval: too many arguments (see clunet eval --help)");
        }
    }
    int model_pos = 0;
    if (!err.status && npos == 2 && !model && !r.pred_dir)
        model = pos[0], model_pos = 1;
    if (!err.status && npos != 1 + model_pos)
        cu_fail(&err, CU_EUSAGE, "usage: clunet eval [--model MODEL] DATA | clunet eval --pred DIR DATA (see --help)");
    else if (!err.status && r.pred_dir && model)
        cu_fail(&err, CU_EUSAGE, "eval: give either a model or --pred DIR, not both");
    char model_path[4096], out[4096];
    int by_name = 0, made_out = 0;
    if (!err.status && !r.pred_dir && !cu_model_resolve(model, model_path, sizeof model_path, &by_name, &err))
        r.model = model_path;
    /* a shipped model's folder is not where results go */
    if (!err.status && by_name && !r.out_dir && !cu_new_out_dir("eval", out, sizeof out, &err)) {
        r.out_dir = out, made_out = 1;
        if (!quiet)
            fprintf(r.json ? stderr : stdout, "clunet eval: results go to %s/ (model %s)\n", out, model_path);
    }
    if (!err.status) {
        r.data = pos[npos - 1];
        if (quiet)
            r.progress = NULL, r.report = r.json ? stdout : NULL;
        clunet_eval(&r, &err);
    }
    if (err.status && made_out)
        rmdir(out); /* only if nothing was written into it */
    return cu_cli_report(&err);
}
