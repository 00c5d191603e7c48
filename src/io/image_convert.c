/* image_convert.c: from the stored samples of a struct cu_raw_image to
 * what clunet computes with (image.h): the network's float input, integer
 * labels, a 0/1 mask union.
 *
 * Not here: decoding (image_read.c and the decoders). */
#include "clunet/image.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double cu_raw_sample(const struct cu_raw_image *r, int c, int y, int x)
{
    size_t q = ((size_t)c * (size_t)r->h + (size_t)y) * (size_t)r->w + (size_t)x;
    return cu_raw_at(r, q);
}

double cu_raw_at(const struct cu_raw_image *r, size_t q)
{
    switch (r->kind) {
    case CU_SAMPLE_FLOAT: return ((const float *)r->data)[q];
    case CU_SAMPLE_INT:
        return r->bytes == 1 ? ((const int8_t *)r->data)[q]
               : r->bytes == 2 ? ((const int16_t *)r->data)[q]
                               : ((const int32_t *)r->data)[q];
    case CU_SAMPLE_UINT: break;
    }
    return r->bytes == 1 ? ((const uint8_t *)r->data)[q]
           : r->bytes == 2 ? ((const uint16_t *)r->data)[q]
                           : ((const uint32_t *)r->data)[q];
}

/* The planes (0-based) that become R, G, B. */
static enum cu_status pick_planes(const struct cu_raw_image *r, const struct cu_input_opts *o, const char *path,
                                  int plane[3], struct cu_err *err)
{
    int ch = o ? o->channel : 0;
    if (ch > 0) {
        if (ch > r->channels)
            return cu_fail(err, CU_EUSAGE, "%s: --channel %d: the image has %d channel%s", path, ch, r->channels,
                           r->channels == 1 ? "" : "s");
        plane[0] = plane[1] = plane[2] = ch - 1;
        return CU_OK;
    }
    if (r->channels == 1 || r->channels == 3) {
        for (int k = 0; k < 3; k++)
            plane[k] = r->channels == 3 ? k : 0;
        return CU_OK;
    }
    return cu_fail(err, CU_EINPUT, "%s: the image has %d channels: pick the nuclear stain with --channel N (1..%d)",
                   path, r->channels, r->channels);
}

/* 8 bits and fewer: value / (2^bits - 1), computed as libpng's expansion to
 * 8 bit then / 255.0f (so 1-, 2- and 4-bit grey give exactly what
 * scikit-image's imread of the PNG gives); 16 bits: / 65535. Division, not
 * a reciprocal product: v / 255.0f is what numpy's float32 arithmetic gives
 * (the resize fixtures). Wider and other types: by the type's range,
 * clipped. */
