/* synth.c: generating one synthetic nuclei image with its instance labels
 * (synth.h: cu_synth_sample). Pure computation from (seed, index, size);
 * writing the dataset is synth_write.c's.
 *
 * The image model, in order: nuclei (ellipses with a wobbly outline) are
 * placed, some against earlier ones; each pixel is owned by the nucleus
 * with the smallest normalised ellipse distance d < 1 (disjoint masks by
 * construction); the signal is brightness * (1 - 0.3 d^2) * texture; a
 * [1 2 1]/4 blur stands for the optics; then illumination, background,
 * colour and Gaussian noise; quantised to 8 bits.
 *
 * Not here: files (synth_write.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/dataset.h"
#include "clunet/synth.h"

#define PI 3.14159265358979323846
#define MAX_NUCLEI 400

struct nucleus {
    double cy, cx, a, b, cos_t, sin_t, wob, wob_phase, bright;
};

static double unif(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * ((double)(cu_rand_next(s) >> 11) * (1.0 / 9007199254740992.0));
}

static double gauss(uint64_t *s)
{
    double u = unif(s, 1e-12, 1.0), v = unif(s, 0.0, 1.0);
    return sqrt(-2.0 * log(u)) * cos(2.0 * PI * v);
}

static uint64_t mix(uint64_t seed, uint64_t a, uint64_t b)
{
    uint64_t s = seed ^ (a * 0xD6E8FEB86659FD93ull) ^ (b * 0xA0761D6478BD642Full);
    cu_rand_next(&s);
    return cu_rand_next(&s);
}

void cu_synth_id(uint64_t seed, int index, char id[17])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t v = mix(seed, (uint64_t)index + 1, 0x1D);
    for (int i = 15; i >= 0; i--, v >>= 4)
        id[i] = hex[v & 15];
    id[16] = '\0';
}

/* Smooth noise in [-1, 1]: a random grid of cell px, bilinear. */
static void smooth_noise(uint64_t *s, int h, int w, int cell, float *out)
{
    int gh = h / cell + 2, gw = w / cell + 2;
    double *g = malloc(sizeof *g * (size_t)gh * (size_t)gw);
    if (!g) { /* flat texture rather than a failure: it is decoration */
        memset(out, 0, sizeof *out * (size_t)h * (size_t)w);
        return;
    }
    for (int i = 0; i < gh * gw; i++)
        g[i] = unif(s, -1.0, 1.0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double fy = (double)y / cell, fx = (double)x / cell;
            int iy = (int)fy, ix = (int)fx;
            double ty = fy - iy, tx = fx - ix;
            /* smoothstep: no visible grid lines */
            ty = ty * ty * (3 - 2 * ty), tx = tx * tx * (3 - 2 * tx);
            const double *r0 = g + (size_t)iy * (size_t)gw, *r1 = r0 + gw;
            double v = (1 - ty) * ((1 - tx) * r0[ix] + tx * r0[ix + 1]) + ty * ((1 - tx) * r1[ix] + tx * r1[ix + 1]);
            out[(size_t)y * (size_t)w + (size_t)x] = (float)v;
        }
    free(g);
}

/* Places the nuclei; returns how many. */
static int place(uint64_t *s, int h, int w, struct nucleus *nu)
{
    double m = h < w ? h : w;
    double r0 = unif(s, 0.035, 0.075) * m; /* this image's magnification */
    if (r0 < 3.0)
        r0 = 3.0;
    double cover = unif(s, 0.15, 0.35);
    int n = (int)(cover * h * w / (PI * r0 * r0));
    n = n < 3 ? 3 : n > MAX_NUCLEI ? MAX_NUCLEI : n;
    for (int k = 0; k < n; k++) {
        struct nucleus *q = &nu[k];
        double r = r0 * unif(s, 0.7, 1.3), asp = unif(s, 1.0, 1.8), th = unif(s, 0.0, PI);
        q->a = r * sqrt(asp), q->b = r / sqrt(asp);
        q->cos_t = cos(th), q->sin_t = sin(th);
        q->wob = unif(s, 0.0, 0.08), q->wob_phase = unif(s, 0.0, 2 * PI);
        q->bright = unif(s, 0.5, 1.0);
        if (k == 0) { /* one nucleus well inside, so no image is empty */
            q->cy = unif(s, 0.3, 0.7) * h, q->cx = unif(s, 0.3, 0.7) * w;
        } else if (unif(s, 0, 1) < 0.35) { /* against an earlier one */
            const struct nucleus *p = &nu[(int)unif(s, 0, k)];
            double dir = unif(s, 0, 2 * PI);
            double d = (sqrt(p->a * p->b) + r) * unif(s, 0.75, 1.0);
            q->cy = p->cy + d * sin(dir), q->cx = p->cx + d * cos(dir);
        } else {
            q->cy = unif(s, -0.05, 1.05) * h, q->cx = unif(s, -0.05, 1.05) * w;
        }
    }
    return n;
}

