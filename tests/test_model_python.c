/* test_model_python.c: a clunet model file loads unchanged in Python's
 * `safetensors` package (DESIGN.md section 3). Writes a model (S=32 c=0.25
 * transposed, He-initialised, with a training fact), a manifest of names
 * and shapes and a raw dump of the values made with plain fwrite, then runs
 * tests/check_model_python.py, which compares names, shapes, values and
 * metadata. Needs python3 with the safetensors and numpy packages (CI
 * installs them from PyPI); their absence is a failure, not a skip. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clunet/model_file.h"

int main(void)
{
    struct cu_backend *be = NULL;
    struct cu_unet *net = NULL;
    struct cu_err err = {0};
    char dir[] = "/tmp/clunet_py_XXXXXX";
    if (!mkdtemp(dir))
        return tu_check(0, "mkdtemp"), tu_finish();
    struct cu_unet_config cfg = {32, 0.25, CU_UPSAMPLE_TRANSPOSED, 3};
    if (!tu_ok(cu_backend_open("ref", &be, &err), &err, "open ref") ||
        !tu_ok(cu_unet_new(be, &cfg, 1, &net, &err), &err, "build") ||
        !tu_ok(cu_unet_init_he(net, 3, &err), &err, "init"))
        return tu_finish();
    /* non-zero biases, so that the values say something */
    for (int i = 1; i < cu_unet_n_params(net); i += 2) {
        struct cu_tensor *b = cu_unet_param(net, i)->w;
        float v[128];
        for (size_t k = 0; k < cu_tensor_numel(b); k++)
            v[k] = (float)i + 0.001f * (float)k;
        tu_ok(cu_tensor_upload(b, v, &err), &err, "bias");
    }
    char model[64], manifest[64], blob[64], cmd[512];
    snprintf(model, sizeof model, "%s/model.safetensors", dir);
    snprintf(manifest, sizeof manifest, "%s/manifest.txt", dir);
    snprintf(blob, sizeof blob, "%s/values.f32", dir);
    const struct cu_meta_kv facts[] = {{"epochs", "3"}};
    tu_ok(cu_model_save(model, net, 0, facts, 1, &err), &err, "save");
    FILE *fm = fopen(manifest, "w"), *fb = fopen(blob, "wb");
    size_t off = 0;
    for (int i = 0; fm && fb && i < cu_unet_n_params(net); i++) {
        const struct cu_tensor *t = cu_unet_param(net, i)->w;
        size_t n = cu_tensor_numel(t);
        if (strstr(t->name, ".bias"))
            fprintf(fm, "%s 1 %d %zu %zu\n", t->name, t->n, off, n);
        else
            fprintf(fm, "%s 4 %d %d %d %d %zu %zu\n", t->name, t->n, t->c, t->h, t->w, off, n);
        float *h = tu_download(t);
        fwrite(h, sizeof *h, n, fb);
        free(h);
        off += n;
    }
    if (fm)
        fclose(fm);
    if (fb)
        fclose(fb);
    snprintf(cmd, sizeof cmd, "python3 '%s' '%s' '%s' '%s'", tu_source_path("tests/check_model_python.py"), model,
             manifest, blob);
    fflush(stdout);
    int rc = system(cmd);
    TU_CHECK(rc == 0, "Python safetensors loads the clunet model with its names, shapes, values and metadata "
                      "(%s exited %d)", "check_model_python.py", rc);
    remove(model), remove(manifest), remove(blob), rmdir(dir);
    cu_unet_free(net);
    cu_backend_free(be);
    return tu_finish();
}