static float scaled(const struct cu_raw_image *r, double v)
{
    if (r->kind == CU_SAMPLE_UINT && r->bits < 8)
        return (float)(v * (255 / ((1 << r->bits) - 1))) / 255.0f;
    if (r->kind == CU_SAMPLE_UINT && r->bits == 8)
        return (float)v / 255.0f;
    if (r->kind == CU_SAMPLE_UINT && r->bits == 16)
        return (float)v / 65535.0f;
    double max = r->kind == CU_SAMPLE_FLOAT ? 1.0
                 : r->kind == CU_SAMPLE_INT ? (double)((1ull << (r->bits - 1)) - 1)
                                            : (double)((1ull << r->bits) - 1);
    v /= max;
    return (float)(v < 0 ? 0 : v > 1 ? 1 : v);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double cu_percentile_sorted(const double *x, size_t n, double p)
{
    if (n == 0)
        return 0;
    double pos = p / 100.0 * (double)(n - 1);
    size_t i = (size_t)pos;
    if (i >= n - 1)
        return x[n - 1];
    return x[i] + (pos - (double)i) * (x[i + 1] - x[i]);
}

/* The k-th smallest (0-based) of x (n), rearranging x: Hoare's selection
 * with a median-of-three pivot; afterwards x[0..k] <= x[k] <= x[k+1..]. */
static float select_kth(float *x, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        float a = x[lo], b = x[mid], c = x[hi];
        float pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
        size_t i = lo, j = hi;
        while (i <= j) {
            while (x[i] < pivot)
                i++;
            while (x[j] > pivot)
                j--;
            if (i <= j) {
                float t = x[i];
                x[i] = x[j], x[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return x[k];
    }
    return x[k];
}

/* The smallest of x[from..n-1]. */
static float min_from(const float *x, size_t from, size_t n)
{
    float m = x[from];
    for (size_t i = from + 1; i < n; i++)
        m = x[i] < m ? x[i] : m;
    return m;
}

/* The p-th percentile of x (n, rearranged), numpy's linear interpolation. */
static double select_pct(float *x, size_t n, double p)
{
    double pos = p / 100.0 * (double)(n - 1);
    size_t i = (size_t)pos;
    double a = select_kth(x, n, i);
    if (i + 1 >= n)
        return a;
    double b = min_from(x, i + 1, n); /* the (i+1)-th: the smallest above position i */
    return a + (pos - (double)i) * (b - a);
}

enum cu_status cu_stretch_plane(float *px, size_t n, double lo, double hi, struct cu_err *err)
{
    if (n == 0)
        return CU_OK;
    float *x = malloc(sizeof *x * n);
    if (!x)
        return cu_fail(err, CU_EDEVICE, "percentile stretch: out of memory for %zu values", n);
    size_t m = 0;
    for (size_t q = 0; q < n; q++)
        x[m++] = isfinite(px[q]) ? px[q] : 0.0f;
    double plo = select_pct(x, m, lo), phi = select_pct(x, m, hi);
    free(x);
    if (!(phi > plo))
        return CU_OK;
    for (size_t q = 0; q < n; q++) {
        double t = ((isfinite(px[q]) ? px[q] : 0.0) - plo) / (phi - plo);
        px[q] = (float)(t < 0 ? 0 : t > 1 ? 1 : t);
    }
    return CU_OK;
}

/* The k-th smallest (0-based) of the values counted in hist. */
static double kth(const size_t *hist, size_t bins, size_t k)
{
    size_t sum = 0;
    for (size_t b = 0; b < bins; b++) {
        sum += hist[b];
        if (sum > k)
            return (double)b;
    }
    return (double)(bins - 1);
}

/* p_lo and p_hi of the n values v. Integer samples of 16 bits or fewer
 * (and palette lookups) are counted in a histogram, exact and fast; other
 * types are sorted (a copy). */
static enum cu_status percentiles(const struct cu_raw_image *r, int pal, const double *v, size_t n, double lo,
                                  double hi, double *plo, double *phi)
{
    if (pal || (r->kind == CU_SAMPLE_UINT && r->bits <= 16)) {
        size_t bins = pal ? 256 : (size_t)1 << r->bits;
        size_t *hist = calloc(bins, sizeof *hist);
        if (!hist)
            return CU_EINPUT;
        for (size_t q = 0; q < n; q++)
            hist[(size_t)v[q]]++;
        double at[2], pct[2] = {lo, hi};
        for (int k = 0; k < 2; k++) {
            double pos = pct[k] / 100.0 * (double)(n - 1);
            size_t i = (size_t)pos;
            double a = kth(hist, bins, i), b = i + 1 < n ? kth(hist, bins, i + 1) : a;
            at[k] = a + (pos - (double)i) * (b - a);
        }
        free(hist);
        *plo = at[0], *phi = at[1];
        return CU_OK;
    }
    double *x = malloc(sizeof *x * n);
    if (!x)
        return CU_EINPUT;
    memcpy(x, v, sizeof *x * n);
    qsort(x, n, sizeof *x, cmp_double);
    *plo = cu_percentile_sorted(x, n, lo);
    *phi = cu_percentile_sorted(x, n, hi);
    free(x);
    return CU_OK;
}

/* One output plane from the values v (n) of a raw plane. */
static enum cu_status convert_plane(const struct cu_raw_image *r, const struct cu_input_opts *o, int pal,
                                    const double *v, size_t n, float *dst)
{
    enum cu_norm norm = o ? o->norm : CU_NORM_AUTO;
    int small = pal || (r->kind == CU_SAMPLE_UINT && r->bits <= 8);
    int stretch = norm == CU_NORM_PERCENTILE || (norm == CU_NORM_AUTO && !small);
    double plo = 0, phi = 0;
    if (stretch) {
        double lo = norm == CU_NORM_PERCENTILE ? o->lo : CU_NORM_LO, hi = norm == CU_NORM_PERCENTILE ? o->hi : CU_NORM_HI;
        if (percentiles(r, pal, v, n, lo, hi, &plo, &phi))
            return CU_EINPUT;
        stretch = phi > plo;
    }
    for (size_t q = 0; q < n; q++) {
        if (stretch) {
            double t = (v[q] - plo) / (phi - plo);
            dst[q] = (float)(t < 0 ? 0 : t > 1 ? 1 : t);
        } else {
            dst[q] = pal ? (float)v[q] / 255.0f : scaled(r, v[q]);
        }
    }
    return CU_OK;
}

enum cu_status cu_raw_to_rgb(const struct cu_raw_image *r, const struct cu_input_opts *o, const char *path,
                             struct cu_image *out, struct cu_err *err)
{
    int plane[3];
    CU_TRY(pick_planes(r, o, path, plane, err));
    struct cu_image im;
    CU_TRY(cu_image_new(&im, 3, r->h, r->w, err));
    size_t n = (size_t)r->h * (size_t)r->w;
    int pal = r->palette && !(o && o->channel > 0);
    double *v = malloc(sizeof *v * n);
    enum cu_status st = v ? CU_OK : cu_fail(err, CU_EDEVICE, "%s: out of memory", path);
    for (int k = 0; k < 3 && !st; k++) {
        float *dst = im.px + n * (size_t)k;
        if (k > 0 && plane[k] == plane[k - 1] && !pal) { /* a replicated plane */
            memcpy(dst, dst - n, sizeof *dst * n);
            continue;
        }
        size_t base = n * (size_t)plane[k];
        if (!pal && r->kind == CU_SAMPLE_UINT && r->bits == 8 && (!o || o->norm != CU_NORM_PERCENTILE)) {
            const uint8_t *src = (const uint8_t *)r->data + base; /* the common case, without the doubles */
            for (size_t q = 0; q < n; q++)
                dst[q] = (float)src[q] / 255.0f;
            continue;
        }
        for (size_t q = 0; q < n; q++) {
            double s = cu_raw_at(r, base + q);
            if (!isfinite(s)) /* float NaN and infinities: 0 */
                s = 0;
            if (pal) {
                size_t i = (size_t)s;
                s = i < (size_t)r->n_palette ? r->palette[3 * i + (size_t)k] : 0;
            }
            v[q] = s;
        }
        if (convert_plane(r, o, pal, v, n, dst))
            st = cu_fail(err, CU_EDEVICE, "%s: out of memory", path);
    }
    free(v);
    if (st) {
        cu_image_free(&im);
        return st;
    }
    *out = im;
    return CU_OK;
}

int cu_norm_parse(const char *s, struct cu_input_opts *o)
{
    if (!strcmp(s, "auto")) {
        o->norm = CU_NORM_AUTO, o->lo = o->hi = 0;
        return 0;
    }
    if (!strcmp(s, "none")) {
        o->norm = CU_NORM_NONE, o->lo = o->hi = 0;
        return 0;
    }
    char *end;
    errno = 0;
    double lo = strtod(s, &end);
    if (end == s || *end != ',' || errno)
        return -1;
    const char *h = end + 1;
    double hi = strtod(h, &end);
    if (end == h || *end || errno || !(lo >= 0 && lo < hi && hi <= 100))
        return -1;
    o->norm = CU_NORM_PERCENTILE, o->lo = lo, o->hi = hi;
    return 0;
}

/* The shortest %g that reads back as x. */
static void shortest(double x, char *buf, size_t size)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

void cu_norm_name(const struct cu_input_opts *o, char *buf, size_t size)
{
    if (!o || o->norm == CU_NORM_AUTO) {
        snprintf(buf, size, "auto");
    } else if (o->norm == CU_NORM_NONE) {
        snprintf(buf, size, "none");
    } else {
        char a[32], b[32];
        shortest(o->lo, a, sizeof a), shortest(o->hi, b, sizeof b);
        snprintf(buf, size, "%s,%s", a, b);
    }
}

/* A sample as a label: a whole number in 0..2^32-1 (NaN, negative, fractional
 * and too-large values of float or signed images are not labels). */
static int label_of(double s, uint32_t *out)
{
    if (!(s >= 0 && s <= 4294967295.0) || s != floor(s))
        return 0;
    *out = (uint32_t)s;
    return 1;
}

enum cu_status cu_raw_to_labels(const struct cu_raw_image *r, const char *path, struct cu_labels *out,
                                struct cu_err *err)
{
    if (r->channels != 1 && r->channels != 3)
        return cu_fail(err, CU_EINPUT, "%s: a label image has 1 channel (or 3: one colour per label), not %d",
                       path, r->channels);
    size_t n = (size_t)r->h * (size_t)r->w;
    uint32_t *v = malloc(sizeof *v * (n ? n : 1));
    if (!v)
        return cu_fail(err, CU_EDEVICE, "%s: out of memory for %dx%d labels", path, r->w, r->h);
    int shift = r->channels == 3 && r->bits > 8 ? r->bits - 8 : 0; /* colour labels are compared at 8 bit */
    for (size_t q = 0; q < n; q++) {
        uint32_t c[3] = {0, 0, 0};
        for (int k = 0; k < r->channels; k++) {
            double s = cu_raw_at(r, (size_t)k * n + q);
            if (!label_of(s, &c[k])) {
                free(v);
                return cu_fail(err, CU_EINPUT, "%s: label %g is not a whole number in 0..2^32-1", path, s);
            }
        }
        v[q] = r->channels == 3 ? (c[0] >> shift & 0xFF) << 16 | (c[1] >> shift & 0xFF) << 8 | (c[2] >> shift & 0xFF)
                                : c[0];
    }
    out->h = r->h, out->w = r->w, out->v = v;
    return CU_OK;
}

void cu_raw_or_mask(const struct cu_raw_image *r, float *u)
{
    size_t n = (size_t)r->h * (size_t)r->w;
    for (int c = 0; c < r->channels; c++)
        for (size_t q = 0; q < n; q++)
            if (cu_raw_at(r, (size_t)c * n + q) != 0)
                u[q] = 1.0f;
}

uint8_t *cu_image_rgb8(const struct cu_image *im)
{
    size_t n = (size_t)im->h * (size_t)im->w;
    uint8_t *out = malloc(3 * (n ? n : 1));
    for (size_t q = 0; out && q < n; q++)
        for (int c = 0; c < 3; c++) {
            float v = im->px[(size_t)(im->c >= 3 ? c : 0) * n + q];
            out[3 * q + c] = (uint8_t)lroundf(255.f * (v < 0 ? 0 : v > 1 ? 1 : v));
        }
    return out;
}
