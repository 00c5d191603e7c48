/* cache_dir.c: see cache_dir.h. */
#include "io/cache_dir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* mkdir -p, mode 0700 (the cache is per user). */
static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0700) && errno != EEXIST ? -1 : 0;
}

int cu_cache_dir(const char *sub, char *out, size_t size, size_t reserve, char *why, size_t why_size)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    const char *slash = sub ? "/" : "", *s = sub ? sub : "";
    int w;
    if (xdg && xdg[0] == '/')
        w = snprintf(out, size, "%s/clunet%s%s", xdg, slash, s);
    else if (home && *home)
        w = snprintf(out, size, "%s/.cache/clunet%s%s", home, slash, s);
    else
        w = -2;
    int rc = -1;
    if (w == -2)
        rc = snprintf(why, why_size, "neither XDG_CACHE_HOME nor HOME is set");
    else if (w < 0 || (size_t)w + reserve >= size)
        rc = snprintf(why, why_size, "cache folder path too long");
    else if (make_dirs(out))
        rc = snprintf(why, why_size, "cannot create %s: %s", out, strerror(errno));
    else
        return 0;
    if (rc < 0) /* using the result says a cut reason is fine */
        why[0] = '\0';
    out[0] = '\0';
    return -1;
}
