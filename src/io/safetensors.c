/* safetensors.c: the safetensors reader and writer of
 * include/clunet/safetensors.h, JSON through jansson; F16/BF16 bit
 * conversions are half.c's. Not here: which tensors a U-Net file holds
 * (model_file.c). */
#include "clunet/safetensors.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clunet/half.h"
#include "io/atomic_file.h"

struct st_item {
    char *name;
    int ndim;
    int64_t shape[CU_ST_MAX_DIMS];
    size_t numel;
    float *data;
};

struct cu_st_writer {
    json_t *meta;
    enum cu_st_dtype dtype;
    int n, cap;
    struct st_item *items;
};

struct cu_st_file {
    char *path;
    json_t *meta;
    unsigned char *data; /* the data section */
    float *wide;         /* the F16 and BF16 tensors widened to float32 */
    const char **meta_keys; /* sorted */
    int n_meta;
    int n;
    struct cu_st_entry *entries;
};

static int host_is_le(void)
{
    const uint32_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static void swap4(void *p, size_t n)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++, b += 4) {
        unsigned char t0 = b[0], t1 = b[1];
        b[0] = b[3], b[1] = b[2], b[2] = t1, b[3] = t0;
    }
}

static const char *const dtype_names[] = {"F32", "F16", "BF16"};
static const size_t dtype_bytes[] = {4, 2, 2};

const char *cu_st_dtype_name(enum cu_st_dtype d) { return dtype_names[d]; }

int cu_st_dtype_parse(const char *s)
{
    for (int d = 0; s && d < 3; d++) {
        const char *n = dtype_names[d];
        size_t i = 0;
        while (n[i] && (s[i] == n[i] || s[i] == n[i] - 'A' + 'a'))
            i++;
        if (!n[i] && !s[i])
            return d;
    }
    return -1;
}

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const struct st_item *)a)->name, ((const struct st_item *)b)->name);
}

/* numel of a shape, or 0 with *ok = 0 when it overflows a byte count. */
static size_t shape_numel(int ndim, const int64_t *shape, int *ok)
{
    size_t n = 1;
    *ok = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] > 0 && n > (SIZE_MAX / 8) / (size_t)shape[i])) {
            *ok = 0;
            return 0;
        }
        n *= (size_t)shape[i];
    }
    return n;
}

/* ---- writer ---- */

enum cu_status cu_st_writer_new(struct cu_st_writer **out, struct cu_err *err)
{
    struct cu_st_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->meta = json_object())) {
        free(w);
        return cu_fail(err, CU_EDEVICE, "safetensors writer: out of memory");
    }
    *out = w;
    return CU_OK;
}

void cu_st_writer_free(struct cu_st_writer *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->n; i++) {
        free(w->items[i].name);
        free(w->items[i].data);
    }
    free(w->items);
    json_decref(w->meta);
    free(w);
}

enum cu_status cu_st_writer_dtype(struct cu_st_writer *w, enum cu_st_dtype d, struct cu_err *err)
{
    if (d != CU_ST_F32 && d != CU_ST_F16)
        return cu_fail(err, CU_EUSAGE, "safetensors: clunet writes F32 or F16, not %s", cu_st_dtype_name(d));
    w->dtype = d;
    return CU_OK;
}

enum cu_status cu_st_writer_meta(struct cu_st_writer *w, const char *key, const char *value, struct cu_err *err)
{
    json_t *v = json_string(value);
    if (!v || json_object_set_new(w->meta, key, v))
        return cu_fail(err, CU_EDEVICE, "safetensors metadata %s: not valid UTF-8 or out of memory", key);
    return CU_OK;
}

