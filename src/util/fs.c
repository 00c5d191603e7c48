/* fs.c: folders and whole files (util.h). */
#include "clunet/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum cu_status cu_mkdir_p(const char *dir, unsigned mode, struct cu_err *err)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s", dir);
    if (n <= 0 || (size_t)n >= sizeof tmp)
        return cu_fail(err, CU_EUSAGE, "%s: path too long", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
            return cu_fail(err, CU_EIO, "%s: cannot create folder: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
        return cu_fail(err, CU_EIO, "%s: cannot create folder: %s", tmp, strerror(errno));
    return CU_OK;
}

enum cu_status cu_read_file(const char *path, char **data, size_t *len, struct cu_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cu_fail(err, CU_EINPUT, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - 1 - n, f);
        if (n < cap - 1 || ferror(f))
            break;
        char *b = realloc(buf, 2 * cap);
        if (!b) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = b;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf)
        return cu_fail(err, CU_EDEVICE, "%s: out of host memory reading it", path);
    if (bad) {
        free(buf);
        return cu_fail(err, CU_EINPUT, "%s: read error", path);
    }
    buf[n] = '\0';
    *data = buf;
    if (len)
        *len = n;
    return CU_OK;
}
