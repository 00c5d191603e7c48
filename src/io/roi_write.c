/* roi_write.c: ImageJ ROI sets (export.h). Each ROI is ImageJ's RoiEncoder
 * layout, big-endian: a 64-byte header ("Iout", version 228, type 0 =
 * polygon, top/left/bottom/right of the bounds, vertex count, options at
 * 50, header2 offset at 60), the x then the y coordinates as 16-bit
 * offsets from left/top, with SUB_PIXEL_RESOLUTION (option 128) the same
 * coordinates as absolute 32-bit floats, then header2 (64 bytes, name
 * offset at 16 and length at 20) and the name in UTF-16BE. The set is a
 * zip of "<label>.roi" entries (zip_write.c). */
#include <stdlib.h>
#include <string.h>

#include "clunet/export.h"
#include "io/zip_write.h"

static void be16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
    be16(p, v >> 16), be16(p + 2, v & 0xffff);
}

static void bef32(uint8_t *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, sizeof v);
    be32(p, v);
}

/* Encodes one polygon (xy: n vertex pairs) named name into buf (grown as
 * needed); returns its length, 0 when out of memory. */
static size_t encode(const int *xy, long n, const char *name, uint8_t **buf, size_t *cap)
{
    int x0 = xy[0], y0 = xy[1], x1 = xy[0], y1 = xy[1];
    for (long i = 1; i < n; i++) {
        x0 = xy[2 * i] < x0 ? xy[2 * i] : x0, x1 = xy[2 * i] > x1 ? xy[2 * i] : x1;
        y0 = xy[2 * i + 1] < y0 ? xy[2 * i + 1] : y0, y1 = xy[2 * i + 1] > y1 ? xy[2 * i + 1] : y1;
    }
    int sub = x1 > 32767 || y1 > 32767;
    size_t nl = strlen(name);
    size_t coords = 64 + 4 * (size_t)n + (sub ? 8 * (size_t)n : 0);
    size_t len = coords + 64 + 2 * nl;
    if (len > *cap) {
        uint8_t *t = realloc(*buf, len);
        if (!t)
            return 0;
        *buf = t, *cap = len;
    }
    uint8_t *b = *buf;
    memset(b, 0, len);
    memcpy(b, "Iout", 4);
    be16(b + 4, 228);
    b[6] = 0; /* polygon */
    be16(b + 8, (unsigned)y0 & 0xffff), be16(b + 10, (unsigned)x0 & 0xffff);
    be16(b + 12, (unsigned)y1 & 0xffff), be16(b + 14, (unsigned)x1 & 0xffff);
    be16(b + 16, (unsigned)n);
    be16(b + 50, sub ? 128 : 0);
    be32(b + 60, (uint32_t)coords);
    for (long i = 0; i < n; i++) {
        be16(b + 64 + 2 * i, (unsigned)(xy[2 * i] - x0) & 0xffff);
        be16(b + 64 + 2 * (n + i), (unsigned)(xy[2 * i + 1] - y0) & 0xffff);
        if (sub) {
            bef32(b + 64 + 4 * n + 4 * i, (float)xy[2 * i]);
            bef32(b + 64 + 8 * n + 4 * i, (float)xy[2 * i + 1]);
        }
    }
    uint8_t *h2 = b + coords;
    be32(h2 + 16, (uint32_t)(coords + 64));
    be32(h2 + 20, (uint32_t)nl);
    for (size_t k = 0; k < nl; k++)
        be16(h2 + 64 + 2 * k, (unsigned char)name[k]);
    return len;
}

enum cu_status cu_roi_zip_write(const char *path, const struct cu_outlines *o, struct cu_err *err)
{
    for (int i = 0; i < o->n; i++)
        if (o->start[i + 1] - o->start[i] > 65535)
            return cu_fail(err, CU_EIO, "%s: nucleus %ld has an outline of %ld vertices, over the 65,535 an ImageJ "
                           "polygon ROI holds", path, (long)o->label[i], o->start[i + 1] - o->start[i]);
    struct cu_zip z;
    CU_TRY(cu_zip_begin(&z, path, err));
    uint8_t *buf = NULL;
    size_t cap = 0;
    enum cu_status st = CU_OK;
    for (int i = 0; i < o->n && !st; i++) {
        char name[32], entry[40];
        snprintf(name, sizeof name, "%ld", (long)o->label[i]);
        snprintf(entry, sizeof entry, "%s.roi", name);
        size_t len = encode(o->xy + 2 * o->start[i], o->start[i + 1] - o->start[i], name, &buf, &cap);
        st = len ? cu_zip_add(&z, entry, buf, len, err) : cu_fail(err, CU_EDEVICE, "%s: out of host memory", path);
    }
    free(buf);
    if (st) {
        cu_zip_abort(&z);
        return st;
    }
    return cu_zip_finish(&z, err);
}
