/* tiff_meta.c: what ImageJ and OME-XML image descriptions say about a
 * TIFF's pages: how many channels, z-slices and time points, in which
 * order, and the pixel size. Plain string parsing, no libtiff (so it can
 * be fuzzed and tested alone).
 *
 * ImageJ ("ImageJ=1.x\nimages=N\nchannels=C\nslices=Z\nframes=T\n
 * unit=micron\n..."): pages are stored channel fastest, then slice, then
 * frame (ImageJ's CZT order); the pixel size is the resolution tags read
 * in `unit`s. OME-XML: the first <Pixels> element's SizeC/SizeZ/SizeT,
 * DimensionOrder (e.g. XYCZT: C fastest) and PhysicalSizeX/Y with their
 * units (default micrometre); IFDs are taken in that order from the first
 * (TiffData remapping is not followed).
 *
 * Not here: reading pages (tiff_read.c). */
#include "io/image_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The integer after "\n<key>=" (or at the start), else def. */
static long ij_int(const char *d, const char *key, long def)
{
    size_t k = strlen(key);
    for (const char *p = d; (p = strstr(p, key)); p += k)
        if ((p == d || p[-1] == '\n') && p[k] == '=') {
            char *end;
            long v = strtol(p + k + 1, &end, 10);
            return end != p + k + 1 ? v : def;
        }
    return def;
}

/* Micrometres per unit named by s (ImageJ's unit=, OME's *Unit), 0 if unknown. */
static double unit_um(const char *s, size_t n)
{
    static const struct {
        const char *name;
        double um;
    } u[] = {{"micron", 1}, {"um", 1}, {"\xc2\xb5m", 1}, {"\\u00B5m", 1}, {"\xce\xbcm", 1}, {"nm", 1e-3},
             {"mm", 1e3},   {"cm", 1e4}, {"m", 1e6}};
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
        if (strlen(u[i].name) == n && !strncmp(s, u[i].name, n))
            return u[i].um;
    return 0;
}

/* The value of attribute name="..." inside the element starting at el
 * (up to its '>'); copies at most cap-1 bytes to out. 1 if found. */
static int xml_attr(const char *el, const char *name, char *out, size_t cap)
{
    const char *end = strchr(el, '>');
    size_t k = strlen(name);
    for (const char *p = el; (p = strstr(p, name)) && (!end || p < end); p += k) {
        if ((p[-1] != ' ' && p[-1] != '\n' && p[-1] != '\t' && p[-1] != '\r') || p[k] != '=' ||
            (p[k + 1] != '"' && p[k + 1] != '\''))
            continue;
        const char *v = p + k + 2, *q = strchr(v, p[k + 1]);
        if (!q || (end && q > end))
            return 0;
        size_t n = (size_t)(q - v) < cap - 1 ? (size_t)(q - v) : cap - 1;
        memcpy(out, v, n);
        out[n] = '\0';
        return 1;
    }
    return 0;
}

static int parse_imagej(const char *d, struct cu_tiff_meta *m)
{
    m->kind = CU_TIFF_IMAGEJ;
    m->c = ij_int(d, "channels", 1), m->z = ij_int(d, "slices", 1), m->t = ij_int(d, "frames", 1);
    long images = ij_int(d, "images", m->c * m->z * m->t);
    if (m->c < 1 || m->z < 1 || m->t < 1 || m->c > 1 << 16 || m->z > 1 << 24 || m->t > 1 << 24 ||
        m->c * m->z * m->t != images)
        return -1;
    strcpy(m->order, "CZT");
    const char *u = strstr(d, "\nunit=");
    if (u) {
        u += 6;
        m->unit_um = unit_um(u, strcspn(u, "\n"));
    }
    return 0;
}

static int parse_ome(const char *d, struct cu_tiff_meta *m)
{
    const char *px = strstr(d, "<Pixels ");
    if (!px)
        px = strstr(d, ":Pixels ");
    if (!px)
        return -1;
    m->kind = CU_TIFF_OME;
    char v[64];
    long n[3] = {1, 1, 1};
    const char *names[3] = {"SizeC", "SizeZ", "SizeT"};
    for (int i = 0; i < 3; i++)
        if (xml_attr(px, names[i], v, sizeof v))
            n[i] = strtol(v, NULL, 10);
    m->c = n[0], m->z = n[1], m->t = n[2];
    if (m->c < 1 || m->z < 1 || m->t < 1 || m->c > 1 << 16 || m->z > 1 << 24 || m->t > 1 << 24 ||
        (long long)m->c * m->z * m->t > 1 << 24)
        return -1;
    strcpy(m->order, "CZT");
    if (xml_attr(px, "DimensionOrder", v, sizeof v)) {
        if (strlen(v) != 5 || strncmp(v, "XY", 2))
            return -1;
        memcpy(m->order, v + 2, 3);
        m->order[3] = '\0';
        if (!strchr(m->order, 'C') || !strchr(m->order, 'Z') || !strchr(m->order, 'T'))
            return -1;
    }
    const char *an[2] = {"PhysicalSizeX", "PhysicalSizeY"}, *un[2] = {"PhysicalSizeXUnit", "PhysicalSizeYUnit"};
    double *dst[2] = {&m->um_x, &m->um_y};
    for (int i = 0; i < 2; i++) {
        if (!xml_attr(px, an[i], v, sizeof v))
            continue;
        double s = strtod(v, NULL), f = 1;
        if (xml_attr(px, un[i], v, sizeof v))
            f = unit_um(v, strlen(v));
        *dst[i] = s > 0 && f > 0 ? s * f : 0;
    }
    return 0;
}

int cu_tiff_meta_parse(const char *desc, struct cu_tiff_meta *m)
{
    memset(m, 0, sizeof *m);
    m->c = m->z = m->t = 1;
    strcpy(m->order, "CZT");
    if (!desc)
        return 0;
    if (!strncmp(desc, "ImageJ=", 7))
        return parse_imagej(desc, m);
    const char *x = desc;
    while (*x == ' ' || *x == '\n' || *x == '\r' || *x == '\t')
        x++;
    if (*x == '<' && strstr(x, "<OME"))
        return parse_ome(x, m);
    return 0;
}

long cu_tiff_meta_ifd(const struct cu_tiff_meta *m, long c, long page)
{
    long z = page % m->z, t = page / m->z, idx[3], size[3];
    for (int i = 0; i < 3; i++) {
        char d = m->order[i];
        idx[i] = d == 'C' ? c : d == 'Z' ? z : t;
        size[i] = d == 'C' ? m->c : d == 'Z' ? m->z : m->t;
    }
    return idx[0] + size[0] * (idx[1] + size[1] * idx[2]);
}
