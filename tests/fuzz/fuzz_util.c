/* fuzz_util.c: scratch files and folders for the fuzz targets (fuzz.h).
 * Paths carry the process id so that parallel fuzzers and the replay tests
 * never share a file. */
#define _XOPEN_SOURCE 700
#include "fuzz.h"

#include "clunet/image.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Scratch paths made by this process, removed at exit. */
static char made[8][4096];
static int n_made;

static void remove_made(void)
{
    for (int i = 0; i < n_made; i++) {
        fz_empty_dir(made[i]);
        remove(made[i]);
    }
}

static void note_made(const char *path)
{
    for (int i = 0; i < n_made; i++)
        if (!strcmp(made[i], path))
            return;
    if (n_made == 0)
        atexit(remove_made);
    if (n_made < 8)
        snprintf(made[n_made++], sizeof made[0], "%s", path);
}

static const char *tmp_root(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

const char *fz_scratch_file(const char *tag, const uint8_t *data, size_t size)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/clunet-fuzz-%ld-%s", tmp_root(), (long)getpid(), tag);
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    note_made(path);
    int ok = fwrite(data, 1, size, f) == size;
    ok &= fclose(f) == 0;
    return ok ? path : NULL;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag;
    if (ftw->level > 0)
        remove(p);
    return 0;
}

void fz_empty_dir(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fz_scratch_dir(const char *tag)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/clunet-fuzz-%ld-%s.d", tmp_root(), (long)getpid(), tag);
    if (mkdir(path, 0700) != 0) {
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            return NULL;
    }
    note_made(path);
    fz_empty_dir(path);
    return path;
}

void fz_read_image(const char *path)
{
    struct cu_err err = {0};
    struct cu_raw_image r;
    if (cu_image_probe(path, &r, &err))
        return;
    long long px = (long long)r.w * r.h * r.channels;
    int pages = r.pages;
    cu_raw_free(&r);
    if (px > (1 << 20))
        return;
    for (int p = 0; p < pages && p < 4; p++) {
        cu_err_clear(&err);
        if (cu_image_read(path, p, &r, &err))
            continue;
        if ((long long)r.w * r.h * r.channels > (1 << 20)) { /* a later page can be larger than page 0 */
            cu_raw_free(&r);
            continue;
        }
        struct cu_image im = {0};
        struct cu_labels lb = {0};
        struct cu_input_opts o = {.channel = r.channels};
        if (!cu_raw_to_rgb(&r, NULL, path, &im, &err))
            cu_image_free(&im);
        cu_err_clear(&err);
        if (!cu_raw_to_rgb(&r, &o, path, &im, &err))
            cu_image_free(&im);
        cu_err_clear(&err);
        if (!cu_raw_to_labels(&r, path, &lb, &err))
            cu_labels_free(&lb);
        float *u = calloc((size_t)r.w * (size_t)r.h, sizeof *u);
        if (u)
            cu_raw_or_mask(&r, u);
        free(u);
        cu_raw_free(&r);
    }
    float one = 0;
    cu_err_clear(&err);
    (void)cu_image_or_mask(path, 1, 1, &one, &err); /* wrong size unless 1x1: must refuse, not write past */
}
