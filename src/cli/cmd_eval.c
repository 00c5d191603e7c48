/* cmd_eval.c: `clunet eval` flags and help; the work is clunet_eval
 * (eval.c). The prediction flags are cmd_predict.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/cli.h"
#include "io/tmp_files.h"
#include "clunet/eval.h"
#include "cli/predict_flags.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: clunet eval MODEL DATA [options]\n"
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
            "over t. An image with no true and no predicted nucleus scores 1.\n\n"
            "  --pred DIR        score saved predictions instead of a model\n"
            "  --out DIR         where eval.csv (one row per image) and eval.json (images, dice,\n"
            "                    iou, dsb_score, precision at each threshold) go; without it they\n"
            "                    are eval_<data>.csv/.json, <data> the name of the folder read,\n"
            "                    in the model's folder (with --pred, in DIR itself), and an\n"
            "                    earlier report there is never overwritten (exit 1: give --out)\n"
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
    enum { O_PRED = CU_ARG_LONG, O_OUT, O_REPORT, O_JSON };
    static const struct cu_opt opts[] = {
        CU_PREDICT_OPTS, {"pred", O_PRED, 1}, {"out", O_OUT, 1}, {"report", O_REPORT, 1}, {"json", O_JSON, 0},
        {"quiet", 'q', 0}, {"help", 'h', 0},  {NULL, 0, 0},
    };
    struct cu_err err = {0};
    struct cu_eval_run r = {0};
    cu_predict_opts_default(&r.opts);
    r.device = cu_cli_device();
    r.progress = stderr, r.report = stdout;
    const char *pos[2];
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
        case O_REPORT: r.report_dir = a.val; break;
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
    if (!err.status && npos != (r.pred_dir ? 1 : 2))
        cu_fail(&err, CU_EUSAGE, "usage: clunet eval MODEL DATA | clunet eval --pred DIR DATA (see --help)");
    if (!err.status) {
        r.model = r.pred_dir ? NULL : pos[0];
        r.data = pos[npos - 1];
        if (quiet)
            r.progress = NULL, r.report = r.json ? stdout : NULL;
        cu_tmp_files_on_signals(); /* Ctrl-C, SIGTERM: no half-written output left behind */
        clunet_eval(&r, &err);
    }
    return cu_cli_report(&err);
}