/* Normalised distance of (y, x) in nucleus q: < 1 inside. */
static double ndist(const struct nucleus *q, double y, double x)
{
    double dy = y - q->cy, dx = x - q->cx;
    double u = (dx * q->cos_t + dy * q->sin_t) / q->a, v = (-dx * q->sin_t + dy * q->cos_t) / q->b;
    double rr = u * u + v * v;
    double wob = 1.0 + q->wob * sin(3.0 * atan2(v, u) + q->wob_phase);
    return rr / (wob * wob);
}

/* Ownership: labels (1..n), signal (brightness profile), per pixel. */
static void rasterise(const struct nucleus *nu, int n, int h, int w, uint16_t *lab, float *sig, float *best)
{
    for (size_t p = 0; p < (size_t)h * (size_t)w; p++)
        lab[p] = 0, sig[p] = 0, best[p] = 1.0f;
    for (int k = 0; k < n; k++) {
        const struct nucleus *q = &nu[k];
        double r = (q->a > q->b ? q->a : q->b) * 1.1 + 1;
        int y0 = (int)floor(q->cy - r), y1 = (int)ceil(q->cy + r), x0 = (int)floor(q->cx - r), x1 = (int)ceil(q->cx + r);
        y0 = y0 < 0 ? 0 : y0, x0 = x0 < 0 ? 0 : x0, y1 = y1 >= h ? h - 1 : y1, x1 = x1 >= w ? w - 1 : x1;
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++) {
                size_t p = (size_t)y * (size_t)w + (size_t)x;
                double d = ndist(q, y + 0.5, x + 0.5);
                if (d < best[p]) {
                    best[p] = (float)d;
                    lab[p] = (uint16_t)(k + 1);
                    sig[p] = (float)(q->bright * (1.0 - 0.3 * d));
                }
            }
    }
}

/* Renumbers labels 1..K in order of first appearance, dropping nuclei of
 * fewer than 6 pixels (clipped at the border or covered). Returns K. */
static int renumber(uint16_t *lab, float *sig, int n, size_t np)
{
    int *area = calloc((size_t)n + 1, sizeof *area), *map = calloc((size_t)n + 1, sizeof *map);
    int k = 0;
    if (area && map) {
        for (size_t p = 0; p < np; p++)
            area[lab[p]]++;
        for (size_t p = 0; p < np; p++) {
            int l = lab[p];
            if (l && area[l] >= 6 && !map[l])
                map[l] = ++k;
            if (l && area[l] < 6)
                sig[p] = 0;
            lab[p] = (uint16_t)(l ? map[l] : 0);
        }
    }
    free(area), free(map);
    return k;
}

static void blur121(float *v, float *tmp, int h, int w)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const float *r = v + (size_t)y * (size_t)w;
            float l = r[x > 0 ? x - 1 : x], c = r[x], rr = r[x < w - 1 ? x + 1 : x];
            tmp[(size_t)y * (size_t)w + (size_t)x] = 0.25f * l + 0.5f * c + 0.25f * rr;
        }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float u = tmp[(size_t)(y > 0 ? y - 1 : y) * (size_t)w + (size_t)x];
            float c = tmp[(size_t)y * (size_t)w + (size_t)x];
            float d = tmp[(size_t)(y < h - 1 ? y + 1 : y) * (size_t)w + (size_t)x];
            v[(size_t)y * (size_t)w + (size_t)x] = 0.25f * u + 0.5f * c + 0.25f * d;
        }
}

