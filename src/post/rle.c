/* rle.c: Kaggle run-length encoding and the submission CSV (see
 * include/clunet/rle.h for the format and what is rejected). Encoding walks
 * the label image once in column-major order and keeps one open run per
 * label; decoding validates every number before writing a pixel. Leaves out
 * quoting in CSV: ids that would need it are refused instead. */
#include "clunet/rle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a growable string ---- */

struct sbuf {
    char *p;
    size_t n, cap;
    int failed; /* out of memory at some append */
};

static void sb_add(struct sbuf *b, const char *fmt, ...) CU_PRINTF(2, 3);
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->failed = 1;
            return;
        }
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap ? b->cap : 64;
        while (cap <= b->n + (size_t)k)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

/* ---- encoding ---- */

/* Runs of one label, as (start, length) with 1-based starts. */
struct runs {
    int64_t *v; /* 2 * n values */
    size_t n, cap;
};

static int runs_add(struct runs *r, int64_t pos)
{
    if (r->n && r->v[2 * r->n - 2] + r->v[2 * r->n - 1] == pos) {
        r->v[2 * r->n - 1]++;
        return 0;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 4;
        int64_t *v = realloc(r->v, 2 * cap * sizeof *v);
        if (!v)
            return -1;
        r->v = v;
        r->cap = cap;
    }
    r->v[2 * r->n] = pos;
    r->v[2 * r->n + 1] = 1;
    r->n++;
    return 0;
}

static char *runs_format(const struct runs *r)
{
    struct sbuf b = {0};
    sb_add(&b, "%s", "");
    for (size_t i = 0; i < r->n; i++)
        sb_add(&b, i ? " %lld %lld" : "%lld %lld", (long long)r->v[2 * i], (long long)r->v[2 * i + 1]);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

static enum cu_status check_image(const int32_t *labels, int h, int w, int32_t *max_out, struct cu_err *err)
{
    if (h <= 0 || w <= 0 || (long long)h * w > INT32_MAX)
        return cu_fail(err, CU_EUSAGE, "run-length encoding: bad image size %dx%d", w, h);
    size_t n = (size_t)h * (size_t)w;
    int64_t limit = n > 65535 ? (int64_t)n : 65535;
    int32_t max = 0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] > limit)
            return cu_fail(err, CU_EUSAGE, "run-length encoding: label %ld outside 0..%lld", (long)labels[i],
                           (long long)limit);
        if (labels[i] > max)
            max = labels[i];
    }
    *max_out = max;
    return CU_OK;
}

enum cu_status cu_rle_encode(char **out, const int32_t *labels, int h, int w, int32_t label, struct cu_err *err)
{
    int32_t max = 0; /* set by check_image; -O3 cannot see that */
    enum cu_status st = check_image(labels, h, w, &max, err);
    if (st)
        return st;
    struct runs r = {0};
    int64_t pos = 1;
    for (int x = 0; x < w; x++)
        for (int y = 0; y < h; y++, pos++)
            if (labels[(size_t)y * w + x] == label && runs_add(&r, pos)) {
                free(r.v);
                return cu_fail(err, CU_EDEVICE, "run-length encoding: out of host memory");
            }
    char *s = runs_format(&r);
    free(r.v);
    if (!s)
        return cu_fail(err, CU_EDEVICE, "run-length encoding: out of host memory");
    *out = s;
    return CU_OK;
}

void cu_rle_free_all(char **strs, int32_t n)
{
    if (!strs)
        return;
    for (int32_t i = 0; i < n; i++)
        free(strs[i]);
    free(strs);
}

enum cu_status cu_rle_encode_all(char ***out, int32_t *n_out, const int32_t *labels, int h, int w,
                                 struct cu_err *err)
{
    int32_t max = 0; /* set by check_image; -O3 cannot see that */
    enum cu_status st = check_image(labels, h, w, &max, err);
    if (st)
        return st;
    struct runs *r = calloc((size_t)max + 1, sizeof *r);
    char **strs = calloc((size_t)max + 1, sizeof *strs);
    int fail = !r || !strs;
    int64_t pos = 1;
    for (int x = 0; x < w && !fail; x++)
        for (int y = 0; y < h && !fail; y++, pos++) {
            int32_t l = labels[(size_t)y * w + x];
            if (l && runs_add(&r[l], pos))
                fail = 1;
        }
    for (int32_t l = 1; l <= max && !fail; l++)
        if (r[l].n && !(strs[l] = runs_format(&r[l])))
            fail = 1;
    for (int32_t l = 0; r && l <= max; l++)
        free(r[l].v);
    free(r);
    if (fail) {
        cu_rle_free_all(strs, strs ? max + 1 : 0);
        return cu_fail(err, CU_EDEVICE, "run-length encoding: out of host memory");
    }
    *out = strs;
    *n_out = max + 1;
    return CU_OK;
}