/* Appends an item with uninitialised data of the shape's size. */
static enum cu_status add_item(struct cu_st_writer *w, const char *name, int ndim, const int64_t *shape,
                               struct st_item **out, struct cu_err *err)
{
    int ok;
    size_t numel = shape_numel(ndim, shape, &ok);
    if (ndim < 0 || ndim > CU_ST_MAX_DIMS || !ok || !name || !*name || strcmp(name, "__metadata__") == 0)
        return cu_fail(err, CU_EUSAGE, "safetensors: tensor %s: invalid name or shape", name ? name : "(null)");
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->items[i].name, name) == 0)
            return cu_fail(err, CU_EUSAGE, "safetensors: tensor %s added twice", name);
    if (w->n == w->cap) {
        int cap = w->cap ? 2 * w->cap : 32;
        struct st_item *ni = realloc(w->items, (size_t)cap * sizeof *ni);
        if (!ni)
            return cu_fail(err, CU_EDEVICE, "safetensors writer: out of memory");
        w->items = ni, w->cap = cap;
    }
    struct st_item *it = &w->items[w->n];
    memset(it, 0, sizeof *it);
    it->name = strdup(name);
    it->data = malloc(numel ? numel * sizeof(float) : 1);
    if (!it->name || !it->data) {
        free(it->name);
        free(it->data);
        return cu_fail(err, CU_EDEVICE, "safetensors writer: out of memory for %s", name);
    }
    it->ndim = ndim;
    memcpy(it->shape, shape, (size_t)ndim * sizeof *shape);
    it->numel = numel;
    w->n++;
    *out = it;
    return CU_OK;
}

enum cu_status cu_st_writer_add(struct cu_st_writer *w, const char *name, int ndim, const int64_t *shape,
                                const float *data, struct cu_err *err)
{
    struct st_item *it;
    enum cu_status st = add_item(w, name, ndim, shape, &it, err);
    if (!st && it->numel)
        memcpy(it->data, data, it->numel * sizeof(float));
    return st;
}

enum cu_status cu_st_writer_add_tensor(struct cu_st_writer *w, const char *name, int ndim, const int64_t *shape,
                                       const struct cu_tensor *t, struct cu_err *err)
{
    struct st_item *it;
    enum cu_status st = add_item(w, name, ndim, shape, &it, err);
    if (st)
        return st;
    if (it->numel != cu_tensor_numel(t)) {
        free(it->name);
        free(it->data);
        w->n--;
        return cu_fail(err, CU_EUSAGE, "safetensors: tensor %s: shape does not match %s (%zu floats)", name,
                       t->name, cu_tensor_numel(t));
    }
    return cu_tensor_download(t, it->data, err);
}

static char *header_json(struct cu_st_writer *w, size_t *len)
{
    json_t *root = json_object();
    size_t off = 0;
    int bad = !root;
    if (!bad && json_object_size(w->meta))
        bad = json_object_set(root, "__metadata__", w->meta);
    for (int i = 0; i < w->n && !bad; i++) {
        const struct st_item *it = &w->items[i];
        json_t *shape = json_array();
        for (int d = 0; shape && d < it->ndim; d++)
            json_array_append_new(shape, json_integer((json_int_t)it->shape[d]));
        size_t end = off + it->numel * dtype_bytes[w->dtype];
        json_t *e = json_pack("{s:s, s:o, s:[I,I]}", "dtype", dtype_names[w->dtype], "shape", shape, "data_offsets",
                              (json_int_t)off, (json_int_t)end);
        bad = !e || json_object_set_new(root, it->name, e);
        off = end;
    }
    char *s = bad ? NULL : json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (s)
        *len = strlen(s);
    return s;
}

static int write_all(FILE *fp, const void *p, size_t n) { return n == 0 || fwrite(p, 1, n, fp) == n; }

/* F16, little-endian, a block at a time. */
static int write_f16(FILE *fp, const struct st_item *it)
{
    unsigned char buf[2048];
    for (size_t i = 0; i < it->numel; i += 1024) {
        size_t k = it->numel - i < 1024 ? it->numel - i : 1024;
        for (size_t j = 0; j < k; j++) {
            uint16_t h = cu_float_to_f16(it->data[i + j]);
            buf[2 * j] = (unsigned char)h, buf[2 * j + 1] = (unsigned char)(h >> 8);
        }
        if (!write_all(fp, buf, 2 * k))
            return 0;
    }
    return 1;
}

