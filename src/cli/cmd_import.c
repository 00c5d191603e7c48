/* cmd_import.c: `clunet import`, the command line of keras_import.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clunet/cli.h"
#include "clunet/keras_import.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: clunet import MODEL.h5|MODEL.keras --out MODEL.safetensors [-s S] [--force]\n\n"
            "Turns a Keras model of the DSB2018 U-Net (the network of the original Train.py:\n"
            "`model.save('my_UNET.h5')` with Keras 2 or 3, or Keras 3's .keras file) into a\n"
            "clunet model file that `clunet predict`, `eval` and `train --init` read like any\n"
            "other. The channel rate comes from the layers' filter counts, the image size S\n"
            "from the model's input shape, bilinear or transposed up-sampling from its layers.\n"
            "Dropout layers are dropped (they do nothing at inference). Any other architecture,\n"
            "layer or setting is refused with a message naming the first layer that does not\n"
            "fit; the model's own normalisation must be clunet's (RGB scaled to [0, 1]).\n\n"
            "options:\n"
            "  --out FILE    the clunet model to write (atomically)\n"
            "  -s S          image size, only for models whose input shape leaves it open\n"
            "                (Input(shape=(None, None, 3))); else it must match the model's\n"
            "  --force       replace FILE if it exists\n"
            "  -h, --help    this help\n\n"
            "exit codes: 0 done, 1 usage, 2 not a Keras model of the DSB2018 U-Net (or damaged),\n"
            "3 out of memory, 4 cannot write FILE.\n");
}

int cu_cmd_import(int argc, char **argv)
{
    struct cu_err err = {0};
    const char *in = NULL, *out = NULL;
    int size = 0, force = 0;
    for (int i = 1; i < argc && !err.status; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            return 0;
        } else if (!strcmp(a, "--force")) {
            force = 1;
        } else if (!strcmp(a, "--out") || !strcmp(a, "-s")) {
            if (!v) {
                cu_fail(&err, CU_EUSAGE, "import: %s needs a value (see clunet import --help)", a);
            } else if (!strcmp(a, "--out")) {
                out = v;
            } else {
                char *end;
                errno = 0;
                long s = strtol(v, &end, 10);
                if (errno || end == v || *end || s < 16 || s > 65536 || s % 16)
                    cu_fail(&err, CU_EUSAGE, "import: -s %s: expected a multiple of 16", v);
                size = (int)s;
            }
            i++;
        } else if (!strncmp(a, "--out=", 6)) {
            out = a + 6;
        } else if (a[0] == '-' && a[1]) {
            cu_fail(&err, CU_EUSAGE, "import: unknown option %s (see clunet import --help)", a);
        } else if (!in) {
            in = a;
        } else {
            cu_fail(&err, CU_EUSAGE, "import: one model at a time (see clunet import --help)");
        }
    }
    if (!err.status && (!in || !out))
        cu_fail(&err, CU_EUSAGE, "usage: clunet import MODEL.h5|MODEL.keras --out MODEL.safetensors (see --help)");
    if (!err.status && !force && access(out, F_OK) == 0)
        cu_fail(&err, CU_EUSAGE, "%s exists (--force replaces it)", out);
    struct cu_unet_config cfg;
    if (!err.status && !cu_keras_import(in, out, size, &cfg, &err))
        printf("%s: DSB2018 U-Net, S=%d, c=%g, %s up-sampling, %d input channels -> %s\n", in, cfg.image_size,
               cfg.channel_rate, cu_upsample_name(cfg.upsample), cfg.input_channels, out);
    return cu_cli_report(&err);
}
