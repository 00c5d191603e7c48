/* cache_dir.c: see cache_dir.h. */
#include "io/cache_dir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clunet/util.h"

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
    struct cu_err e = {0};
    if (w == -2)
        rc = snprintf(why, why_size, "neither XDG_CACHE_HOME nor HOME is set");
    else if (w < 0 || (size_t)w + reserve >= size)
        rc = snprintf(why, why_size, "cache folder path too long");
    else if (cu_mkdir_p(out, 0700, &e)) /* the cache is per user */
        rc = snprintf(why, why_size, "%s", e.msg);
    else
        return 0;
    if (rc < 0) /* using the result says a cut reason is fine */
        why[0] = '\0';
    out[0] = '\0';
    return -1;
}