static int write_data(FILE *fp, const struct st_item *it, enum cu_st_dtype d)
{
    if (d == CU_ST_F16)
        return write_f16(fp, it);
    if (host_is_le())
        return write_all(fp, it->data, it->numel * sizeof(float));
    float buf[1024];
    for (size_t i = 0; i < it->numel; i += 1024) {
        size_t k = it->numel - i < 1024 ? it->numel - i : 1024;
        memcpy(buf, it->data + i, k * sizeof(float));
        swap4(buf, k);
        if (!write_all(fp, buf, k * sizeof(float)))
            return 0;
    }
    return 1;
}

static int write_body(FILE *fp, const struct cu_st_writer *w, const char *hdr, size_t len)
{
    size_t padded = (len + 7) / 8 * 8;
    unsigned char lb[8];
    for (int i = 0; i < 8; i++)
        lb[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    if (!write_all(fp, lb, 8) || !write_all(fp, hdr, len) || !write_all(fp, "        ", padded - len))
        return 0;
    for (int i = 0; i < w->n; i++)
        if (!write_data(fp, &w->items[i], w->dtype))
            return 0;
    return 1;
}

/* F16 cannot hold a finite value beyond +-65504: refuse rather than store
 * an infinity the network never had. */
static enum cu_status check_f16_range(const struct cu_st_writer *w, const char *path, struct cu_err *err)
{
    for (int i = 0; w->dtype == CU_ST_F16 && i < w->n; i++)
        for (size_t j = 0; j < w->items[i].numel; j++) {
            float v = w->items[i].data[j];
            if (v == v && v - v == 0 && (v > CU_F16_MAX || v < -CU_F16_MAX))
                return cu_fail(err, CU_EINPUT, "%s: tensor %s holds %g, beyond F16's range (+-65504)", path,
                               w->items[i].name, (double)v);
        }
    return CU_OK;
}

struct body {
    const struct cu_st_writer *w;
    const char *hdr;
    size_t len;
};

static int put_body(FILE *fp, void *ctx)
{
    const struct body *b = ctx;
    return !write_body(fp, b->w, b->hdr, b->len);
}

enum cu_status cu_st_writer_write(struct cu_st_writer *w, const char *path, struct cu_err *err)
{
    enum cu_status range = check_f16_range(w, path, err);
    if (range)
        return range;
    qsort(w->items, (size_t)w->n, sizeof *w->items, cmp_item);
    size_t len = 0;
    char *hdr = header_json(w, &len);
    if (!hdr)
        return cu_fail(err, CU_EDEVICE, "%s: cannot build the safetensors header (out of memory)", path);
    struct body b = {w, hdr, len};
    enum cu_status st = cu_atomic_write_with(path, 1, put_body, &b, err); /* model files are durable */
    free(hdr);
    return st;
}

/* ---- reader ---- */

void cu_st_file_free(struct cu_st_file *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->n; i++)
        free((char *)f->entries[i].name);
    free(f->entries);
    free(f->meta_keys);
    json_decref(f->meta);
    free(f->wide);
    free(f->data);
    free(f->path);
    free(f);
}

const char *cu_st_file_path(const struct cu_st_file *f) { return f->path; }

const char *cu_st_file_meta(const struct cu_st_file *f, const char *key)
{
    return f->meta ? json_string_value(json_object_get(f->meta, key)) : NULL;
}

int cu_st_file_meta_count(const struct cu_st_file *f) { return f->n_meta; }

void cu_st_file_meta_at(const struct cu_st_file *f, int i, const char **key, const char **value)
{
    *key = f->meta_keys[i];
    *value = cu_st_file_meta(f, *key);
}

