/* test_mask_cache.c: the decoded-mask cache of DSB2018 samples
 * (src/mask_cache.c) through cu_dataset_union: an entry per sample is
 * written, read back bit-exactly, actually used on a hit, rebuilt when it
 * is corrupt or truncated, and bypassed when a mask file is changed, added
 * or removed, or when the cache folder cannot be made. Every union is
 * compared with one read with CLUNET_NO_MASK_CACHE=1 (exact: the masks are
 * 0/1). A handmade DSB layout covers runs touching the first and last
 * pixel and a sample whose masks are all zero. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clunet/dataset.h"
#include "clunet/image.h"
#include "testutil.h"

#define H 24
#define W 40

static char root[256], data[300], cache[300], entries[400];

static void write_mask(const char *id, const char *name, int kind)
{
    uint8_t px[H * W];
    for (int i = 0; i < H * W; i++) /* 0: a block; 1: first/last pixels; 2: empty */
        px[i] = kind == 0 ? (i / W > 5 && i / W < 12 && i % W > 3 && i % W < 20) * 255
                : kind == 1 ? (i < 7 || i >= H * W - 5) * 255
                            : 0;
    char p[600];
    snprintf(p, sizeof p, "%s/%s/masks/%s.png", data, id, name);
    struct cu_err e = {0};
    tu_ok(cu_png_write_gray8(p, px, H, W, &e), &e, p);
}

static void make_sample(const char *id, const int *kinds, int n)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", data, id);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/%s/images", data, id);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/%s/masks", data, id);
    mkdir(p, 0700);
    uint8_t rgb[H * W * 3];
    for (int i = 0; i < H * W * 3; i++)
        rgb[i] = (uint8_t)(i * 7);
    snprintf(p, sizeof p, "%s/%s/images/%s.png", data, id, id);
    struct cu_err e = {0};
    tu_ok(cu_png_write_rgb8(p, rgb, H, W, &e), &e, p);
    for (int k = 0; k < n; k++) {
        char name[16];
        snprintf(name, sizeof name, "m%d", k);
        write_mask(id, name, kinds[k]);
    }
}

static int count_entries(void)
{
    int n = 0;
    DIR *d = opendir(entries);
    for (struct dirent *e; d && (e = readdir(d));)
        n += strstr(e->d_name, ".rle") != NULL && strstr(e->d_name, ".tmp") == NULL;
    if (d)
        closedir(d);
    return n;
}

/* The union of sample i, with (cached = 1) or without the cache; NULL on error. */
static float *union_of(int i, int cached)
{
    setenv("CLUNET_NO_MASK_CACHE", cached ? "0" : "1", 1);
    struct cu_dataset_opts o = {.size = 16, .need_masks = 1};
    struct cu_dataset *ds = NULL;
    struct cu_image u = {0};
    struct cu_err e = {0};
    enum cu_status st = cu_dataset_scan(data, &o, &ds, &e);
    if (!st)
        st = cu_dataset_union(ds, i, &u, &e);
    cu_dataset_free(ds);
    if (st) {
        fprintf(stderr, "union: %s\n", e.msg);
        return NULL;
    }
    return u.px;
}

/* 1 when sample i's union from the cache equals the direct read. */
static int same_as_direct(int i)
{
    float *a = union_of(i, 1), *b = union_of(i, 0);
    int same = a && b && !memcmp(a, b, sizeof *a * H * W);
    free(a), free(b);
    return same;
}

/* The path of the one entry file, for tampering. */
static void first_entry(char *out, size_t size)
{
    DIR *d = opendir(entries);
    out[0] = '\0';
    for (struct dirent *e; d && (e = readdir(d));)
        if (strstr(e->d_name, ".rle"))
            snprintf(out, size, "%s/%s", entries, e->d_name);
    if (d)
        closedir(d);
}

static void check_tampered_entry(void)
{
    char path[700];
    tu_rm_rf(entries);
    TU_CHECK(same_as_direct(0), "sample 0 before tampering");
    first_entry(path, sizeof path);
    struct stat st;
    TU_CHECK(path[0] && !stat(path, &st), "an entry for sample 0 exists");
    /* Move the last run (the last 5 pixels) one pixel left: still a
     * well-formed entry, so only the checksum can catch it. */
    FILE *f = fopen(path, "r+b");
    if (f) {
        fseek(f, -8, SEEK_END);
        int c = fgetc(f);
        fseek(f, -8, SEEK_END);
        fputc(c ^ 0x01, f);
        fclose(f);
    }
    TU_CHECK(same_as_direct(0), "a corrupt entry is not trusted");
    TU_CHECK(truncate(path, 20) == 0 && same_as_direct(0), "a truncated entry is not trusted");
    struct stat st2;
    TU_CHECK(!stat(path, &st2) && st2.st_size == st.st_size, "the entry was rewritten (%lld bytes, was %lld)",
             (long long)st2.st_size, (long long)st.st_size);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/clunet-maskcache-%ld", (long)getpid());
    snprintf(data, sizeof data, "%s/stage1_train", root);
    snprintf(cache, sizeof cache, "%s/cache", root);
    snprintf(entries, sizeof entries, "%s/clunet/masks", cache);
    mkdir(root, 0700);
    mkdir(data, 0700);
    setenv("XDG_CACHE_HOME", cache, 1);
    make_sample("a", (int[]){0, 1}, 2);
    make_sample("b", (int[]){2, 2}, 2);
    make_sample("c", (int[]){1}, 1);

    for (int i = 0; i < 3; i++)
        TU_CHECK(same_as_direct(i), "sample %d: first read through the cache", i);
    TU_CHECK(count_entries() == 3, "one entry per sample (%d)", count_entries());
    for (int i = 0; i < 3; i++)
        TU_CHECK(same_as_direct(i), "sample %d: read from the entry", i);
    TU_CHECK(count_entries() == 3, "no new entries on hits (%d)", count_entries());

    /* A hit does not read the masks: change a mask's pixels but keep its
     * size, inode and time; the cached union still shows the old ones. */
    char p[600];
    snprintf(p, sizeof p, "%s/c/masks/m0.png", data);
    struct stat st;
    stat(p, &st);
    float *before = union_of(2, 1);
    write_mask("c", "m0", 1); /* same bytes, written again: new mtime */
    struct timespec t[2] = {st.st_atim, st.st_mtim};
    utimensat(AT_FDCWD, p, t, 0);
    float *after = union_of(2, 1);
    TU_CHECK(before && after && !memcmp(before, after, sizeof *before * H * W), "unchanged mask: a hit");
    free(before), free(after);

    /* A changed, added or removed mask file misses. */
    write_mask("a", "m1", 2);
    TU_CHECK(same_as_direct(0), "a rewritten mask is read again");
    write_mask("b", "m2", 0);
    TU_CHECK(same_as_direct(1), "an added mask is read");
    snprintf(p, sizeof p, "%s/b/masks/m2.png", data);
    unlink(p);
    TU_CHECK(same_as_direct(1), "a removed mask is left out");

    check_tampered_entry();

    /* No usable cache folder: still right, and nothing written. */
    snprintf(p, sizeof p, "%s/not-a-folder", root);
    FILE *f = fopen(p, "w");
    if (f)
        fclose(f);
    setenv("XDG_CACHE_HOME", p, 1);
    TU_CHECK(same_as_direct(0), "an unusable cache folder only costs speed");

    tu_rm_rf(root);
    return tu_finish();
}
