/* cmd_eval.c: `clunet eval` flags and help; the work is clunet_eval
 * (eval.c). The prediction flags are cmd_predict.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/cli.h"
#include <unistd.h>

#include "io/tmp_files.h"
#include "clunet/eval.h"
#include "clunet/model_find.h"
#include "cli/predict_flags.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: clunet eval [--model MODEL] DATA [options]\n"
            "       clunet eval MODEL DATA [options]\n"
            "       clunet eval --pred DIR DATA [options]\n\n"
            "Scores nuclei segmentation on a labelled folder DATA (DSB2018 train layout\n"
            "<id>/images/<id>.png + <id>/masks/*.png, one mask per nucleus; or images/ + masks/\n"
            "with label images; PNG, TIFF or JPEG). With MODEL the nuclei are predicted exactly as `clunet predict`\n"
            "would with the same options; with --pred DIR they are read from DIR/<id>_labels.png\n"
            "or .tif (as written by predict --instances) or else DIR/<id>.png or .tif (a label image, or a\n"
            "binary mask split into 8-connected components). A missing or wrongly sized\n"
            "prediction is an error, never skipped.\n\n"
            "Per image and as the mean over images: Dice and IoU of the foreground, and the\n"
            "DSB2018 score: for t = 0.50, 0.55, ..., 0.95 a predicted nucleus matches a true one\n"
            "when IoU > t, precision(t) = TP / (TP + FP + FN); the image's score is the mean\n"
            "over t. An image with no true and no predicted nucleus scores 1.\n"
            "The same per group of images (by size WxH, or --groups FILE), and where it fails,\n"
            "per image, group and in total: missed nuclei (true, matched by no prediction at\n"
            "IoU > 0.5 and in no merge), false ones (predicted, matching no true nucleus at\n"
            "IoU > 0.5 and in no split), merged (a prediction holding >= 50%% of the pixels of\n"
            "each of >= 2 true nuclei) and split (a true nucleus holding >= 50%% of the pixels\n"
            "of each of >= 2 predictions).\n\n"
            "  --model MODEL     a model file, a run folder (its best.safetensors) or the NAME of\n"
            "                    a model in the model folders (`clunet models`); default " CU_DEFAULT_MODEL ",\n"
            "                    the model that ships with clunet. MODEL DATA as two arguments\n"
            "                    is the same.\n"
            "  --pred DIR        score saved predictions instead of a model\n"
            "  --out DIR         where eval.csv (one row per image) and eval.json (images, dice,\n"
            "                    iou, dsb_score, precision at each threshold) go; without it they\n"
            "                    are eval_<data>.csv/.json, <data> the name of the folder read,\n"
            "                    in the model's folder (with --pred, in DIR itself), and an\n"
            "                    earlier report there is never overwritten (exit 1: give --out);\n"
            "                    for a model found by name a new folder eval-YYYYMMDD-HHMMSS\n"
            "  --groups FILE     group images by FILE (one \"image_id,group\" line per image; a\n"
            "                    first line \"image,group\" is a header) instead of by size\n"
            "  --json            print the eval.json summary on stdout instead of the table\n"
            "  --report DIR      also write DIR/index.html, a page to look at: the scores, the\n"
            "                    precision at each IoU threshold, a table per image-size group\n"
            "                    and one row per image (worst first, sortable) with the image\n"
            "                    and an overlay colouring each nucleus by its fate (matched,\n"
            "                    missed, false, merged, split); pictures go to DIR/img/\n"
            "  -q, --quiet       no progress bar and no table (--json still prints)\n"
            "  -h, --help        this help\n\n"
            "%s\n",
            cu_predict_flags_help);
    cu_cli_exit_codes(f);
}

int cu_cmd_eval(int argc, char **argv)
{
    enum { O_PRED = CU_ARG_LONG, O_OUT, O_REPORT, O_JSON, O_GROUPS, O_MODEL };
    static const struct cu_opt opts[] = {
        CU_PREDICT_OPTS,   {"pred", O_PRED, 1}, {"out", O_OUT, 1},   {"report", O_REPORT, 1}, {"json", O_JSON, 0},
        {"groups", O_GROUPS, 1}, {"model", O_MODEL, 1}, {"quiet", 'q', 0},  {"help", 'h', 0}, {NULL, 0, 0},
    };
    struct cu_err err = {0};
    struct cu_eval_run r = {0};
    cu_predict_opts_default(&r.opts);
    r.device = cu_cli_device();
    r.progress = stderr, r.report = stdout;
    const char *pos[2], *model = NULL;
    int npos = 0, quiet = cu_cli_quiet(), key;
    struct cu_args a;
    cu_args_init(&a, "eval", argc, argv, opts, &err);
    while ((key = cu_args_next(&a)) > 0) {
        int done = cu_predict_flag(&a, key, &r.opts, &r.device);
        if (done < 0)
            break;
        if (done)
            continue;
        switch (key) {
        case 'h': help(stdout); return 0;
        case 'q': quiet = 1; break;
        case O_PRED: r.pred_dir = a.val; break;
        case O_OUT: r.out_dir = a.val; break;
        case O_MODEL: model = a.val; break;
        case O_REPORT: r.report_dir = a.val; break;
        case O_GROUPS: r.groups = a.val; break;
        case O_JSON: r.json = 1; break;
        case CU_ARG_POS:
            if (npos < 2)
                pos[npos++] = a.val;
            else
                cu_fail(&err, CU_EUSAGE, "eval: too many arguments (see clunet eval --help)");
            break;
        }
        if (err.status)
            break;
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
        cu_tmp_files_on_signals(); /* Ctrl-C, SIGTERM: no half-written output left behind */
        clunet_eval(&r, &err);
    }
    if (err.status && made_out)
        rmdir(out); /* only if nothing was written into it */
    return cu_cli_report(&err);
}
