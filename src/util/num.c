/* num.c: the number parsers of num.h. */
#include "clunet/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

int cu_parse_ll(const char *s, long long lo, long long hi, long long *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cu_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s)) /* strtoull would take "-1" as UINT64_MAX */
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int cu_parse_double(const char *s, double lo, double hi, int lo_open, int hi_open, double *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v))
        return -1;
    if (lo_open ? !(v > lo) : !(v >= lo))
        return -1;
    if (hi_open ? !(v < hi) : !(v <= hi))
        return -1;
    *out = v;
    return 0;
}
