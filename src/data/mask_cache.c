/* mask_cache.c: the union mask of a DSB2018 sample (one PNG per nucleus:
 * 21,703 files for the 503 dev images, and inflating them is two thirds of
 * loading the dev split) kept decoded in the user's cache, so that the next
 * `train`, `eval` or `bench --data` on the same folder reads one small file
 * per image instead.
 *
 * Entry: <cache>/masks/<key>.rle (cache_dir.h), key = 64-bit FNV-1a of the
 * format version, the image size, the masks folder's real path and, for
 * every mask file in sorted order, its name, size, inode and modification
 * time (ns): any added, removed, replaced or rewritten mask file makes a new
 * key. The file is
 *     struct entry_header (magic, key, h, w, number of runs, checksum)
 *     runs: (start, length) pairs of uint32, row-major, increasing
 * and is trusted only when every field matches, its length is exact, the
 * checksum agrees and the runs are in bounds and increasing; otherwise the
 * masks are read and the entry rewritten (temporary name + rename, so a
 * reader never sees half a file). The cache is best effort: a folder it
 * cannot create or write costs only the speed. CLUNET_NO_MASK_CACHE=1 turns
 * it off. Only samples that read without error are ever stored.
 *
 * Leaves out: reading one mask (png_io.c), listing the folder (dataset_scan.c). */
/* realpath (POSIX.1-2008 XSI) */
#define _XOPEN_SOURCE 700
#include "data/mask_cache.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clunet/image.h"
#include "clunet/util.h"
#include "io/atomic_file.h"
#include "io/cache_dir.h"

#define ENTRY_VERSION 1

struct entry_header { /* 8-byte fields only: no padding */
    char magic[8];
    uint64_t key;
    uint64_t h, w;
    uint64_t n_runs;
    uint64_t checksum; /* FNV-1a of the runs */
};

static const char entry_magic[8] = "CUMASKR1";

/* 0 and the key, or -1 when a file cannot be stat'ed (then no caching:
 * reading the masks reports what is wrong). */
static int entry_key(const char *dir, char **names, int n, int h, int w, uint64_t *key)
{
    char real[PATH_MAX], path[PATH_MAX];
    if (!realpath(dir, real))
        return -1;
    uint64_t k = CU_FNV1A_INIT, v[4] = {ENTRY_VERSION, (uint64_t)h, (uint64_t)w, (uint64_t)n};
    k = cu_fnv1a(k, v, sizeof v);
    k = cu_fnv1a(k, real, strlen(real) + 1);
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", real, names[i]) >= (int)sizeof path || stat(path, &st))
            return -1;
        uint64_t f[4] = {(uint64_t)st.st_size, (uint64_t)st.st_ino, (uint64_t)st.st_mtim.tv_sec,
                         (uint64_t)st.st_mtim.tv_nsec};
        k = cu_fnv1a(k, names[i], strlen(names[i]) + 1);
        k = cu_fnv1a(k, f, sizeof f);
    }
    *key = k;
    return 0;
}

/* 1 when path holds a valid entry for (key, h, w); u then holds it. */
static int entry_read(const char *path, uint64_t key, int h, int w, float *u)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    struct entry_header hd;
    uint32_t *runs = NULL;
    size_t total = (size_t)h * (size_t)w;
    int ok = fread(&hd, sizeof hd, 1, f) == 1 && !memcmp(hd.magic, entry_magic, 8) && hd.key == key &&
             hd.h == (uint64_t)h && hd.w == (uint64_t)w && hd.n_runs <= total / 2 + 1;
    if (ok) {
        runs = malloc(sizeof *runs * 2 * (size_t)hd.n_runs + 1);
        ok = runs && fread(runs, sizeof *runs * 2, (size_t)hd.n_runs, f) == hd.n_runs && fgetc(f) == EOF &&
             cu_fnv1a(CU_FNV1A_INIT, runs, sizeof *runs * 2 * (size_t)hd.n_runs) == hd.checksum;
    }
    fclose(f);
    uint64_t end = 0; /* runs must be increasing, apart and inside the image */
    for (uint64_t r = 0; ok && r < hd.n_runs; r++) {
        uint64_t s = runs[2 * r], len = runs[2 * r + 1];
        ok = len > 0 && s >= end && (r == 0 || s > end) && s + len <= total;
        end = s + len;
    }
    if (ok) {
        memset(u, 0, sizeof *u * total);
        for (uint64_t r = 0; r < hd.n_runs; r++)
            for (uint32_t i = 0; i < runs[2 * r + 1]; i++)
                u[runs[2 * r] + i] = 1.0f;
    }
    free(runs);
    return ok;
}

struct entry {
    const struct entry_header *hd;
    const uint32_t *runs;
    size_t n;
};

static int put_entry(FILE *f, void *ctx)
{
    const struct entry *e = ctx;
    return fwrite(e->hd, sizeof *e->hd, 1, f) != 1 || fwrite(e->runs, sizeof *e->runs, e->n, f) != e->n;
}

/* Stores u (0/1) as an entry; any failure just leaves no entry. */
static void entry_write(const char *path, uint64_t key, int h, int w, const float *u)
{
    size_t total = (size_t)h * (size_t)w, n = 0;
    if (total > UINT32_MAX)
        return;
    uint32_t *runs = malloc(sizeof *runs * (total + 2));
    if (!runs)
        return;
    for (size_t i = 0; i < total;) {
        if (u[i] == 0.0f) {
            i++;
            continue;
        }
        size_t s = i;
        while (i < total && u[i] != 0.0f)
            i++;
        runs[n++] = (uint32_t)s, runs[n++] = (uint32_t)(i - s);
    }
    struct entry_header hd = {.key = key, .h = (uint64_t)h, .w = (uint64_t)w, .n_runs = n / 2};
    memcpy(hd.magic, entry_magic, 8);
    hd.checksum = cu_fnv1a(CU_FNV1A_INIT, runs, sizeof *runs * n);
    struct entry e = {&hd, runs, n};
    struct cu_err ignored = {0};
    cu_atomic_write_with(path, 0, put_entry, &e, &ignored); /* a cache: not durable */
    free(runs);
}

static enum cu_status read_masks(const char *dir, char **names, int n, int h, int w, float *u, struct cu_err *err)
{
    memset(u, 0, sizeof *u * (size_t)h * (size_t)w);
    enum cu_status st = CU_OK;
    for (int k = 0; k < n && !st; k++) {
        char *p = cu_path_join(dir, names[k]);
        st = p ? cu_image_or_mask(p, h, w, u, err) : cu_fail(err, CU_EDEVICE, "%s: out of memory", dir);
        free(p);
    }
    return st;
}

enum cu_status cu_mask_cache_union(const char *dir, char **names, int n, int h, int w, float *u, struct cu_err *err)
{
    const char *off = getenv("CLUNET_NO_MASK_CACHE");
    char cdir[PATH_MAX], why[160], path[PATH_MAX + 32];
    uint64_t key;
    if ((off && *off && strcmp(off, "0")) || entry_key(dir, names, n, h, w, &key) ||
        cu_cache_dir("masks", cdir, sizeof cdir, 32, why, sizeof why))
        return read_masks(dir, names, n, h, w, u, err);
    snprintf(path, sizeof path, "%s/%016llx.rle", cdir, (unsigned long long)key);
    if (entry_read(path, key, h, w, u))
        return CU_OK;
    enum cu_status st = read_masks(dir, names, n, h, w, u, err);
    if (!st)
        entry_write(path, key, h, w, u);
    return st;
}
