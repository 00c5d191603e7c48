/* submission.c: the DSB2018 submission CSV (struct cu_sub, declared in
 * include/clunet/rle.h with the format): rows built from label images,
 * written atomically, read back with every line checked, decoded per image.
 * Leaves out the encoding itself (rle.c) and CSV quoting (ids that would
 * need quotes are refused). */
#include "clunet/rle.h"

#include "clunet/util.h"
#include "io/atomic_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER "ImageId,EncodedPixels"

struct row {
    char *id, *pixels;
    long line; /* in the file it was read from; 0 when built in memory */
};

struct cu_sub {
    struct row *rows;
    size_t n, cap;
    char *path; /* file it was read from, or NULL */
};

enum cu_status cu_sub_new(struct cu_sub **out, struct cu_err *err)
{
    struct cu_sub *s = calloc(1, sizeof *s);
    if (!s)
        return cu_fail(err, CU_EDEVICE, "submission: out of host memory");
    *out = s;
    return CU_OK;
}

void cu_sub_free(struct cu_sub *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->rows[i].id);
        free(s->rows[i].pixels);
    }
    free(s->rows);
    free(s->path);
    free(s);
}

size_t cu_sub_rows(const struct cu_sub *s)
{
    return s->n;
}

const char *cu_sub_image(const struct cu_sub *s, size_t i)
{
    return s->rows[i].id;
}

const char *cu_sub_pixels(const struct cu_sub *s, size_t i)
{
    return s->rows[i].pixels;
}

static char *dup_str(const char *a, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, a, n);
        p[n] = '\0';
    }
    return p;
}

/* Appends a row taking ownership of pixels (freed on failure). */
static int add_row(struct cu_sub *s, const char *id, size_t id_len, char *pixels, long line)
{
    char *idc = dup_str(id, id_len);
    if (idc && s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        struct row *r = realloc(s->rows, cap * sizeof *r);
        if (r) {
            s->rows = r;
            s->cap = cap;
        }
    }
    if (!idc || s->n == s->cap) {
        free(idc);
        free(pixels);
        return -1;
    }
    s->rows[s->n++] = (struct row){idc, pixels, line};
    return 0;
}

/* NULL when id is a valid image id, else what is wrong with it. */
static const char *bad_id(const char *id, size_t n)
{
    if (n == 0)
        return "empty image id";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c <= 0x20 || c == 0x7f || c == ',' || c == '"')
            return "image id holds a comma, quote, space or control character";
    }
    return NULL;
}

const char *cu_sub_id_problem(const char *image_id) { return bad_id(image_id, strlen(image_id)); }

enum cu_status cu_sub_add(struct cu_sub *s, const char *image_id, const int32_t *labels, int h, int w,
                          struct cu_err *err)
{
    const char *why = bad_id(image_id, strlen(image_id));
    if (why)
        return cu_fail(err, CU_EINPUT, "%s: %s", image_id, why);
    char **strs = NULL;
    int32_t n = 0;
    enum cu_status st = cu_rle_encode_all(&strs, &n, labels, h, w, err);
    if (st)
        return st;
    size_t before = s->n;
    int fail = 0;
    for (int32_t l = 1; l < n && !fail; l++) {
        if (!strs[l])
            continue;
        fail = add_row(s, image_id, strlen(image_id), strs[l], 0);
        strs[l] = NULL; /* owned by the row now (or freed) */
    }
    if (!fail && s->n == before) {
        char *empty = dup_str("", 0);
        fail = !empty || add_row(s, image_id, strlen(image_id), empty, 0);
    }
    cu_rle_free_all(strs, n);
    if (fail)
        return cu_fail(err, CU_EDEVICE, "submission: out of host memory");
    return CU_OK;
}

enum cu_status cu_sub_write(const struct cu_sub *s, const char *path, struct cu_err *err)
{
    struct cu_atomic a;
    enum cu_status st = cu_atomic_begin(&a, path, err);
    if (st)
        return st;
    fprintf(a.f, HEADER "\n");
    for (size_t i = 0; i < s->n; i++)
        fprintf(a.f, "%s,%s\n", s->rows[i].id, s->rows[i].pixels);
    return cu_atomic_commit(&a, err); /* a failed fprintf sets ferror: caught there */
}