/* ---- decoding ---- */

/* Reads one positive decimal number at *s (after optional spaces) into *v;
 * *got = 0 at the end of the string. */
static enum cu_status read_number(const char **s, int64_t *v, int *got, const char *where, struct cu_err *err)
{
    const char *p = *s;
    while (*p == ' ')
        p++;
    *got = 0;
    if (!*p) {
        *s = p;
        return CU_OK;
    }
    if (*p < '0' || *p > '9')
        return cu_fail(err, CU_EINPUT, "%s: EncodedPixels: unexpected character '%c' (0x%02x), expected a number",
                       where, *p >= 0x20 && *p < 0x7f ? *p : '?', (unsigned char)*p);
    int64_t x = 0;
    while (*p >= '0' && *p <= '9') {
        if (x > ((int64_t)1 << 40))
            return cu_fail(err, CU_EINPUT, "%s: EncodedPixels: number too large", where);
        x = 10 * x + (*p++ - '0');
    }
    if (*p && *p != ' ')
        return cu_fail(err, CU_EINPUT, "%s: EncodedPixels: unexpected character '%c' (0x%02x) after a number",
                       where, *p >= 0x20 && *p < 0x7f ? *p : '?', (unsigned char)*p);
    if (x == 0)
        return cu_fail(err, CU_EINPUT, "%s: EncodedPixels: 0 is not a valid start or length (1-based)", where);
    *v = x;
    *got = 1;
    *s = p;
    return CU_OK;
}

/* Next (start, length) of s; *got = 0 at the end. prev_end: last pixel of
 * the previous run (0 before the first), checked and updated. */
static enum cu_status next_run(const char **s, int64_t *start, int64_t *len, int *got, int64_t *prev_end,
                               const char *where, struct cu_err *err)
{
    enum cu_status st = read_number(s, start, got, where, err);
    if (st || !*got)
        return st;
    st = read_number(s, len, got, where, err);
    if (st)
        return st;
    if (!*got)
        return cu_fail(err, CU_EINPUT, "%s: EncodedPixels: odd count of numbers (start %lld has no length)",
                       where, (long long)*start);
    if (*start <= *prev_end)
        return cu_fail(err, CU_EINPUT,
                       "%s: EncodedPixels: run at %lld starts before the previous run ends (%lld): "
                       "runs must be sorted and not overlap",
                       where, (long long)*start, (long long)*prev_end);
    *prev_end = *start + *len - 1;
    return CU_OK;
}

enum cu_status cu_rle_check(const char *rle, const char *where, struct cu_err *err)
{
    int64_t start, len, prev_end = 0;
    int got = 1;
    while (got) {
        enum cu_status st = next_run(&rle, &start, &len, &got, &prev_end, where, err);
        if (st)
            return st;
    }
    return CU_OK;
}

enum cu_status cu_rle_decode(int32_t *labels, int h, int w, int32_t label, const char *rle, const char *where,
                             struct cu_err *err)
{
    if (h <= 0 || w <= 0 || (long long)h * w > INT32_MAX)
        return cu_fail(err, CU_EUSAGE, "%s: bad image size %dx%d", where, w, h);
    int64_t npix = (int64_t)h * w, start, len, prev_end = 0;
    int got = 1;
    for (;;) {
        enum cu_status st = next_run(&rle, &start, &len, &got, &prev_end, where, err);
        if (st)
            return st;
        if (!got)
            return CU_OK;
        if (prev_end > npix)
            return cu_fail(err, CU_EINPUT, "%s: EncodedPixels: run %lld %lld ends at pixel %lld, past the %dx%d image",
                           where, (long long)start, (long long)len, (long long)prev_end, w, h);
        for (int64_t k = start - 1; k < prev_end; k++) {
            size_t i = (size_t)(k % h) * (size_t)w + (size_t)(k / h);
            if (labels[i])
                return cu_fail(err, CU_EINPUT,
                               "%s: EncodedPixels: pixel %lld (y %lld, x %lld) already belongs to another "
                               "nucleus",
                               where, (long long)k + 1, (long long)(k % h), (long long)(k / h));
            labels[i] = label;
        }
    }
}
