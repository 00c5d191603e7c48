/* cmd_import.c: `clunet import`, the command line of keras_import.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "clunet/cli.h"
#include "clunet/keras_import.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: clunet import MODEL.h5|MODEL.keras --out MODEL.safetensors [-s S] [--force]\n\n"
            "Turns a Keras model of the DSB2018 U-Net (the network of the original Train.py:\n"
            "`model.save('my_UNET.h5')` with Keras 2 or 3, or Keras 3's .keras file) into a\n"
            "clunet model file that `clunet predict`, `eval` and `export` read like any other,\n"
            "and that `clunet train --init FILE` fine-tunes.\n"
            "The channel rate comes from the layers' filter counts, the image size S\n"
            "from the model's input shape, bilinear or transposed up-sampling from its layers.\n"
            "Dropout layers are dropped (they do nothing at inference). Any other architecture,\n"
            "layer or setting is refused with a message naming the first layer that does not\n"
            "fit; the model's own normalisation must be clunet's (RGB scaled to [0, 1]).\n\n"
            "options:\n"
            "  --out FILE    the clunet model to write (atomically)\n"
            "  -s S          image size, only for models whose input shape leaves it open\n"
            "                (Input(shape=(None, None, 3))); else it must match the model's\n"
            "  --force       replace FILE if it exists\n"
            "  -q, --quiet   no summary line\n"
            "  -h, --help    this help\n\n"
            "A file that is not a Keras model of the DSB2018 U-Net, or is damaged, exits 2.\n\n");
    cu_cli_exit_codes(f);
}

int cu_cmd_import(int argc, char **argv)
{
    enum { O_OUT = CU_ARG_LONG, O_FORCE };
    static const struct cu_opt opts[] = {
        {"out", O_OUT, 1}, {NULL, 's', 1}, {"force", O_FORCE, 0}, {"quiet", 'q', 0}, {"help", 'h', 0}, {NULL, 0, 0},
    };
    struct cu_err err = {0};
    struct cu_args a;
    const char *in = NULL, *out = NULL;
    int size = 0, force = 0, quiet = cu_cli_quiet(), key;
    cu_args_init(&a, "import", argc, argv, opts, &err);
    while ((key = cu_args_next(&a)) > 0) {
        int bad = 0;
        switch (key) {
        case 'h': help(stdout); return 0;
        case 'q': quiet = 1; break;
        case O_OUT: out = a.val; break;
        case O_FORCE: force = 1; break;
        case 's':
            bad = cu_arg_int(&a, 16, 16384, &size);
            if (!bad && size % 16)
                bad = cu_arg_bad(&a, "a multiple of 16");
            break;
        case CU_ARG_POS:
            if (!in)
                in = a.val;
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
    if (!in || !out)
        cu_fail(&err, CU_EUSAGE, "import: usage: clunet import MODEL.h5|MODEL.keras --out MODEL.safetensors "
                                 "(see --help)");
    if (!err.status && !force && access(out, F_OK) == 0)
        cu_fail(&err, CU_EUSAGE, "%s exists (--force replaces it)", out);
    struct cu_unet_config cfg;
    if (!err.status && !cu_keras_import(in, out, size, &cfg, &err) && !quiet)
        printf("%s: DSB2018 U-Net, S=%d, c=%g, %s up-sampling, %d input channels -> %s\n", in, cfg.image_size,
               cfg.channel_rate, cu_upsample_name(cfg.upsample), cfg.input_channels, out);
    return cu_cli_report(&err);
}
