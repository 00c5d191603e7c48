/* onnx_fixture.c: a small clunet model and clunet's own prediction, for
 * check_onnx.py. Usage: onnx_fixture bilinear|transposed OUTDIR [K]
 * Writes OUTDIR/model.safetensors (S=32, c=0.25, He-normal weights of seed
 * 3, biases uniform in [-0.05, 0.15] so that they matter) and
 * OUTDIR/io.safetensors: x (2, 3, 32, 32) uniform in [0, 1] and y, the
 * model's probabilities (2, K, 32, 32) on ref. With K > 1 output channels
 * (which model files do not record yet) it writes OUTDIR/model-13.onnx
 * through cu_onnx_export instead of the model file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/model_file.h"
#include "clunet/onnx_export.h"
#include "testutil.h"

#define S 32

int main(int argc, char **argv)
{
    int k = argc == 4 ? atoi(argv[3]) : 1;
    if (argc < 3 || argc > 4 || cu_upsample_parse(argv[1]) < 0 || k < 1 || k > 8) {
        fprintf(stderr, "usage: onnx_fixture bilinear|transposed OUTDIR [K]\n");
        return 1;
    }
    struct cu_err err = {0};
    struct cu_backend *be = NULL;
    struct cu_unet *net = NULL;
    struct cu_unet_config cfg = {S, 0.25, (enum cu_upsample)cu_upsample_parse(argv[1]), 3, k};
    uint64_t rng = 0x5eed0f0a11ULL;
    char path[4096];
    if (cu_backend_open("ref", &be, &err) || cu_unet_new(be, &cfg, 2, &net, &err) || cu_unet_init_he(net, 3, &err)) {
        fprintf(stderr, "onnx_fixture: %s\n", err.msg);
        return 1;
    }
    for (int i = 0; i < cu_unet_n_params(net); i++) {
        const struct cu_tensor *w = cu_unet_param(net, i)->w;
        if (strstr(w->name, ".bias")) {
            float b[1024];
            tu_fill_uniform(b, (size_t)w->n, &rng, -0.05f, 0.15f);
            cu_tensor_upload(cu_unet_param(net, i)->w, b, &err);
        }
    }
    snprintf(path, sizeof path, k > 1 ? "%s/model-13.onnx" : "%s/model.safetensors", argv[2]);
    if (err.status || (k > 1 ? cu_onnx_export(net, path, 13, NULL, 0, &err) : cu_model_save(path, net, 0, NULL, 0, &err))) {
        fprintf(stderr, "onnx_fixture: %s\n", err.msg);
        return 1;
    }
    static float x[2 * 3 * S * S];
    tu_fill_uniform(x, sizeof x / sizeof *x, &rng, 0.0f, 1.0f);
    struct cu_tensor *in = tu_tensor(be, (struct cu_shape){2, 3, S, S}, "x", x), *prob = NULL;
    struct cu_st_writer *w = NULL;
    int64_t xs[4] = {2, 3, S, S}, ys[4] = {2, k, S, S};
    snprintf(path, sizeof path, "%s/io.safetensors", argv[2]);
    if (cu_unet_predict(net, in, &prob, &err) || cu_st_writer_new(&w, &err) ||
        cu_st_writer_add(w, "x", 4, xs, x, &err) || cu_st_writer_add_tensor(w, "y", 4, ys, prob, &err) ||
        cu_st_writer_write(w, path, &err)) {
        fprintf(stderr, "onnx_fixture: %s\n", err.msg);
        return 1;
    }
    cu_st_writer_free(w);
    cu_tensor_free(in);
    cu_unet_free(net);
    cu_backend_free(be);
    return 0;
}
