/* test_util.c: the utility module (include/clunet/util.h) and atomic
 * writes (io/atomic_file.h): mkdir -p, reading a whole file, FNV-1a and
 * splitmix64 against their published reference values, the clocks, and
 * temp + rename writes that leave the old file whole and no temporary
 * behind on every failure. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clunet/util.h"
#include "io/atomic_file.h"
#include "testutil.h"
#include "train_fixture.h"

static char root[1024];

static void folders_and_files(void)
{
    char p[1200], q[1300];
    struct cu_err err = {0};
    snprintf(p, sizeof p, "%s/a/b/c", root);
    TU_CHECK(tu_ok(cu_mkdir_p(p, 0777, &err), &err, "mkdir -p a/b/c"), "made");
    struct stat sb;
    TU_CHECK(stat(p, &sb) == 0 && S_ISDIR(sb.st_mode), "a/b/c is a folder");
    TU_CHECK(cu_mkdir_p(p, 0777, &err) == CU_OK, "mkdir -p of an existing folder is fine");
    snprintf(q, sizeof q, "%s/a/file", root);
    FILE *f = fopen(q, "w");
    fputs("x", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/a/file/sub", root);
    TU_CHECK(cu_mkdir_p(p, 0777, &err) == CU_EIO && strstr(err.msg, "a/file/sub: cannot create folder"),
             "a file in the way: %s", err.msg);

    char *data = NULL;
    size_t len = 0;
    cu_err_clear(&err);
    TU_CHECK(cu_read_file(q, &data, &len, &err) == CU_OK && len == 1 && !strcmp(data, "x"), "read a 1-byte file");
    free(data);
    /* more than the first buffer (64 KiB), with a zero byte inside */
    static char big[200001];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7 % 251);
    TU_CHECK(tu_ok(cu_atomic_write(q, 0, big, sizeof big, &err), &err, "200001 bytes written"), "written");
    TU_CHECK(cu_read_file(q, &data, &len, &err) == CU_OK && len == sizeof big && !memcmp(data, big, len) &&
                 data[len] == 0,
             "read back 200001 bytes and a terminating 0 (%zu)", len);
    free(data);
    snprintf(p, sizeof p, "%s/nothere", root);
    TU_CHECK(cu_read_file(p, &data, &len, &err) == CU_EINPUT && strstr(err.msg, "nothere: No such file"),
             "a missing file: %s", err.msg);
}

/* Reference values: FNV-1a 64 from the FNV authors' test vectors;
 * splitmix64 from Vigna's splitmix64.c seeded with 0. */
static void hashing(void)
{
    TU_CHECK(cu_fnv1a(CU_FNV1A_INIT, "", 0) == 0xcbf29ce484222325ULL, "FNV-1a(\"\")");
    TU_CHECK(cu_fnv1a(CU_FNV1A_INIT, "a", 1) == 0xaf63dc4c8601ec8cULL, "FNV-1a(\"a\")");
    TU_CHECK(cu_fnv1a(CU_FNV1A_INIT, "foobar", 6) == 0x85944171f73967e8ULL, "FNV-1a(\"foobar\")");
    TU_CHECK(cu_fnv1a(cu_fnv1a(CU_FNV1A_INIT, "foo", 3), "bar", 3) == 0x85944171f73967e8ULL, "FNV-1a continues");
    uint64_t s = 0, want[3] = {0xe220a8397b1dcdafULL, 0x6e789e6aa1b965f4ULL, 0x06c45d188009454fULL};
    int ok = 1;
    for (int i = 0; i < 3; i++)
        ok &= cu_rand_next(&s) == want[i];
    TU_CHECK(ok, "splitmix64 from 0: the reference sequence");
}

static void clocks(void)
{
    double t0 = cu_now(), c0 = cu_cpu_now();
    volatile double x = 0;
    for (int i = 0; i < 20000000; i++)
        x += i * 1e-9;
    double t1 = cu_now(), c1 = cu_cpu_now();
    TU_CHECK(t1 > t0 && c1 > c0 && c1 - c0 < 60, "both clocks advance over a busy loop (wall %.3f s, cpu %.3f s)",
             t1 - t0, c1 - c0);
}

static int fill_fail(FILE *f, void *ctx)
{
    (void)ctx;
    fputs("half", f);
    errno = ENOSPC;
    return 1;
}

static void atomic_writes(void)
{
    char p[1200], *data = NULL;
    size_t len;
    struct cu_err err = {0};
    snprintf(p, sizeof p, "%s/out.txt", root);
    TU_CHECK(cu_atomic_write(p, 1, "old", 3, &err) == CU_OK, "durable write");
    TU_CHECK(cu_atomic_write_with(p, 0, fill_fail, NULL, &err) == CU_EIO &&
                 strstr(err.msg, "out.txt: write failed: No space left on device"),
             "a failed fill: %s", err.msg);
    TU_CHECK(cu_read_file(p, &data, &len, &err) == CU_OK && !strcmp(data, "old"), "the old file is whole");
    free(data);
    TU_CHECK(tu_count_names(root, "", ".tmp.") == 0, "no temporary file after a failed fill");
    cu_err_clear(&err);
    snprintf(p, sizeof p, "%s/a", root); /* a folder: rename over it fails */
    TU_CHECK(cu_atomic_write(p, 0, "x", 1, &err) == CU_EIO && strstr(err.msg, "/a: cannot rename into place"),
             "rename onto a folder: %s", err.msg);
    TU_CHECK(tu_count_names(root, "", ".tmp.") == 0, "no temporary file after a failed rename");
    cu_err_clear(&err);
    snprintf(p, sizeof p, "%s/nofolder/x", root);
    TU_CHECK(cu_atomic_write(p, 0, "x", 1, &err) == CU_EIO && strstr(err.msg, "nofolder/x: cannot create"),
             "a missing folder: %s", err.msg);
    struct cu_atomic a;
    snprintf(p, sizeof p, "%s/kept.txt", root);
    TU_CHECK(cu_atomic_begin(&a, p, &err) == CU_OK, "begin");
    fputs("never", a.f);
    cu_atomic_abort(&a);
    struct stat sb;
    TU_CHECK(stat(p, &sb) != 0 && tu_count_names(root, "", ".tmp.") == 0, "abort: neither the file nor a temporary");
}

int main(void)
{
    char *dir = tf_tmpdir("util");
    snprintf(root, sizeof root, "%s", dir);
    folders_and_files();
    hashing();
    clocks();
    atomic_writes();
    tf_rmtree(dir);
    free(dir);
    return tu_finish();
}
