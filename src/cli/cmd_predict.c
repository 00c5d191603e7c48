/* cmd_predict.c: `clunet predict` flags and help, and the prediction flags
 * that `clunet eval` shares (cu_predict_flag). The work is clunet_predict
 * (predict_run.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clunet/cli.h"
#include "clunet/model_find.h"
#include "io/tmp_files.h"
#include "clunet/predict.h"
#include "cli/predict_flags.h"

const char cu_predict_flags_help[] =
    "prediction:\n"
    "  --mode M          model | resize | tile | auto (default model: what the model file\n"
    "                    says it was trained for: tile (at its --scale, with its --grey/\n"
    "                    --normalize) for a model trained on crops (clunet train --crop,\n"
    "                    --recipe nuclei), resize for one trained on whole images shrunk\n"
    "                    to SxS, which sees nuclei at that scale: on the dev split resize\n"
    "                    scored DSB 0.17 vs 0.04 for tile (docs/predict.md)). auto: tile\n"
    "                    for an image larger than S in either direction, else resize\n"
    "                    resize: the original pipeline: resize to SxS, predict, resize\n"
    "                      the probability map back as scikit-image would\n"
    "                    tile: native resolution, SxS tiles at stride S/2 blended with a\n"
    "                      raised-cosine window; smaller images are mirror-padded\n"
    "  --tta             average the 8 flips/90-degree rotations of every input (8x work);\n"
    "                    default: the model file's `tta` (the shipped nuclei model: on)\n"
    "  --no-tta          one view per input, whatever the model file says\n"
    "  --batch N         SxS inputs (tiles, views) per forward pass (default 4)\n"
    "  --threshold T     foreground where probability > T (default: the model file's\n"
    "                    `threshold`, chosen on training images, else 0.5)\n"
    "                    (a three-output model, --targets instance: watershed inside\n"
    "                    body > T from the seeds below)\n"
    "  --seed-threshold T  three-output models: seeds (watershed markers) where\n"
    "                    body - contour - W * border > T (default: the model file's\n"
    "                    `seed_threshold`, else --threshold)\n"
    "  --border-weight W W above (default: the model file's `border_weight`, else 1);\n"
    "                    a larger W cuts touching nuclei apart where the border is faint\n"
    "  --no-split        plain 8-connected components: no watershed separation of\n"
    "                    touching nuclei (default: split)\n"
    "  --split-h H       watershed markers are the h-maxima of the distance transform:\n"
    "                    a peak must rise H pixels above its saddle to be its own\n"
    "                    nucleus (default 1.0)\n"
    "  --min-size N      remove nuclei of fewer than N pixels (default: the model file's\n"
    "                    `min_size`, else 10; 0 keeps all)\n"
    "  --device SPEC     ref, an OpenCL id (0:1), a name substring, gpu/cpu (default:\n"
    "                    CLUNET_DEVICE, else the first GPU, else the first OpenCL device,\n"
    "                    else ref)\n"
    "input (PNG, TIFF or JPEG, chosen by the file's first bytes; README: input formats):\n"
    "  --channel N       use channel N (1-based) of multi-channel images, e.g. the nuclear\n"
    "                    stain (default: the model's; grey and RGB as they are)\n"
    "  --normalize LO,HI stretch percentiles LO..HI of each image to 0..1 (8-bit too);\n"
    "                    none: by the sample type's range; auto: 8-bit / 255, 16/32-bit\n"
    "                    and float by percentiles 1,99.8 (default: the model's, else auto)\n"
    "  --page N          use page N (1-based) of multi-page TIFFs (default: predict writes\n"
    "                    every z/t page as <id>_p<N>; eval: page 1; train reads page 1)\n"
    "  --skip-bad        leave out images that cannot be read, listing them at the end\n"
    "                    (default: stop at the first, naming the file)\n";

/* A float flag in [lo, hi] into *dst, noting in *set (if given) that the
 * user gave it: cu_predict_flag's 1, or -1 on a bad value. */
