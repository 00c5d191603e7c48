/* cmd_synth.c: `clunet synth`, the command line of synth.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/cli.h"
#include "clunet/synth.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clunet synth --out DIR [--count N] [--size WxH] [--seed K] [--quiet]\n\n"
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
            "  --quiet       no progress bar\n");
}

static int parse_int(const char *s, long lo, long hi, long *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end || x < lo || x > hi)
        return -1;
    *v = x;
    return 0;
}

int cu_cmd_synth(int argc, char **argv)
{
    struct cu_synth_opts o = {.count = 768, .width = 128, .height = 128, .seed = 1, .progress = stderr};
    struct cu_err err = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long x = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--quiet")) {
            o.progress = NULL;
            continue;
        } else if (!v) {
            cu_fail(&err, CU_EUSAGE, "synth: %s needs a value (see clunet synth --help)", a);
        } else if (!strcmp(a, "--out")) {
            o.out = v;
        } else if (!strcmp(a, "--count")) {
            if (parse_int(v, 1, 1000000, &x))
                cu_fail(&err, CU_EUSAGE, "synth: --count %s: expected 1..1000000", v);
            o.count = (int)x;
        } else if (!strcmp(a, "--seed")) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 10);
            if (errno || end == v || *end || v[0] == '-')
                cu_fail(&err, CU_EUSAGE, "synth: --seed %s: expected a non-negative integer", v);
            o.seed = s;
        } else if (!strcmp(a, "--size")) {
            int w = 0, h = 0;
            char tail;
            if (sscanf(v, "%dx%d%c", &w, &h, &tail) == 1 && !strchr(v, 'x'))
                h = w; /* --size 128 means 128x128 */
            else if (sscanf(v, "%dx%d%c", &w, &h, &tail) != 2)
                w = h = 0;
            if (w < 16 || h < 16 || w > 8192 || h > 8192)
                cu_fail(&err, CU_EUSAGE, "synth: --size %s: expected WxH, each 16..8192", v);
            o.width = w, o.height = h;
        } else {
            cu_fail(&err, CU_EUSAGE, "synth: unknown option %s (see clunet synth --help)", a);
        }
        if (err.status)
            return cu_cli_report(&err);
        i++;
    }
    if (!o.out) {
        cu_fail(&err, CU_EUSAGE, "synth: --out DIR is required (see clunet synth --help)");
        return cu_cli_report(&err);
    }
    clunet_synth(&o, &err);
    if (!err.status && o.progress)
        fprintf(o.progress, "synth: wrote %d images of %dx%d to %s/stage1_train\n", o.count, o.width, o.height, o.out);
    return cu_cli_report(&err);
}
