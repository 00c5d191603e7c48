/* cmd_export.c: `clunet export`, the command line of onnx_export.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "clunet/cli.h"
#include "clunet/onnx_export.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: clunet export MODEL --onnx OUT.onnx [--opset N] [--force]\n\n"
            "Writes a clunet model as an ONNX file for ONNX Runtime, OpenVINO, TensorRT and other\n"
            "runtimes: IR version %d, the standard operators Conv, Relu, MaxPool, Resize (linear,\n"
            "half_pixel: clunet's and Keras's bilinear up-sampling) or ConvTranspose, Concat and\n"
            "Sigmoid. Input \"image\": float32 (N, channels, S, S), RGB scaled to [0, 1]; output\n"
            "\"probability\": float32 (N, K, S, S), channel 0 the nucleus probability; N is\n"
            "dynamic, S is the model's image size (resize images to S x S first, as `clunet\n"
            "predict` does). metadata_props hold the clunet version, image size, channel rate,\n"
            "up-sampling, normalisation and the model's training facts.\n\n"
            "options:\n"
            "  --onnx FILE   the ONNX file to write (atomically)\n"
            "  --opset N     ONNX operator set, %d..%d (default %d, which runtimes from 2020 on load)\n"
            "  --force       replace FILE if it exists\n"
            "  -q, --quiet   no summary line\n"
            "  -h, --help    this help\n\n",
            CU_ONNX_IR_VERSION, CU_ONNX_OPSET_MIN, CU_ONNX_OPSET_MAX, CU_ONNX_OPSET_MIN);
    cu_cli_exit_codes(f);
}

/* The model file's facts worth carrying into the ONNX metadata. */
static int facts(const struct cu_st_file *f, const char *model, struct cu_meta_kv *out)
{
    static const char *const keys[] = {"epochs", "val_dice", "recipe", "imported_from", "keras_version"};
    const char *base = strrchr(model, '/');
    int n = 0;
    out[n++] = (struct cu_meta_kv){"source_model", base ? base + 1 : model};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const char *v = cu_st_file_meta(f, keys[i]);
        if (v)
            out[n++] = (struct cu_meta_kv){keys[i], v};
    }
    return n;
}

int cu_cmd_export(int argc, char **argv)
{
    enum { O_ONNX = CU_ARG_LONG, O_OPSET, O_FORCE };
    static const struct cu_opt opts[] = {
        {"onnx", O_ONNX, 1}, {"opset", O_OPSET, 1}, {"force", O_FORCE, 0},
        {"quiet", 'q', 0},   {"help", 'h', 0},      {NULL, 0, 0},
    };
    struct cu_err err = {0};
    struct cu_args a;
    const char *model = NULL, *out = NULL;
    int opset = CU_ONNX_OPSET_MIN, force = 0, quiet = cu_cli_quiet(), key;
    cu_args_init(&a, "export", argc, argv, opts, &err);
    while ((key = cu_args_next(&a)) > 0) {
        int bad = 0;
        switch (key) {
        case 'h': help(stdout); return 0;
        case 'q': quiet = 1; break;
        case O_ONNX: out = a.val; break;
        case O_OPSET: bad = cu_arg_int(&a, CU_ONNX_OPSET_MIN, CU_ONNX_OPSET_MAX, &opset); break;
        case O_FORCE: force = 1; break;
        case CU_ARG_POS:
            if (!model)
                model = a.val;
            else
                bad = cu_arg_extra(&a);
            break;
        default: bad = cu_arg_extra(&a); break;
        }
        if (bad)
            return cu_cli_report(&err);
    }
    if (key < 0)
        return cu_cli_report(&err);
    if (!model || !out)
        cu_fail(&err, CU_EUSAGE, "export: usage: clunet export MODEL --onnx OUT.onnx (see --help)");
    if (!err.status && !force && access(out, F_OK) == 0)
        cu_fail(&err, CU_EUSAGE, "%s exists (--force replaces it)", out);
    struct cu_backend *be = NULL;
    struct cu_unet *net = NULL;
    struct cu_st_file *file = NULL;
    if (!err.status && !cu_backend_open("ref", &be, &err) && !cu_model_load(be, model, 1, 0, &net, &file, &err)) {
        struct cu_meta_kv kv[8];
        int n = facts(file, model, kv);
        if (!cu_onnx_export(net, out, opset, kv, n, &err) && !quiet) {
            const struct cu_unet_config *c = cu_unet_config(net);
            printf("%s -> %s: ONNX IR %d, opset %d, input image (N, %d, %d, %d), %s up-sampling\n", model, out,
                   CU_ONNX_IR_VERSION, opset, c->input_channels, c->image_size, c->image_size,
                   cu_upsample_name(c->upsample));
        }
    }
    cu_st_file_free(file);
    cu_unet_free(net);
    cu_backend_free(be);
    return cu_cli_report(&err);
}