static int arg_float(struct cu_args *a, double lo, double hi, float *dst, int *set)
{
    double d;
    if (cu_arg_double(a, lo, hi, 0, 0, &d))
        return -1;
    *dst = (float)d;
    if (set)
        *set = 1;
    return 1;
}

int cu_predict_flag(struct cu_args *a, int key, struct cu_predict_opts *o, const char **device)
{
    switch (key) {
    case CU_PF_TTA: o->tta = o->tta_set = 1; return 1;
    case CU_PF_NO_TTA: o->tta = 0, o->tta_set = 1; return 1;
    case CU_PF_NO_SPLIT: o->inst.watershed = 0; return 1;
    case CU_PF_DEVICE: *device = a->val; return 1;
    case CU_PF_MODE: {
        int m = cu_predict_mode_parse(a->val);
        if (m < 0)
            return cu_arg_bad(a, "model, resize, tile or auto");
        o->mode = (enum cu_predict_mode)m;
        return 1;
    }
    case CU_PF_BATCH: return cu_arg_int(a, 1, 4096, &o->batch) ? -1 : 1;
    case CU_PF_MIN_SIZE:
        o->min_size_set = 1;
        return cu_arg_int(a, 0, 1000000000, &o->inst.min_size) ? -1 : 1;
    case CU_PF_THRESHOLD: return arg_float(a, 0, 1, &o->inst.threshold, &o->threshold_set);
    case CU_PF_SEED_THRESHOLD: return arg_float(a, 0, 1, &o->inst.seed_threshold, &o->seed_set);
    case CU_PF_BORDER_WEIGHT: return arg_float(a, 0, 100, &o->inst.border_weight, &o->border_set);
    case CU_PF_SPLIT_H: return arg_float(a, 0, 1e6, &o->inst.h, NULL);
    case CU_PF_CHANNEL:
        o->channel_set = 1;
        return cu_arg_int(a, 1, 65536, &o->input.channel) ? -1 : 1;
    case CU_PF_PAGE:
        o->page_set = 1;
        if (cu_arg_int(a, 1, 1 << 24, &o->input.page))
            return -1;
        o->input.page--;
        return 1;
    case CU_PF_NORMALIZE:
        o->norm_set = 1;
        return cu_norm_parse(a->val, &o->input) ? cu_arg_bad(a, "auto, none or LO,HI percentiles (0 <= LO < HI <= 100)")
                                                : 1;
    case CU_PF_SKIP_BAD: o->skip_bad = 1; return 1;
    default: return 0;
    }
}

