/* atomic_file.c: temporary file + rename (see atomic_file.h). */
#include "io/atomic_file.h"
#include "io/tmp_files.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum cu_status cu_atomic_begin(struct cu_atomic *a, const char *path, struct cu_err *err)
{
    size_t len = strlen(path) + 32;
    a->path = path;
    a->f = NULL;
    a->tmp = malloc(len);
    if (!a->tmp)
        return cu_fail(err, CU_EIO, "%s: out of host memory", path);
    snprintf(a->tmp, len, "%s.tmp.%ld", path, (long)getpid());
    a->f = cu_tmp_files_fopen(a->tmp);
    if (!a->f) {
        int e = errno;
        free(a->tmp);
        a->tmp = NULL;
        return cu_fail(err, CU_EIO, "%s: cannot create: %s", path, strerror(e));
    }
    return CU_OK;
}

enum cu_status cu_atomic_commit(struct cu_atomic *a, struct cu_err *err)
{
    errno = 0;
    int bad = ferror(a->f) || fflush(a->f) != 0;
    int e = errno;
    if (fclose(a->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    a->f = NULL;
    if (!bad && rename(a->tmp, a->path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad)
        remove(a->tmp);
    cu_tmp_files_drop(a->tmp);
    free(a->tmp);
    a->tmp = NULL;
    if (bad)
        return cu_fail(err, CU_EIO, "%s: cannot write: %s", a->path, strerror(e ? e : EIO));
    return CU_OK;
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
