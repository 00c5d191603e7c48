/* test_synth.c: `clunet synth` output: the same seed gives byte-identical
 * files, a different seed different ones; the layout is DSB2018 training
 * and loads as such; each image has as many mask files as nuclei, masks
 * are disjoint, non-empty, 0/255 and of the image's size; brightfield and
 * fluorescence styles both occur; an existing output is refused. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clunet/cli.h"
#include "clunet/dataset.h"
#include "clunet/image.h"
#include "clunet/synth.h"
#include "testutil.h"

static char root[256];

static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb)
            same = 0;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

/* Compares every file of tree a with tree b (recursively); returns the
 * number of files compared, -1 on a difference or a missing file. */
static int same_tree(const char *a, const char *b)
{
    DIR *d = opendir(a);
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char pa[1024], pb[1024];
        snprintf(pa, sizeof pa, "%s/%s", a, e->d_name);
        snprintf(pb, sizeof pb, "%s/%s", b, e->d_name);
        struct stat st;
        stat(pa, &st);
        int k = S_ISDIR(st.st_mode) ? same_tree(pa, pb) : same_file(pa, pb) ? 1 : -1;
        if (k < 0) {
            n = -1;
            break;
        }
        n += k;
    }
    closedir(d);
    return n;
}

static enum cu_status synth(const char *name, int count, int w, int h, uint64_t seed, struct cu_err *err)
{
    char out[512];
    snprintf(out, sizeof out, "%s/%s", root, name);
    struct cu_synth_opts o = {.out = out, .count = count, .width = w, .height = h, .seed = seed};
    return clunet_synth(&o, err);
}