static void help(FILE *f)
{
    fprintf(f,
            "usage: clunet predict [--model MODEL] INPUT... [--out DIR] [options]\n"
            "       clunet predict MODEL.safetensors INPUT... [--out DIR] [options]\n\n"
            "Segments nuclei in images of any size (PNG, TIFF or JPEG) with a trained model and\n"
            "writes the results at each image's original size. INPUT: image files, folders of\n"
            "images, or DSB2018 folders (<id>/images/<id>.png, test or train layout). A TIFF\n"
            "stack gives <id>_p1, <id>_p2, ... (one per z/t page; --page N for one).\n\n"
            "model (it supplies the image size S, the channel rate and the up-sampling mode):\n"
            "  --model MODEL     a model file (.safetensors), a run folder (its best.safetensors),\n"
            "                    or the NAME of a model in the model folders (`clunet models`\n"
            "                    lists them). Default: " CU_DEFAULT_MODEL ", the nuclei model that ships with\n"
            "                    clunet. A first argument ending in .safetensors is the model too.\n\n");
    fprintf(f,
            "outputs, per image <id> (each file written atomically):\n"
            "  --out DIR         output folder, created if missing (default: a new folder\n"
            "                    predictions-YYYYMMDD-HHMMSS in the current folder, never an\n"
            "                    existing one; the first line printed names it)\n"
            "                    <id>.png: binary mask, 0/255, the pixels of the nuclei found\n"
            "  --probabilities   also <id>_prob.png: the probability map, 8-bit (255 = 1.0)\n"
            "  --instances       also <id>_labels.png: 16-bit labels, 0 background, 1..N nuclei\n"
            "  --overlay         also <id>_overlay.png: the image contrast-stretched at full\n"
            "                    brightness (faint nuclei stay visible), each nucleus outlined\n"
            "                    in its own colour\n"
            "  --submission FILE the Kaggle DSB2018 CSV (ImageId,EncodedPixels; one row per\n"
            "                    nucleus, 1-based run-length pairs, pixels numbered top to\n"
            "                    bottom then left to right; an empty row for an image with none)\n"
            "  --labels-format F png (default): 16-bit PNG, or tif: 32-bit unsigned TIFF; an\n"
            "                    image with more than 65,535 nuclei gets the TIFF either way\n"
            "                    (with a note on stderr). Implies --instances\n"
            "  --prob-format F   png (default, 8-bit), tif (float32 TIFF, 0..1) or png,tif\n"
            "                    (both). Implies --probabilities\n"
            "  --maps            also <id>_maps.tif: every output map of the model, float32\n"
            "                    0..1, one page each (a three-output model: body, contour,\n"
            "                    touching border; as Fiji shows a stack, tifffile reads\n"
            "                    (3, H, W)); the maps the seeds and watershed are made from\n\n"
            "exports for Fiji/ImageJ, QuPath, CellProfiler and spreadsheets, per image <id>:\n"
            "  --measure         <id>_nuclei.csv: one row per nucleus: label, area, centroid,\n"
            "                    bounding box, equivalent diameter, perimeter, eccentricity,\n"
            "                    solidity, convex area, mean/min/max intensity of every\n"
            "                    channel of the file (samples / (2^bits - 1): 8-bit / 255,\n"
            "                    16-bit / 65535; float as stored), mean probability; defined\n"
            "                    as scikit-image's regionprops (README); and nuclei_summary.csv\n"
            "                    with one row per image (count, area fraction, mean area, ...)\n"
            "  --rois            <id>_rois.zip: an ImageJ ROI set, one polygon per nucleus\n"
            "                    (its outline along pixel edges) named by its label; opens in\n"
            "                    Fiji's ROI Manager\n"
            "  --geojson         <id>.geojson: a FeatureCollection of Polygon detections as\n"
            "                    QuPath imports them (objectType detection, name = label,\n"
            "                    the measurements as properties)\n"
            "  --pixel-size UM   micrometres per pixel, for every image: adds um/um^2 columns\n"
            "                    to the tables and the GeoJSON measurements (default: the\n"
            "                    image file's own when it gives square pixels under 50 um,\n"
            "                    not a print resolution like 72 dpi; else none)\n"
            "Refused before anything is written (exit 1): an output that is an input image\n"
            "(--out the input folder), two outputs with one name (x_labels.png: the labels of x\n"
            "and the mask of an input x_labels), with --submission an id holding a space, comma\n"
            "or quote. A folder input's layout is printed; one holding both stage1_train/ and\n"
            "stage1_test/ is refused. A model holding a NaN or infinite weight is refused (exit 2).\n\n"
            "%s"
            "  -q, --quiet       no progress bar or summary line\n"
            "  -h, --help        this help\n\n"
            "Nuclei: mask = probability > T; with splitting, a marker-based watershed of the\n"
            "exact Euclidean distance transform separates touching nuclei (markers: h-maxima,\n"
            "--split-h); nuclei smaller than --min-size are dropped; nuclei never overlap.\n"
            "A progress bar runs over the images (stderr); at the end one line gives the count,\n"
            "time and images/s (stdout).\n\n",
            cu_predict_flags_help);
    cu_cli_exit_codes(f);
}

