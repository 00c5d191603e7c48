/* fuzz_safetensors.c: libFuzzer target for the safetensors reader and the
 * model loader (safetensors.c, model_file.c): header length, JSON, dtypes,
 * shapes, offsets, metadata, and files whose tensors do not fit the model.
 * Every accepted tensor is read end to end, so a bad offset shows up under
 * ASan. The model is fz_seed_net() (S=16, c=1/32), built once. */
#include "fuzz.h"

#include "clunet/model_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cu_unet *net = fz_seed_net();
    const char *path = fz_scratch_file("st", data, size);
    struct cu_st_file *f = NULL;
    struct cu_err err = {0};
    if (!path || cu_st_file_read(path, &f, &err))
        return 0;
    volatile float sink = 0;
    for (int i = 0; i < cu_st_file_count(f); i++) {
        const struct cu_st_entry *e = cu_st_file_entry(f, i);
        for (size_t k = 0; k < e->numel; k++)
            sink += e->data[k];
        (void)cu_st_file_find(f, e->name);
    }
    (void)sink;
    (void)cu_st_file_meta(f, "format");
    struct cu_unet_config cfg;
    cu_err_clear(&err);
    (void)cu_model_config(f, &cfg, &err);
    cu_err_clear(&err);
    (void)cu_model_load_into(net, f, size & 1 ? CU_MODEL_ADAM : 0, &err);
    cu_st_file_free(f);
    return 0;
}
