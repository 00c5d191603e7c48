/* zip_write.c: stored zip entries (see zip_write.h). Layout (PKWARE
 * APPNOTE 4.3): per entry a local header, the name and the data; then one
 * central directory record per entry; then, past 65,535 entries, the zip64
 * end record and its locator; then the end of central directory record.
 * All fields little-endian. */
#include "io/zip_write.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v & 0xffff), put16(p + 2, v >> 16);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v), put32(p + 4, (uint32_t)(v >> 32));
}

enum cu_status cu_zip_begin(struct cu_zip *z, const char *path, struct cu_err *err)
{
    memset(z, 0, sizeof *z);
    return cu_atomic_begin(&z->a, path, err);
}

void cu_zip_abort(struct cu_zip *z)
{
    cu_atomic_abort(&z->a);
    free(z->cd);
    z->cd = NULL;
}

static enum cu_status out(struct cu_zip *z, const void *p, size_t len, struct cu_err *err)
{
    if (len && fwrite(p, 1, len, z->a.f) != len)
        return cu_fail(err, CU_EIO, "%s: write failed", z->a.path);
    z->off += len;
    return CU_OK;
}

enum cu_status cu_zip_add(struct cu_zip *z, const char *name, const void *data, size_t len, struct cu_err *err)
{
    size_t nl = strlen(name);
    if (nl > 0xffff || len > 0xfffffffeu || z->off > 0xfffffffeu)
        return cu_fail(err, CU_EIO, "%s: the ROI set is too large for a zip archive without zip64 sizes",
                       z->a.path);
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), data, (uInt)len);
    uint8_t h[30] = {0};
    put32(h, 0x04034b50);
    put16(h + 4, 20);         /* version needed: 2.0 */
    put16(h + 10, 0);         /* time 00:00 */
    put16(h + 12, 0x21);      /* date 1980-01-01 */
    put32(h + 14, crc);
    put32(h + 18, (uint32_t)len);
    put32(h + 22, (uint32_t)len);
    put16(h + 26, (unsigned)nl);
    if (z->cd_len + 46 + nl > z->cd_cap) {
        size_t nc = 2 * z->cd_cap + 46 + nl + 4096;
        uint8_t *t = realloc(z->cd, nc);
        if (!t)
            return cu_fail(err, CU_EDEVICE, "%s: out of host memory", z->a.path);
        z->cd = t, z->cd_cap = nc;
    }
    uint8_t *c = z->cd + z->cd_len;
    memset(c, 0, 46);
    put32(c, 0x02014b50);
    put16(c + 4, 20);         /* made by: MS-DOS, 2.0 */
    memcpy(c + 6, h + 4, 26); /* version needed .. name length, as the local header */
    put32(c + 42, (uint32_t)z->off);
    memcpy(c + 46, name, nl);
    z->cd_len += 46 + nl;
    z->n++;
    CU_TRY(out(z, h, sizeof h, err));
    CU_TRY(out(z, name, nl, err));
    return out(z, data, len, err);
}

enum cu_status cu_zip_finish(struct cu_zip *z, struct cu_err *err)
{
    uint64_t cd_off = z->off;
    enum cu_status st = out(z, z->cd, z->cd_len, err);
    int zip64 = z->n > 0xffff;
    if (!st && zip64) {
        uint8_t e[56 + 20] = {0};
        put32(e, 0x06064b50);
        put64(e + 4, 44);        /* size of the rest of this record */
        put16(e + 12, 45), put16(e + 14, 45);
        put64(e + 24, z->n), put64(e + 32, z->n);
        put64(e + 40, z->cd_len), put64(e + 48, cd_off);
        put32(e + 56, 0x07064b50);
        put64(e + 64, z->off);   /* where the zip64 end record starts */
        put32(e + 72, 1);        /* disks */
        st = out(z, e, sizeof e, err);
    }
    if (!st) {
        uint8_t e[22] = {0};
        put32(e, 0x06054b50);
        put16(e + 8, zip64 ? 0xffff : (unsigned)z->n);
        put16(e + 10, zip64 ? 0xffff : (unsigned)z->n);
        put32(e + 12, (uint32_t)z->cd_len);
        put32(e + 16, (uint32_t)cd_off);
        st = out(z, e, sizeof e, err);
    }
    free(z->cd);
    z->cd = NULL;
    if (st) {
        cu_atomic_abort(&z->a);
        return st;
    }
    return cu_atomic_commit(&z->a, err);
}