int main(void)
{
    snprintf(root, sizeof root, "%s/clunet_test_synth_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(root)) {
        TU_CHECK(0, "mkdtemp");
        return tu_finish();
    }
    struct cu_err err = {0};
    const int N = 12, W = 96, H = 80;
    tu_ok(synth("a", N, W, H, 7, &err), &err, "synth a");
    tu_ok(synth("b", N, W, H, 7, &err), &err, "synth b (same seed)");
    tu_ok(synth("c", N, W, H, 8, &err), &err, "synth c (other seed)");
    char a[512], b[512], c[512];
    snprintf(a, sizeof a, "%s/a/stage1_train", root);
    snprintf(b, sizeof b, "%s/b/stage1_train", root);
    snprintf(c, sizeof c, "%s/c/stage1_train", root);
    int files = same_tree(a, b);
    TU_CHECK(files > N && same_tree(b, a) == files, "same seed: %d files byte-identical (both ways)", files);
    TU_CHECK(same_tree(a, c) < 0, "another seed gives other files");

    /* Refuses to overwrite; leaves nothing behind. */
    cu_err_clear(&err);
    enum cu_status st = synth("a", N, W, H, 7, &err);
    TU_CHECK(st == CU_EUSAGE && strstr(err.msg, "already exists"), "existing output refused (usage, as train): %s", err.msg);
    char adir[512];
    snprintf(adir, sizeof adir, "%s/a", root);
    DIR *d = opendir(adir);
    int entries = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        entries += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    TU_CHECK(entries == 1, "no temporary folder left in the output (%d entries)", entries);
    cu_err_clear(&err);
    TU_CHECK(synth("z", 0, W, H, 1, &err) == CU_EUSAGE, "count 0 refused: %s", err.msg);

    /* Loads as DSB2018 training data; counts, disjointness, values. */
    struct cu_dataset_opts o = {.size = 64, .need_masks = 1};
    struct cu_dataset *ds = NULL;
    cu_err_clear(&err);
    if (tu_ok(cu_dataset_open(adir, &o, &ds, &err), &err, "load synth")) {
        TU_CHECK(ds->layout == CU_LAYOUT_DSB_TRAIN && ds->n == N, "layout %s, %d images (want %d)",
                 cu_layout_name(ds->layout), ds->n, N);
        int bad_count = 0, overlap = 0, nonbinary = 0, empty = 0;
        size_t np = (size_t)W * H;
        uint8_t *rgb = malloc(np * 3);
        uint16_t *lab = malloc(np * 2);
        for (int i = 0; i < ds->n; i++) {
            int nm = 0, k = 0;
            d = opendir(ds->samples[i].masks);
            for (struct dirent *e; d && (e = readdir(d));)
                nm += e->d_name[0] != '.';
            if (d)
                closedir(d);
            /* the sample generated in memory must say the same count */
            int idx = -1;
            for (int j = 0; j < N && idx < 0; j++) {
                char id[17];
                cu_synth_id(7, j, id);
                if (!strcmp(id, ds->samples[i].id))
                    idx = j;
            }
            if (idx < 0 || cu_synth_sample(7, idx, H, W, rgb, lab, &k, &err) || k != nm)
                bad_count++;
            /* disjoint: the union has as many pixels as the masks together */
            unsigned *seen = calloc(np, sizeof *seen);
            d = opendir(ds->samples[i].masks);
            for (struct dirent *e; d && (e = readdir(d));) {
                if (e->d_name[0] == '.')
                    continue;
                char p[1024];
                snprintf(p, sizeof p, "%s/%s", ds->samples[i].masks, e->d_name);
                struct cu_labels m = {0};
                if (cu_image_read_labels(p, &m, &err) || m.h != H || m.w != W) {
                    nonbinary++;
                    continue;
                }
                size_t area = 0;
                for (size_t q = 0; q < np; q++) {
                    nonbinary += m.v[q] != 0 && m.v[q] != 255;
                    if (m.v[q]) {
                        overlap += seen[q]++ > 0;
                        area++;
                    }
                }
                empty += area == 0;
                cu_labels_free(&m);
            }
            if (d)
                closedir(d);
            free(seen);
        }
        TU_CHECK(bad_count == 0, "mask files per image = nuclei generated (%d images differ)", bad_count);
        TU_CHECK(overlap == 0, "masks disjoint (%d shared pixels)", overlap);
        TU_CHECK(nonbinary == 0 && empty == 0, "masks 0/255 of the image size, none empty (%d, %d)", nonbinary, empty);
        double fg = 0;
        for (size_t q = 0; q < (size_t)ds->n * 64 * 64; q++)
            fg += ds->masks[q];
        fg /= (double)ds->n * 64 * 64;
        TU_CHECK(fg > 0.05 && fg < 0.5, "foreground fraction %.3f in (0.05, 0.5)", fg);
        free(rgb), free(lab);
        cu_dataset_free(ds);
    }
    /* Styles: about a fifth brightfield-like (light background), counted
     * over 60 images made in memory; 5..25 is far outside chance for 0.2. */
    {
        enum { SW = 48, SH = 40, M = 60 };
        uint8_t rgb[SW * SH * 3];
        uint16_t lab[SW * SH];
        int bright = 0, k = 0, fails = 0;
        for (int i = 0; i < M; i++) {
            fails += cu_synth_sample(11, i, SH, SW, rgb, lab, &k, &err) != CU_OK || k < 1;
            double mean = 0;
            for (int q = 0; q < SW * SH * 3; q++)
                mean += rgb[q];
            bright += mean / (SW * SH * 3) > 128;
        }
        TU_CHECK(!fails && bright >= 5 && bright <= 25, "both styles: %d of %d images brightfield-like", bright, M);
    }

    /* The command line: usage errors exit 1, a good run 0. */
    char out[512], *bad1[] = {"synth", "--count", "3"}, *bad2[] = {"synth", "--out", out, "--size", "8x8"};
    char *bad3[] = {"synth", "--out", out, "--bogus", "1"}, *bad4[] = {"synth", "--out", out, "--seed", "-1"};
    snprintf(out, sizeof out, "%s/cli", root);
    TU_CHECK(cu_cmd_synth(3, bad1) == 1, "synth without --out: exit 1");
    TU_CHECK(cu_cmd_synth(5, bad2) == 1, "synth --size 8x8: exit 1");
    TU_CHECK(cu_cmd_synth(5, bad3) == 1, "synth --bogus: exit 1");
    TU_CHECK(cu_cmd_synth(5, bad4) == 1, "synth --seed -1: exit 1");
    char *good[] = {"synth", "--out", out, "--count", "2", "--size", "40x24", "--seed", "5", "--quiet"};
    TU_CHECK(cu_cmd_synth(10, good) == 0, "synth --out --count 2 --size 40x24: exit 0");
    char img[1024];
    char id[17];
    cu_synth_id(5, 1, id);
    snprintf(img, sizeof img, "%s/stage1_train/%s/images/%s.png", out, id, id);
    int h = 0, w = 0;
    TU_CHECK(cu_image_read_size(img, &h, &w, &err) == CU_OK && w == 40 && h == 24, "%s is 40x24", img);
    TU_CHECK(cu_cmd_synth(10, good) == 1, "synth into an existing dataset: exit 1 (usage, as train)");
    tu_rm_rf(root);
    return tu_finish();
}