/* One data line (without its end of line). */
static enum cu_status parse_row(struct cu_sub *s, const char *line, size_t len, long lineno, const char *path,
                                struct cu_err *err)
{
    char where[64 + 4096];
    snprintf(where, sizeof where, "%s:%ld", path, lineno);
    const char *comma = memchr(line, ',', len);
    if (!comma)
        return cu_fail(err, CU_EINPUT, "%s: expected ImageId,EncodedPixels (no comma)", where);
    size_t id_len = (size_t)(comma - line);
    const char *px = comma + 1;
    size_t px_len = len - id_len - 1;
    if (memchr(px, ',', px_len))
        return cu_fail(err, CU_EINPUT, "%s: more than two fields", where);
    const char *why = bad_id(line, id_len);
    if (why)
        return cu_fail(err, CU_EINPUT, "%s: %s", where, why);
    char *pixels = dup_str(px, px_len);
    if (!pixels)
        return cu_fail(err, CU_EDEVICE, "%s: out of host memory", where);
    enum cu_status st = cu_rle_check(pixels, where, err);
    if (st) {
        free(pixels);
        return st;
    }
    if (add_row(s, line, id_len, pixels, lineno))
        return cu_fail(err, CU_EDEVICE, "%s: out of host memory", where);
    return CU_OK;
}

enum cu_status cu_sub_read(struct cu_sub **out, const char *path, struct cu_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    enum cu_status st = cu_read_file(path, &buf, &len, err);
    if (st)
        return st;
    struct cu_sub *s = calloc(1, sizeof *s);
    if (!s || !(s->path = dup_str(path, strlen(path)))) {
        free(buf);
        cu_sub_free(s);
        return cu_fail(err, CU_EDEVICE, "%s: out of host memory", path);
    }
    if (memchr(buf, '\0', len))
        st = cu_fail(err, CU_EINPUT, "%s: holds a NUL byte: not a CSV text file", path);
    const char *p = buf, *end = buf + len;
    if (!st && len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
        p += 3; /* UTF-8 byte order mark, as some spreadsheets write */
    for (long lineno = 1; !st && p < end; lineno++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        size_t n = (size_t)(e - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (lineno == 1) {
            if (n != strlen(HEADER) || memcmp(p, HEADER, n))
                st = cu_fail(err, CU_EINPUT, "%s:1: header must be " HEADER, path);
        } else if (n == 0) {
            st = cu_fail(err, CU_EINPUT, "%s:%ld: empty line", path, lineno);
        } else {
            st = parse_row(s, p, n, lineno, path, err);
        }
        p = nl ? nl + 1 : end;
    }
    if (!st && len == 0)
        st = cu_fail(err, CU_EINPUT, "%s: empty file (no " HEADER " header)", path);
    free(buf);
    if (st) {
        cu_sub_free(s);
        return st;
    }
    *out = s;
    return CU_OK;
}

enum cu_status cu_sub_decode(const struct cu_sub *s, const char *image_id, int h, int w, int32_t *labels,
                             int *n_out, struct cu_err *err)
{
    if (h <= 0 || w <= 0 || (long long)h * w > INT32_MAX)
        return cu_fail(err, CU_EUSAGE, "%s: bad image size %dx%d", image_id, w, h);
    memset(labels, 0, (size_t)h * (size_t)w * sizeof *labels);
    int32_t next = 0;
    char where[64 + 4096];
    for (size_t i = 0; i < s->n; i++) {
        const struct row *r = &s->rows[i];
        if (strcmp(r->id, image_id) || !r->pixels[strspn(r->pixels, " ")])
            continue;
        if (s->path)
            snprintf(where, sizeof where, "%s:%ld", s->path, r->line);
        else
            snprintf(where, sizeof where, "%s (row %zu)", image_id, i + 1);
        enum cu_status st = cu_rle_decode(labels, h, w, next + 1, r->pixels, where, err);
        if (st)
            return st;
        next++;
    }
    *n_out = next;
    return CU_OK;
}
