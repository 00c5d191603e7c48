/* fuzz_seeds_keras.c: seeds of the zip and keras_config fuzz targets
 * (fuzz.h). Zip seeds are small archives written here (stored and deflate
 * entries, a comment, a near miss); configuration seeds are the model
 * configurations of the committed Keras fixtures (datasets/fixtures/keras:
 * Keras 3 config.json, bilinear and transposed, and Keras 2's model_config
 * attribute), read from the source tree ($CLUNET_SOURCE_ROOT, else the
 * current folder, where tools/fuzz runs), plus a few hand-made ones. */
#include "fuzz.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "io/zip_read.h"

static int put(const char *dir, const char *name, const void *data, size_t n)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f)
        return 0;
    int ok = fwrite(data, 1, n, f) == n;
    ok &= fclose(f) == 0;
    return ok;
}

static void le(unsigned char *p, uint32_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

struct zip {
    unsigned char buf[8192], cdir[2048];
    size_t n, nc;
    int count;
};

/* Appends an entry (method 0 stored, 8 deflate) with its central record. */
static void zip_add(struct zip *z, const char *name, const char *text, int method)
{
    size_t nl = strlen(name), ul = strlen(text);
    unsigned char data[2048];
    size_t cl = ul;
    if (method == 8) {
        z_stream s;
        memset(&s, 0, sizeof s);
        deflateInit2(&s, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        s.next_in = (unsigned char *)text, s.avail_in = (uInt)ul;
        s.next_out = data, s.avail_out = sizeof data;
        deflate(&s, Z_FINISH);
        cl = s.total_out;
        deflateEnd(&s);
    } else {
        memcpy(data, text, ul);
    }
    uint32_t crc = (uint32_t)crc32(0L, (const unsigned char *)text, (uInt)ul);
    unsigned char *h = z->buf + z->n, *c = z->cdir + z->nc;
    memset(h, 0, 30);
    le(h, 0x04034b50u, 4), le(h + 4, 20, 2), le(h + 8, (uint32_t)method, 2), le(h + 14, crc, 4);
    le(h + 18, (uint32_t)cl, 4), le(h + 22, (uint32_t)ul, 4), le(h + 26, (uint32_t)nl, 2);
    memcpy(h + 30, name, nl);
    memcpy(h + 30 + nl, data, cl);
    memset(c, 0, 46);
    le(c, 0x02014b50u, 4), le(c + 4, 20, 2), le(c + 6, 20, 2), le(c + 10, (uint32_t)method, 2);
    le(c + 16, crc, 4), le(c + 20, (uint32_t)cl, 4), le(c + 24, (uint32_t)ul, 4), le(c + 28, (uint32_t)nl, 2);
    le(c + 42, (uint32_t)z->n, 4);
    memcpy(c + 46, name, nl);
    z->n += 30 + nl + cl;
    z->nc += 46 + nl;
    z->count++;
}

/* Appends the central directory and the end record; returns the size. */
static size_t zip_end(struct zip *z, const char *comment)
{
    size_t off = z->n, cm = strlen(comment);
    memcpy(z->buf + z->n, z->cdir, z->nc);
    z->n += z->nc;
    unsigned char *e = z->buf + z->n;
    memset(e, 0, 22);
    le(e, 0x06054b50u, 4), le(e + 8, (uint32_t)z->count, 2), le(e + 10, (uint32_t)z->count, 2);
    le(e + 12, (uint32_t)z->nc, 4), le(e + 16, (uint32_t)off, 4), le(e + 20, (uint32_t)cm, 2);
    memcpy(e + 22, comment, cm);
    z->n += 22 + cm;
    return z->n;
}

static int seeds_zip(const char *dir)
{
    static const char cfg[] = "{\"class_name\": \"Functional\", \"config\": {\"layers\": []}}";
    static const char meta[] = "{\"keras_version\": \"3.15.1\", \"date_saved\": \"2026-01-01@00:00:00\"}";
    static const char h5[] = "\x89HDF\r\n\x1a\n and some bytes that repeat, repeat, repeat, repeat";
    int n = 0;
    struct zip z = {0};
    zip_add(&z, "metadata.json", meta, 0);
    zip_add(&z, "config.json", cfg, 8);
    zip_add(&z, "model.weights.h5", h5, 8);
    n += put(dir, "keras", z.buf, zip_end(&z, ""));
    memset(&z, 0, sizeof z);
    zip_add(&z, "config.json", cfg, 0);
    zip_add(&z, "model.weights.h5", h5, 0);
    n += put(dir, "stored-comment", z.buf, zip_end(&z, "a comment after the end record"));
    z.buf[30 + strlen("config.json") + 3] ^= 1; /* CRC mismatch */
    n += put(dir, "bad-crc", z.buf, z.n);
    memset(&z, 0, sizeof z);
    n += put(dir, "empty", z.buf, zip_end(&z, ""));
    return n;
}

static unsigned char *slurp(const char *rel, size_t *len)
{
    const char *root = getenv("CLUNET_SOURCE_ROOT");
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", root ? root : ".", rel);
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = sz > 0 ? malloc((size_t)sz) : NULL;
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)sz;
    return b;
}

/* config.json of a .keras fixture as a seed; 1 when written. */
static int keras_config_seed(const char *dir, const char *name, const char *fixture)
{
    size_t len = 0, cl = 0;
    unsigned char *buf = slurp(fixture, &len), *cfg = NULL;
    struct cu_err err = {0};
    int ok = buf && !cu_zip_extract(buf, len, "config.json", fixture, &cfg, &cl, &err) && put(dir, name, cfg, cl);
    free(buf);
    free(cfg);
    return ok;
}

/* The model_config attribute of a Keras 2 .h5 fixture as a seed. */
static int h5_config_seed(const char *dir, const char *name, const char *fixture)
{
    const char *root = getenv("CLUNET_SOURCE_ROOT");
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", root ? root : ".", fixture);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t a = f >= 0 ? H5Aopen(f, "model_config", H5P_DEFAULT) : H5I_INVALID_HID;
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    char *s = NULL;
    int ok = a >= 0 && H5Aread(a, t, &s) >= 0 && s && put(dir, name, s, strlen(s));
    if (s)
        H5free_memory(s);
    H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    if (f >= 0)
        H5Fclose(f);
    return ok;
}

static int seeds_keras_config(const char *dir)
{
    int n = 0;
    n += keras_config_seed(dir, "keras3", "datasets/fixtures/keras/unet_k3.keras");
    n += keras_config_seed(dir, "keras3-transposed", "datasets/fixtures/keras/unet_k3_transposed.keras");
    n += keras_config_seed(dir, "keras3-tanh", "datasets/fixtures/keras/bad_activation.keras");
    n += h5_config_seed(dir, "keras2", "datasets/fixtures/keras/unet_k2.h5");
    static const char *const small[] = {
        "{\"class_name\": \"Sequential\", \"config\": {\"layers\": []}}",
        "{\"class_name\": \"Functional\", \"config\": {\"layers\": [{\"class_name\": \"Dropout\", \"name\": \"d\", "
        "\"config\": {}, \"inbound_nodes\": [[[\"d\", 0, 0, {}]]]}], \"input_layers\": [[\"d\", 0, 0]], "
        "\"output_layers\": [[\"d\", 0, 0]]}}",
    };
    for (size_t i = 0; i < sizeof small / sizeof *small; i++) {
        char name[32];
        snprintf(name, sizeof name, "small-%zu", i);
        n += put(dir, name, small[i], strlen(small[i]));
    }
    return n;
}

int fz_seeds_keras(const char *target, const char *dir)
{
    return !strcmp(target, "zip") ? seeds_zip(dir) : seeds_keras_config(dir);
}
