/* cmd_convert.c: `clunet convert`: a model file rewritten with its weights
 * stored as F16 or F32 and facts added to its metadata (how a model is
 * made ready to ship: models/README.md). The work is cu_model_convert. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "clunet/cli.h"
#include "clunet/model_file.h"

static void help(FILE *f)
{
    fprintf(f, "usage: clunet convert IN.safetensors OUT.safetensors [--dtype f16|f32] [--meta KEY=VALUE]...\n\n"
               "Rewrites a clunet model file (a run's model.safetensors or best.safetensors):\n"
               "  --dtype D         how the weights are stored: f16 (half the size; loading widens\n"
               "                    them to float32; the probabilities move by less than 5e-3)\n"
               "                    or f32 (default f16). A training checkpoint stays f32.\n"
               "  --meta KEY=VALUE  add or replace a fact in the file's metadata (e.g. where and how\n"
               "                    the model was trained); may be repeated. The model's own keys\n"
               "                    (format, version, image_size, ...) cannot be replaced.\n"
               "  -h, --help        this help\n\n"
               "Every other fact and tensor is kept; OUT is written atomically.\n\n"
               "exit codes: 0 done, 1 usage, 2 IN is not a clunet model (or a weight beyond F16's\n"
               "range), 4 cannot write OUT.\n");
}

int cu_cmd_convert(int argc, char **argv)
{
    enum { O_DTYPE = CU_ARG_LONG, O_META };
    static const struct cu_opt opts[] = {{"dtype", O_DTYPE, 1}, {"meta", O_META, 1}, {"help", 'h', 0}, {NULL, 0, 0}};
    struct cu_err err = {0};
    const char *pos[2];
    int npos = 0, n_meta = 0, dtype = CU_ST_F16, key;
    struct cu_meta_kv *meta = calloc((size_t)argc, sizeof *meta);
    char **keys = calloc((size_t)argc, sizeof *keys);
    if (!meta || !keys)
        cu_fail(&err, CU_EUSAGE, "out of memory");
    struct cu_args a;
    cu_args_init(&a, "convert", argc, argv, opts, &err);
    while (!err.status && (key = cu_args_next(&a)) > 0) {
        const char *eq;
        switch (key) {
        case 'h':
            help(stdout);
            free(meta);
            free(keys);
            return 0;
        case O_DTYPE:
            dtype = cu_st_dtype_parse(a.val);
            if (dtype != CU_ST_F16 && dtype != CU_ST_F32)
                cu_arg_bad(&a, "f16 or f32");
            break;
        case O_META:
            eq = strchr(a.val, '=');
            if (!eq || eq == a.val || !(keys[n_meta] = strndup(a.val, (size_t)(eq - a.val))))
                cu_arg_bad(&a, "KEY=VALUE");
            else
                meta[n_meta].key = keys[n_meta], meta[n_meta].value = eq + 1, n_meta++;
            break;
        case CU_ARG_POS:
            if (npos < 2)
                pos[npos++] = a.val;
            else
                cu_arg_extra(&a);
            break;
        }
    }
    if (!err.status && npos != 2)
        cu_fail(&err, CU_EUSAGE, "usage: clunet convert IN.safetensors OUT.safetensors [--dtype f16|f32] (see --help)");
    if (!err.status)
        cu_model_convert(pos[0], pos[1], (enum cu_st_dtype)dtype, meta, n_meta, &err);
    for (int i = 0; keys && i < n_meta; i++)
        free(keys[i]);
    free(meta);
    free(keys);
    return cu_cli_report(&err);
}
