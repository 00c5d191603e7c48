/* test_cl_cache.c: the on-disk cache of program binaries, with
 * XDG_CACHE_HOME set to a fresh temp folder: the first open misses and
 * writes one entry per kernel file, the second hits; an entry overwritten
 * with garbage, one truncated, one with a flipped byte in the binary, and
 * one whose checksum is right but whose binary the driver cannot use are
 * each detected, rebuilt, overwritten, and the backend works;
 * CLUNET_NO_KERNEL_CACHE=1 and `clunet --no-kernel-cache` (argv[1] is the
 * binary) write nothing. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl/cl_internal.h"
#include "clunet/ops.h"
#include "testutil.h"

static char root[64], cache[128];

/* Entries (*.bin) and leftovers (*.tmp.*) in the clunet cache folder. */
static int count_files(const char *suffix, char *first, size_t size)
{
    DIR *d = opendir(cache);
    if (!d)
        return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strstr(e->d_name, suffix))
            continue;
        if (n++ == 0 && first)
            snprintf(first, size, "%s/%s", cache, e->d_name);
    }
    closedir(d);
    return n;
}

struct opened {
    int ok, hits, misses, rejected, relu_ok, programs;
};

static int ns; /* kernel files (programs), from the first open */

/* Opens the cpu device, records its cache counters, and proves the built
 * kernels run (a ReLU over 7 values, exact). */
static struct opened open_once(void)
{
    struct opened o = {0};
    struct cu_err err = {0};
    struct cu_backend *be = NULL;
    if (!tu_ok(cu_backend_open("cpu", &be, &err), &err, "open cpu device"))
        return o;
    struct cu_cl_backend *cb = cu_cl(be);
    o.ok = 1;
    o.hits = cb->cache_hits, o.misses = cb->cache_misses, o.rejected = cb->cache_rejected;
    o.programs = cb->nprograms;
    const float x[7] = {-3, -1, 0, 0.5f, 2, -0.25f, 7};
    struct cu_tensor *tx = tu_tensor(be, (struct cu_shape){1, 1, 1, 7}, "x", x);
    struct cu_tensor *ty = tu_tensor(be, (struct cu_shape){1, 1, 1, 7}, "y", NULL);
    if (!cu_relu_forward(be, ty, tx, &err)) {
        float *y = tu_download(ty);
        o.relu_ok = 1;
        for (int i = 0; i < 7; i++)
            o.relu_ok &= y[i] == (x[i] > 0 ? x[i] : 0.0f);
        free(y);
    }
    cu_tensor_free(tx);
    cu_tensor_free(ty);
    cu_backend_free(be);
    return o;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) ? -1 : (long)st.st_size;
}

/* FNV-1a 64, as cl_program.c checksums binaries (the header layout is
 * magic[8], then version, key, length, checksum as uint64). */