int cu_st_file_count(const struct cu_st_file *f) { return f->n; }

const struct cu_st_entry *cu_st_file_entry(const struct cu_st_file *f, int i)
{
    return i >= 0 && i < f->n ? &f->entries[i] : NULL;
}

const struct cu_st_entry *cu_st_file_find(const struct cu_st_file *f, const char *name)
{
    int lo = 0, hi = f->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(f->entries[mid].name, name);
        if (c == 0)
            return &f->entries[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

/* A tensor's byte range, for the overlap check. */
struct span {
    size_t begin, end;
    const char *name;
};

static int cmp_span(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct cu_st_entry *)a)->name, ((const struct cu_st_entry *)b)->name);
}

static enum cu_status parse_meta(struct cu_st_file *f, json_t *m, struct cu_err *err)
{
    const char *key;
    json_t *v;
    if (!json_is_object(m))
        return cu_fail(err, CU_EINPUT, "%s: __metadata__ is not a JSON object", f->path);
    json_object_foreach(m, key, v) {
        if (!json_is_string(v))
            return cu_fail(err, CU_EINPUT, "%s: metadata %s is not a string", f->path, key);
    }
    f->meta_keys = malloc((json_object_size(m) ? json_object_size(m) : 1) * sizeof *f->meta_keys);
    if (!f->meta_keys)
        return cu_fail(err, CU_EDEVICE, "%s: out of memory", f->path);
    json_object_foreach(m, key, v)
        f->meta_keys[f->n_meta++] = key;
    qsort(f->meta_keys, (size_t)f->n_meta, sizeof *f->meta_keys, cmp_str);
    f->meta = json_incref(m);
    return CU_OK;
}

static enum cu_status parse_shape(const char *path, const char *name, json_t *shape, struct cu_st_entry *out,
                                  struct cu_err *err)
{
    if (!json_is_array(shape) || json_array_size(shape) > CU_ST_MAX_DIMS)
        return cu_fail(err, CU_EINPUT, "%s: tensor %s: shape is not an array of at most %d sizes", path, name,
                       CU_ST_MAX_DIMS);
    out->ndim = (int)json_array_size(shape);
    for (int d = 0; d < out->ndim; d++) {
        json_t *v = json_array_get(shape, (size_t)d);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return cu_fail(err, CU_EINPUT, "%s: tensor %s: shape holds a size that is not a non-negative integer",
                           path, name);
        out->shape[d] = (int64_t)json_integer_value(v);
    }
    int ok;
    out->numel = shape_numel(out->ndim, out->shape, &ok);
    if (!ok)
        return cu_fail(err, CU_EINPUT, "%s: tensor %s: shape is too large", path, name);
    return CU_OK;
}