int cu_cmd_predict(int argc, char **argv)
{
    enum { O_OUT = CU_ARG_LONG, O_SUBMISSION, O_PROB, O_INSTANCES, O_OVERLAY, O_LABELS_FORMAT, O_PROB_FORMAT,
           O_MEASURE, O_ROIS, O_GEOJSON, O_PIXEL_SIZE, O_MODEL, O_MAPS };
    static const struct cu_opt opts[] = {
        CU_PREDICT_OPTS,
        {"out", O_OUT, 1},
        {"model", O_MODEL, 1},
        {"submission", O_SUBMISSION, 1},
        {"probabilities", O_PROB, 0},
        {"maps", O_MAPS, 0},
        {"instances", O_INSTANCES, 0},
        {"overlay", O_OVERLAY, 0},
        {"labels-format", O_LABELS_FORMAT, 1},
        {"prob-format", O_PROB_FORMAT, 1},
        {"measure", O_MEASURE, 0},
        {"rois", O_ROIS, 0},
        {"geojson", O_GEOJSON, 0},
        {"pixel-size", O_PIXEL_SIZE, 1},
        {"quiet", 'q', 0},
        {"help", 'h', 0},
        {NULL, 0, 0},
    };
    struct cu_err err = {0};
    struct cu_predict_run r = {0};
    cu_predict_opts_default(&r.opts);
    r.device = cu_cli_device();
    r.progress = stderr, r.report = stdout, r.notes = stderr;
    if (cu_cli_quiet())
        r.progress = NULL, r.report = NULL;
    const char **pos = calloc((size_t)argc, sizeof *pos), *model = NULL;
    int npos = 0;
    if (!pos)
        return cu_fail(&err, CU_EDEVICE, "out of host memory"), cu_cli_report(&err);
    struct cu_args a;
    cu_args_init(&a, "predict", argc, argv, opts, &err);
    int key;
    while ((key = cu_args_next(&a)) > 0) {
        int done = cu_predict_flag(&a, key, &r.opts, &r.device);
        if (done < 0)
            break;
        if (done)
            continue;
        switch (key) {
        case 'h':
            help(stdout);
            free(pos);
            return 0;
        case 'q': r.progress = NULL, r.report = NULL; break;
        case O_OUT: r.out_dir = a.val; break;
        case O_MODEL: model = a.val; break;
        case O_SUBMISSION: r.submission = a.val; break;
        case O_PROB: r.probabilities = 1; break;
        case O_MAPS: r.maps = 1; break;
        case O_INSTANCES: r.instances = 1; break;
        case O_OVERLAY: r.overlay = 1; break;
        case O_MEASURE: r.measure = 1; break;
        case O_ROIS: r.rois = 1; break;
        case O_GEOJSON: r.geojson = 1; break;
        case O_LABELS_FORMAT:
            if (strcmp(a.val, "png") && strcmp(a.val, "tif")) {
                cu_arg_bad(&a, "png or tif");
                break;
            }
            r.labels_tif = !strcmp(a.val, "tif");
            r.instances = 1;
            break;
        case O_PROB_FORMAT:
            r.prob_png = !strcmp(a.val, "png") || !strcmp(a.val, "png,tif") || !strcmp(a.val, "tif,png");
            r.prob_tif = !strcmp(a.val, "tif") || !strcmp(a.val, "png,tif") || !strcmp(a.val, "tif,png");
            if (!r.prob_png && !r.prob_tif)
                cu_arg_bad(&a, "png, tif or png,tif");
            r.probabilities = 1;
            break;
        case O_PIXEL_SIZE: cu_arg_double(&a, 0, 1e9, 1, 0, &r.pixel_size_um); break;
        case CU_ARG_POS: pos[npos++] = a.val; break;
        }
        if (err.status)
            break;
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
        cu_tmp_files_on_signals(); /* Ctrl-C, SIGTERM: no half-written output left behind */
        clunet_predict(&r, &err);
    }
    if (err.status && made_out)
        rmdir(out); /* only if nothing was written into it */
    free(pos);
    return cu_cli_report(&err);
}