static uint64_t fnv(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static unsigned char *read_all(const char *path, long *len);

/* A whole entry: magic, length field = file size - header, checksum. */
static int entry_valid(const char *path)
{
    long len = 0;
    unsigned char *b = read_all(path, &len);
    uint64_t length = 0, sum = 0;
    int ok = b && len > 40 && !memcmp(b, "CLUNETKB", 8);
    if (ok) {
        memcpy(&length, b + 24, 8);
        memcpy(&sum, b + 32, 8);
        ok = length == (uint64_t)(len - 40) && fnv(b + 40, (size_t)length) == sum;
    }
    free(b);
    return ok;
}

/* After damaging `entry`: the next open rebuilds exactly that program,
 * rewrites it whole, works, and the open after that hits everything. */
static void check_recovers(const char *what, const char *entry)
{
    struct opened o = open_once();
    TU_CHECK(o.ok && o.relu_ok, "%s: the backend opens and runs", what);
    TU_CHECK(o.rejected == 1 && o.misses == 1 && o.hits == ns - 1, "%s: detected (rejected %d, misses %d, hits %d)",
             what, o.rejected, o.misses, o.hits);
    TU_CHECK(entry_valid(entry), "%s: entry overwritten with a valid one (%ld bytes)", what, file_size(entry));
    TU_CHECK(count_files(".tmp.", NULL, 0) == 0, "%s: no temp file left", what);
    o = open_once();
    TU_CHECK(o.ok && o.hits == ns && o.misses == 0, "%s: next open hits all %d", what, ns);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
}

static unsigned char *read_all(const char *path, long *len)
{
    *len = file_size(path);
    unsigned char *buf = *len > 0 ? malloc((size_t)*len) : NULL;
    FILE *f = fopen(path, "rb");
    if (!buf || !f || fread(buf, 1, (size_t)*len, f) != (size_t)*len) {
        free(buf);
        buf = NULL;
    }
    if (f)
        fclose(f);
    return buf;
}

static void check_corruption(void)
{
    char entry[512];
    count_files(".bin", entry, sizeof entry);
    long size = file_size(entry);
    unsigned char *good = NULL;
    long len = 0;
    if (size <= 0) {
        TU_CHECK(0, "a cache entry to corrupt (%ld bytes)", size);
        return;
    }

    unsigned char *garbage = malloc((size_t)size);
    for (long i = 0; i < size; i++)
        garbage[i] = (unsigned char)(i * 131 + 7);
    write_bytes(entry, garbage, (size_t)size);
    free(garbage);
    check_recovers("garbage of the same size", entry);

    good = read_all(entry, &len);
    write_bytes(entry, good, (size_t)len / 2);
    check_recovers("truncated to half", entry);

    good[40 + (len - 40) / 2] ^= 0x40; /* one bit inside the binary */
    write_bytes(entry, good, (size_t)len);
    check_recovers("one flipped bit in the binary", entry);

    /* A header that checks out around bytes the driver cannot load. */
    good[40 + (len - 40) / 2] ^= 0x40;
    for (long i = 40; i < len; i++)
        good[i] = (unsigned char)(i * 17);
    uint64_t sum = fnv(good + 40, (size_t)(len - 40));
    memcpy(good + 32, &sum, 8);
    write_bytes(entry, good, (size_t)len);
    check_recovers("valid checksum, binary the driver rejects", entry);
    free(good);
}

static void check_disabled(const char *exe)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache);
    TU_CHECK(system(cmd) == 0, "cache folder removed");
    setenv("CLUNET_NO_KERNEL_CACHE", "1", 1);
    struct opened o = open_once();
    TU_CHECK(o.ok && o.relu_ok && o.hits == 0, "CLUNET_NO_KERNEL_CACHE=1: builds from source and runs");
    TU_CHECK(access(cache, F_OK) != 0, "CLUNET_NO_KERNEL_CACHE=1: no cache folder created");
    unsetenv("CLUNET_NO_KERNEL_CACHE");
    snprintf(cmd, sizeof cmd, "'%s' --no-kernel-cache --device cpu devices --open >/dev/null", exe);
    TU_CHECK(system(cmd) == 0, "clunet --no-kernel-cache devices --open succeeds");
    TU_CHECK(access(cache, F_OK) != 0, "--no-kernel-cache: no cache folder created");
    snprintf(cmd, sizeof cmd, "'%s' --device cpu devices --open >/dev/null", exe);
    TU_CHECK(system(cmd) == 0 && count_files(".bin", NULL, 0) == ns,
             "without the flag the binary writes the cache (%d entries)", count_files(".bin", NULL, 0));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_cl_cache PATH/TO/clunet\n");
        return 1;
    }
    snprintf(root, sizeof root, "/tmp/clunet-cache-XXXXXX");
    if (!mkdtemp(root))
        return tu_check(0, "mkdtemp"), tu_finish();
    snprintf(cache, sizeof cache, "%s/clunet", root);
    setenv("XDG_CACHE_HOME", root, 1);
    unsetenv("CLUNET_NO_KERNEL_CACHE");
    unsetenv("CLUNET_CL_DIR");

    struct opened o = open_once();
    ns = o.programs;
    TU_CHECK(ns >= 1, "%d kernel files built", ns);
    TU_CHECK(o.ok && o.relu_ok, "first open works");
    TU_CHECK(o.misses == ns && o.hits == 0 && o.rejected == 0, "first open: %d misses (%d), 0 hits (%d)", ns,
             o.misses, o.hits);
    TU_CHECK(count_files(".bin", NULL, 0) == ns, "one entry per kernel file (%d)", count_files(".bin", NULL, 0));
    TU_CHECK(count_files(".tmp.", NULL, 0) == 0, "no temp file left");
    char first[512] = "";
    count_files(".bin", first, sizeof first);
    TU_CHECK(entry_valid(first), "entry %s: magic, length and checksum agree", first);
    o = open_once();
    TU_CHECK(o.ok && o.relu_ok, "second open works");
    TU_CHECK(o.hits == ns && o.misses == 0, "second open: %d hits (%d), 0 misses (%d)", ns, o.hits, o.misses);

    check_corruption();
    check_disabled(argv[1]);

    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return tu_finish();
}