static enum cu_status parse_entry(struct cu_st_file *f, const char *name, json_t *e, size_t dsize,
                                  struct cu_st_entry *out, struct span *sp, struct cu_err *err)
{
    const char *path = f->path;
    if (!json_is_object(e))
        return cu_fail(err, CU_EINPUT, "%s: tensor %s: header entry is not a JSON object", path, name);
    const char *dtype = json_string_value(json_object_get(e, "dtype"));
    if (!dtype)
        return cu_fail(err, CU_EINPUT, "%s: tensor %s: no dtype", path, name);
    int dt = cu_st_dtype_parse(dtype);
    if (dt < 0 || strcmp(dtype, dtype_names[dt]) != 0)
        return cu_fail(err, CU_EINPUT, "%s: tensor %s has dtype %s; clunet reads F32, F16 and BF16", path, name, dtype);
    out->dtype = (enum cu_st_dtype)dt;
    size_t esize = dtype_bytes[dt];
    enum cu_status st = parse_shape(path, name, json_object_get(e, "shape"), out, err);
    if (st)
        return st;
    json_t *offs = json_object_get(e, "data_offsets");
    json_t *jb = json_array_get(offs, 0), *je = json_array_get(offs, 1);
    if (!json_is_array(offs) || json_array_size(offs) != 2 || !json_is_integer(jb) || !json_is_integer(je))
        return cu_fail(err, CU_EINPUT, "%s: tensor %s: data_offsets is not a pair of integers", path, name);
    json_int_t b = json_integer_value(jb), en = json_integer_value(je);
    if (b < 0 || en < b || (unsigned long long)en > (unsigned long long)dsize)
        return cu_fail(err, CU_EINPUT, "%s: tensor %s: data_offsets [%lld, %lld] lie outside the %zu data bytes",
                       path, name, (long long)b, (long long)en, dsize);
    if ((size_t)(en - b) != out->numel * esize)
        return cu_fail(err, CU_EINPUT, "%s: tensor %s: its shape needs %zu bytes but data_offsets span %lld", path,
                       name, out->numel * esize, (long long)(en - b));
    if (dt == CU_ST_F32 && b % 4)
        return cu_fail(err, CU_EINPUT, "%s: tensor %s: data offset %lld is not a multiple of 4", path, name,
                       (long long)b);
    out->name = strdup(name);
    if (!out->name)
        return cu_fail(err, CU_EDEVICE, "%s: out of memory", path);
    out->data = (const float *)(f->data + b); /* F16/BF16: widened later, from this offset */
    *sp = (struct span){(size_t)b, (size_t)en, out->name};
    return CU_OK;
}

static enum cu_status check_overlap(const char *path, struct span *sp, int n, struct cu_err *err)
{
    qsort(sp, (size_t)n, sizeof *sp, cmp_span);
    for (int i = 1; i < n; i++)
        if (sp[i].begin < sp[i - 1].end && sp[i].begin < sp[i].end)
            return cu_fail(err, CU_EINPUT, "%s: tensors %s and %s overlap in the data", path, sp[i - 1].name,
                           sp[i].name);
    return CU_OK;
}

/* Widens the F16 and BF16 tensors into one float32 buffer and points their
 * entries there (until now their data pointed at their stored bytes). */
static enum cu_status widen(struct cu_st_file *f, struct cu_err *err)
{
    size_t total = 0;
    for (int i = 0; i < f->n; i++)
        total += f->entries[i].dtype != CU_ST_F32 ? f->entries[i].numel : 0;
    if (!total)
        return CU_OK;
    if (!(f->wide = malloc(total * sizeof *f->wide)))
        return cu_fail(err, CU_EDEVICE, "%s: out of memory", f->path);
    float *o = f->wide;
    for (int i = 0; i < f->n; i++) {
        struct cu_st_entry *e = &f->entries[i];
        if (e->dtype == CU_ST_F32)
            continue;
        const unsigned char *b = (const unsigned char *)e->data;
        for (size_t j = 0; j < e->numel; j++) {
            uint16_t h = (uint16_t)(b[2 * j] | (b[2 * j + 1] << 8));
            o[j] = e->dtype == CU_ST_F16 ? cu_f16_to_float(h) : cu_bf16_to_float(h);
        }
        e->data = o;
        o += e->numel;
    }
    return CU_OK;
}

static enum cu_status parse_header(struct cu_st_file *f, json_t *root, size_t dsize, struct cu_err *err)
{
    if (!json_is_object(root))
        return cu_fail(err, CU_EINPUT, "%s: the header is not a JSON object", f->path);
    size_t n = json_object_size(root) - (json_object_get(root, "__metadata__") ? 1 : 0);
    f->entries = calloc(n ? n : 1, sizeof *f->entries);
    struct span *sp = calloc(n ? n : 1, sizeof *sp);
    enum cu_status st = f->entries && sp ? CU_OK : cu_fail(err, CU_EDEVICE, "%s: out of memory", f->path);
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (st)
            break;
        if (strcmp(key, "__metadata__") == 0)
            st = parse_meta(f, v, err);
        else if (!(st = parse_entry(f, key, v, dsize, &f->entries[f->n], &sp[f->n], err)))
            f->n++;
    }
    if (!st)
        st = check_overlap(f->path, sp, f->n, err);
    free(sp);
    if (!st)
        st = widen(f, err);
    if (st)
        return st;
    qsort(f->entries, (size_t)f->n, sizeof *f->entries, cmp_entry);
    if (!host_is_le())
        for (int i = 0; i < f->n; i++)
            if (f->entries[i].dtype == CU_ST_F32)
                swap4((void *)f->entries[i].data, f->entries[i].numel);
    return CU_OK;
}