static uint8_t q8(double v)
{
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    return (uint8_t)(v * 255.0 + 0.5);
}

/* Illumination, background, colour, noise -> rgb. */
static void render(uint64_t *s, const float *sig, const float *tex, int h, int w, uint8_t *rgb)
{
    int bright_field = unif(s, 0, 1) < 0.2;
    double gy = unif(s, -0.3, 0.3), gx = unif(s, -0.3, 0.3), vig = unif(s, 0.0, 0.35);
    double cy = unif(s, 0.2, 0.8) * h, cx = unif(s, 0.2, 0.8) * w, rad2 = (double)h * h + (double)w * w;
    double noise = unif(s, 0.005, 0.025);
    double col[3] = {1, 1, 1}, bg[3];
    if (bright_field) {
        double b = unif(s, 0.72, 0.9);
        bg[0] = b * unif(s, 0.95, 1.0), bg[1] = b * unif(s, 0.85, 0.95), bg[2] = b * unif(s, 0.9, 1.0);
        col[0] = unif(s, 0.6, 0.75), col[1] = unif(s, 0.7, 0.85), col[2] = unif(s, 0.3, 0.45); /* absorption */
    } else {
        double b = unif(s, 0.01, 0.1);
        bg[0] = bg[1] = bg[2] = b;
        if (unif(s, 0, 1) < 0.3) { /* tinted stain */
            int c = (int)unif(s, 0, 3);
            col[0] = col[1] = col[2] = unif(s, 0.1, 0.4);
            col[c] = 1.0;
        }
    }
    double gain = unif(s, 0.75, 1.0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t p = (size_t)y * (size_t)w + (size_t)x;
            double dy = y - cy, dx = x - cx;
            double light = 1.0 + gy * ((double)y / h - 0.5) + gx * ((double)x / w - 0.5) - vig * (dy * dy + dx * dx) / rad2 * 2;
            light = light < 0.4 ? 0.4 : light;
            double v = sig[p] * (0.8 + 0.2 * tex[p]) * gain * light;
            for (int c = 0; c < 3; c++) {
                double o = bright_field ? bg[c] * light * (1.0 - col[c] * v) : bg[c] * light + col[c] * v;
                rgb[p * 3 + (size_t)c] = q8(o + noise * gauss(s));
            }
        }
}

enum cu_status cu_synth_sample(uint64_t seed, int index, int h, int w, uint8_t *rgb, uint16_t *labels,
                               int *count, struct cu_err *err)
{
    if (h < 16 || w < 16)
        return cu_fail(err, CU_EUSAGE, "synth: image size %dx%d: at least 16x16", w, h);
    size_t np = (size_t)h * (size_t)w;
    struct nucleus *nu = malloc(sizeof *nu * MAX_NUCLEI);
    float *sig = malloc(sizeof *sig * np), *tex = malloc(sizeof *tex * np), *tmp = malloc(sizeof *tmp * np);
    enum cu_status st = CU_OK;
    if (!nu || !sig || !tex || !tmp) {
        st = cu_fail(err, CU_EDEVICE, "synth: out of memory for %dx%d", w, h);
        goto out;
    }
    uint64_t s = mix(seed, (uint64_t)index + 1, 0x5EED);
    int k = 0;
    for (int tries = 0; k == 0 && tries < 8; tries++) {
        int n = place(&s, h, w, nu);
        rasterise(nu, n, h, w, labels, sig, tmp);
        k = renumber(labels, sig, n, np);
    }
    if (k == 0) {
        st = cu_fail(err, CU_EUSAGE, "synth: %dx%d is too small for a nucleus", w, h);
        goto out;
    }
    smooth_noise(&s, h, w, 6, tex);
    smooth_noise(&s, h, w, 2, tmp);
    for (size_t p = 0; p < np; p++)
        tex[p] = 0.75f * tex[p] + 0.25f * tmp[p];
    blur121(sig, tmp, h, w);
    render(&s, sig, tex, h, w, rgb);
    *count = k;
out:
    free(nu), free(sig), free(tex), free(tmp);
    return st;
}
