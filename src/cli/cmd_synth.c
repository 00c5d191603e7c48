/* cmd_synth.c: `clunet synth`, the command line of synth.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "clunet/cli.h"
#include "clunet/synth.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clunet synth --out DIR [--count N] [--size WxH] [--seed K] [-q]\n\n"
            "Writes a synthetic nuclei dataset in the DSB2018 training layout:\n"
            "  DIR/stage1_train/<id>/images/<id>.png   8-bit RGB image\n"
            "  DIR/stage1_train/<id>/masks/m<k>.png    one 0/255 mask per nucleus (disjoint)\n"
            "Nuclei of varied size, shape, orientation and brightness, with texture, touching and\n"
            "overlapping neighbours, uneven illumination, blur and noise; about a fifth of the\n"
            "images brightfield-like (dark nuclei on a light background). The same arguments give\n"
            "byte-identical files. Train on it with `clunet train --data DIR`.\n\n"
            "options:\n"
            "  --out DIR     output folder (created); DIR/stage1_train must not exist yet\n"
            "  --count N     number of images (default 768)\n"
            "  --size WxH    image size (default 128x128; each side 16..8192)\n"
            "  --seed K      random seed (default 1)\n"
            "  -q, --quiet   no progress bar or summary line\n"
            "  -h, --help    this help\n");
    fprintf(f, "\n");
    cu_cli_exit_codes(f);
}

/* --size WxH, or --size N for NxN; each side 16..8192. */
static int parse_size(struct cu_args *a, struct cu_synth_opts *o)
{
    int w = 0, h = 0;
    char tail;
    if (sscanf(a->val, "%dx%d%c", &w, &h, &tail) == 1 && !strchr(a->val, 'x'))
        h = w; /* --size 128 means 128x128 */
    else if (sscanf(a->val, "%dx%d%c", &w, &h, &tail) != 2)
        w = h = 0;
    if (w < 16 || h < 16 || w > 8192 || h > 8192)
        return cu_arg_bad(a, "WxH, each side in 16..8192");
    o->width = w, o->height = h;
    return 0;
}

int cu_cmd_synth(int argc, char **argv)
{
    enum { O_OUT = CU_ARG_LONG, O_COUNT, O_SIZE, O_SEED };
    static const struct cu_opt opts[] = {
        {"out", O_OUT, 1},   {"count", O_COUNT, 1}, {"size", O_SIZE, 1}, {"seed", O_SEED, 1},
        {"quiet", 'q', 0},   {"help", 'h', 0},      {NULL, 0, 0},
    };
    struct cu_synth_opts o = {.count = 768, .width = 128, .height = 128, .seed = 1, .progress = stderr};
    struct cu_err err = {0};
    struct cu_args a;
    cu_args_init(&a, "synth", argc, argv, opts, &err);
    if (cu_cli_quiet())
        o.progress = NULL;
    int key;
    while ((key = cu_args_next(&a)) > 0) {
        int bad = 0;
        switch (key) {
        case 'h': usage(stdout); return 0;
        case 'q': o.progress = NULL; break;
        case O_OUT: o.out = a.val; break;
        case O_COUNT: bad = cu_arg_int(&a, 1, 1000000, &o.count); break;
        case O_SEED: bad = cu_arg_u64(&a, &o.seed); break;
        case O_SIZE: bad = parse_size(&a, &o); break;
        default: bad = cu_arg_extra(&a); break;
        }
        if (bad)
            return cu_cli_report(&err);
    }
    if (key < 0)
        return cu_cli_report(&err);
    if (!o.out) {
        cu_fail(&err, CU_EUSAGE, "synth: --out DIR is required (see clunet synth --help)");
        return cu_cli_report(&err);
    }
    clunet_synth(&o, &err);
    if (!err.status && o.progress)
        fprintf(o.progress, "synth: wrote %d images of %dx%d to %s/stage1_train\n", o.count, o.width, o.height, o.out);
    return cu_cli_report(&err);
}