static int read_all(FILE *fp, void *p, size_t n) { return n == 0 || fread(p, 1, n, fp) == n; }

static enum cu_status read_file(struct cu_st_file *f, FILE *fp, struct cu_err *err)
{
    const char *path = f->path;
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode))
        return cu_fail(err, CU_EINPUT, "%s: not a regular file", path);
    unsigned long long size = (unsigned long long)sb.st_size;
    unsigned char lb[8];
    if (size < 8 || !read_all(fp, lb, 8))
        return cu_fail(err, CU_EINPUT, "%s: truncated: %llu bytes, fewer than the 8-byte header length", path, size);
    unsigned long long n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | lb[i];
    int json = 0; /* a safetensors header is JSON: it starts with '{' */
    if (size > 8) {
        int c = fgetc(fp);
        json = c == '{';
        if (c != EOF)
            ungetc(c, fp);
    }
    if (!json && !memcmp(lb, "\x89PNG", 4))
        return cu_fail(err, CU_EINPUT, "%s: not a safetensors file (it is a PNG image); give a clunet model", path);
    if (!json && n > size - 8)
        return cu_fail(err, CU_EINPUT, "%s: not a safetensors file (no JSON header after its 8-byte length)", path);
    if (n > size - 8)
        return cu_fail(err, CU_EINPUT, "%s: header length %llu exceeds the %llu bytes after it (truncated file?)",
                       path, n, size - 8);
    if (n > CU_ST_MAX_HEADER)
        return cu_fail(err, CU_EINPUT, "%s: header length %llu is over the %u-byte limit", path, n, CU_ST_MAX_HEADER);
    size_t dsize = (size_t)(size - 8 - n);
    char *hdr = malloc((size_t)n + 1);
    f->data = malloc(dsize ? dsize : 1);
    if (!hdr || !f->data) {
        free(hdr);
        return cu_fail(err, CU_EDEVICE, "%s: out of memory for %llu bytes", path, size);
    }
    if (!read_all(fp, hdr, (size_t)n) || !read_all(fp, f->data, dsize)) {
        free(hdr);
        return cu_fail(err, CU_EINPUT, "%s: read error: %s", path, strerror(errno));
    }
    json_error_t je;
    json_t *root = json_loadb(hdr, (size_t)n, JSON_REJECT_DUPLICATES, &je);
    free(hdr);
    if (!root)
        return cu_fail(err, CU_EINPUT, "%s: bad JSON header: %s (line %d, column %d)", path, je.text, je.line,
                       je.column);
    enum cu_status st = parse_header(f, root, dsize, err);
    json_decref(root);
    return st;
}

enum cu_status cu_st_file_read(const char *path, struct cu_st_file **out, struct cu_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return cu_fail(err, CU_EINPUT, "%s: %s", path, strerror(errno));
    struct cu_st_file *f = calloc(1, sizeof *f);
    enum cu_status st = CU_OK;
    if (!f || !(f->path = strdup(path)))
        st = cu_fail(err, CU_EDEVICE, "%s: out of memory", path);
    if (!st)
        st = read_file(f, fp, err);
    fclose(fp);
    if (st) {
        cu_st_file_free(f);
        return st;
    }
    *out = f;
    return CU_OK;
}
