/* cmd_export.c: `clunet export`, the command line of onnx_export.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
            "  -h, --help    this help\n\n"
            "exit codes: 0 done, 1 usage, 2 bad model file, 3 out of memory, 4 cannot write FILE.\n",
            CU_ONNX_IR_VERSION, CU_ONNX_OPSET_MIN, CU_ONNX_OPSET_MAX, CU_ONNX_OPSET_MIN);
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
    struct cu_err err = {0};
    const char *model = NULL, *out = NULL;
    int opset = CU_ONNX_OPSET_MIN, force = 0;
    for (int i = 1; i < argc && !err.status; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            return 0;
        } else if (!strcmp(a, "--force")) {
            force = 1;
        } else if (!strcmp(a, "--onnx") || !strcmp(a, "--opset")) {
            if (!v) {
                cu_fail(&err, CU_EUSAGE, "export: %s needs a value (see clunet export --help)", a);
            } else if (!strcmp(a, "--onnx")) {
                out = v;
            } else {
                char *end;
                errno = 0;
                long o = strtol(v, &end, 10);
                if (errno || end == v || *end || o < CU_ONNX_OPSET_MIN || o > CU_ONNX_OPSET_MAX)
                    cu_fail(&err, CU_EUSAGE, "export: --opset %s: expected %d..%d", v, CU_ONNX_OPSET_MIN,
                            CU_ONNX_OPSET_MAX);
                opset = (int)o;
            }
            i++;
        } else if (!strncmp(a, "--onnx=", 7)) {
            out = a + 7;
        } else if (a[0] == '-' && a[1]) {
            cu_fail(&err, CU_EUSAGE, "export: unknown option %s (see clunet export --help)", a);
        } else if (!model) {
            model = a;
        } else {
            cu_fail(&err, CU_EUSAGE, "export: one model at a time (see clunet export --help)");
        }
    }
    if (!err.status && (!model || !out))
        cu_fail(&err, CU_EUSAGE, "usage: clunet export MODEL --onnx OUT.onnx (see --help)");
    if (!err.status && !force && access(out, F_OK) == 0)
        cu_fail(&err, CU_EUSAGE, "%s exists (--force replaces it)", out);
    struct cu_backend *be = NULL;
    struct cu_unet *net = NULL;
    struct cu_st_file *file = NULL;
    if (!err.status && !cu_backend_open("ref", &be, &err) && !cu_model_load(be, model, 1, 0, &net, &file, &err)) {
        struct cu_meta_kv kv[8];
        int n = facts(file, model, kv);
        if (!cu_onnx_export(net, out, opset, kv, n, &err)) {
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
