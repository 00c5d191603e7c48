/* atomic_file.c: temporary file + (fsync) + rename, see atomic_file.h. */
#include "io/atomic_file.h"
#include "io/tmp_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Makes temporary names unique between the threads of one process (the
 * data loader writes mask-cache entries from two). */
static atomic_ulong serial;

enum cu_status cu_atomic_begin(struct cu_atomic *a, const char *path, struct cu_err *err)
{
    size_t len = strlen(path) + 64;
    a->path = path;
    a->f = NULL;
    a->durable = 0;
    a->tmp = malloc(len);
    if (!a->tmp)
        return cu_fail(err, CU_EDEVICE, "%s: out of host memory", path);
    int fd = -1, e = 0;
    for (int tries = 0; fd < 0 && tries < 100; tries++) {
        snprintf(a->tmp, len, "%s.tmp.%ld.%lu", path, (long)getpid(), (unsigned long)atomic_fetch_add(&serial, 1));
        fd = cu_tmp_files_open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666); /* a signal removes it */
        e = errno;
        if (fd < 0 && e != EEXIST) /* EEXIST: a leftover of a killed process that had our pid */
            break;
    }
    if (fd >= 0 && !(a->f = fdopen(fd, "wb"))) {
        e = errno;
        close(fd);
        unlink(a->tmp);
        cu_tmp_files_drop(a->tmp);
    }
    if (!a->f) {
        free(a->tmp);
        a->tmp = NULL;
        return cu_fail(err, CU_EIO, "%s: cannot create: %s", path, strerror(e ? e : EIO));
    }
    return CU_OK;
}

enum cu_status cu_atomic_commit(struct cu_atomic *a, struct cu_err *err)
{
    errno = 0;
    int bad = ferror(a->f) || fflush(a->f) != 0 || (a->durable && fsync(fileno(a->f)) != 0);
    int e = errno;
    if (fclose(a->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    a->f = NULL;
    enum cu_status st = CU_OK;
    if (bad)
        st = cu_fail(err, CU_EIO, "%s: write failed: %s", a->path, strerror(e ? e : EIO));
    else if (rename(a->tmp, a->path) != 0)
        st = cu_fail(err, CU_EIO, "%s: cannot rename into place: %s", a->path, strerror(errno));
    if (st)
        remove(a->tmp);
    cu_tmp_files_drop(a->tmp);
    free(a->tmp);
    a->tmp = NULL;
    return st;
}

void cu_atomic_abort(struct cu_atomic *a)
{
    if (a->f)
        fclose(a->f);
    if (a->tmp)
        remove(a->tmp), cu_tmp_files_drop(a->tmp);
    free(a->tmp);
    a->f = NULL;
    a->tmp = NULL;
}

enum cu_status cu_atomic_write_with(const char *path, int durable, int (*fill)(FILE *f, void *ctx), void *ctx,
                                    struct cu_err *err)
{
    struct cu_atomic a;
    enum cu_status st = cu_atomic_begin(&a, path, err);
    if (st)
        return st;
    a.durable = durable;
    errno = 0;
    if (fill(a.f, ctx) != 0 || ferror(a.f)) {
        int e = errno;
        cu_atomic_abort(&a);
        return cu_fail(err, CU_EIO, "%s: write failed: %s", path, strerror(e ? e : EIO));
    }
    return cu_atomic_commit(&a, err);
}

struct bytes {
    const void *data;
    size_t len;
};

static int put_bytes(FILE *f, void *ctx)
{
    const struct bytes *b = ctx;
    return b->len && fwrite(b->data, 1, b->len, f) != b->len;
}

enum cu_status cu_atomic_write(const char *path, int durable, const void *data, size_t len, struct cu_err *err)
{
    struct bytes b = {data, len};
    return cu_atomic_write_with(path, durable, put_bytes, &b, err);
}
