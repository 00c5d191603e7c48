/* zip_read.c: one entry out of a zip archive in memory (zip_read.h).
 * Layout (PKWARE APPNOTE 6.3): local headers with the data, then the
 * central directory, then the end-of-central-directory record (EOCD), which
 * may be followed by a comment of up to 65535 bytes. */
#include "io/zip_read.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define EOCD_SIG 0x06054b50u
#define CDIR_SIG 0x02014b50u
#define LOCAL_SIG 0x04034b50u
#define EOCD_SIZE 22
#define CDIR_SIZE 46
#define LOCAL_SIZE 30
/* Deflate cannot expand data by more than about 1032:1; a larger claimed
 * size is a lie, and refusing it keeps a 100-byte file from asking for
 * gigabytes. */
#define MAX_RATIO 1040u

static uint32_t rd16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }

static uint32_t rd32(const unsigned char *p) { return rd16(p) | rd16(p + 2) << 16; }

/* Offset of the EOCD record, searched backwards over a possible comment;
 * -1 when there is none. */
static long find_eocd(const unsigned char *buf, size_t len)
{
    if (len < EOCD_SIZE)
        return -1;
    size_t lo = len - EOCD_SIZE > 65535 ? len - EOCD_SIZE - 65535 : 0;
    for (size_t i = len - EOCD_SIZE + 1; i-- > lo;)
        if (rd32(buf + i) == EOCD_SIG && i + EOCD_SIZE + rd16(buf + i + 20) == len)
            return (long)i;
    return -1;
}

struct centry {
    uint32_t flags, method, crc, csize, usize, local;
};

/* Finds name in the central directory. 1 found, 0 not there, -1 malformed. */
static int find_entry(const unsigned char *buf, size_t eocd, const char *name, struct centry *e)
{
    const unsigned char *r = buf + eocd;
    uint32_t n = rd16(r + 10), cd_size = rd32(r + 12), cd_off = rd32(r + 16);
    if (rd16(r + 4) != 0 || rd16(r + 6) != 0 || rd16(r + 8) != n || n == 0xffff || cd_off == 0xffffffffu)
        return -1; /* multi-disk or zip64 */
    if (cd_off > eocd || cd_size > eocd - cd_off)
        return -1;
    size_t p = cd_off, end = (size_t)cd_off + cd_size, name_len = strlen(name);
    for (uint32_t i = 0; i < n; i++) {
        if (end - p < CDIR_SIZE || rd32(buf + p) != CDIR_SIG)
            return -1;
        const unsigned char *h = buf + p;
        size_t nl = rd16(h + 28), total = CDIR_SIZE + nl + rd16(h + 30) + rd16(h + 32);
        if (end - p < total)
            return -1;
        if (nl == name_len && !memcmp(h + CDIR_SIZE, name, nl)) {
            *e = (struct centry){rd16(h + 8), rd16(h + 10), rd32(h + 16), rd32(h + 20), rd32(h + 24), rd32(h + 42)};
            return 1;
        }
        p += total;
    }
    return 0;
}

static int inflate_raw(const unsigned char *src, size_t n, unsigned char *dst, size_t m)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
        return -1;
    z.next_in = (unsigned char *)src; /* zlib's API is not const-correct */
    z.avail_in = (uInt)n;
    z.next_out = dst;
    z.avail_out = (uInt)m;
    int rc = inflate(&z, Z_FINISH);
    size_t got = z.total_out;
    inflateEnd(&z);
    return rc == Z_STREAM_END && got == m ? 0 : -1;
}

enum cu_status cu_zip_extract(const unsigned char *buf, size_t len, const char *name, const char *what,
                              unsigned char **out, size_t *out_len, struct cu_err *err)
{
    *out = NULL;
    *out_len = 0;
    long eocd = find_eocd(buf, len);
    if (eocd < 0)
        return cu_fail(err, CU_EINPUT, "%s: not a zip archive (no end-of-central-directory record)", what);
    struct centry e;
    int found = find_entry(buf, (size_t)eocd, name, &e);
    if (found < 0)
        return cu_fail(err, CU_EINPUT, "%s: damaged zip central directory", what);
    if (!found)
        return cu_fail(err, CU_EINPUT, "%s: no %s in the archive", what, name);
    if (e.flags & 1)
        return cu_fail(err, CU_EINPUT, "%s: %s is encrypted", what, name);
    if (e.method != 0 && e.method != 8)
        return cu_fail(err, CU_EINPUT, "%s: %s uses zip compression method %u (only stored and deflate are read)",
                       what, name, (unsigned)e.method);
    if (e.csize == 0xffffffffu || e.usize == 0xffffffffu || e.local == 0xffffffffu)
        return cu_fail(err, CU_EINPUT, "%s: %s is a zip64 entry (not supported)", what, name);
    if (e.usize > CU_ZIP_MAX_ENTRY || (e.method == 0 && e.usize != e.csize) ||
        (e.method == 8 && e.usize / MAX_RATIO > e.csize))
        return cu_fail(err, CU_EINPUT, "%s: %s: implausible size %lu", what, name, (unsigned long)e.usize);
    if (e.local > (size_t)eocd || (size_t)eocd - e.local < LOCAL_SIZE || rd32(buf + e.local) != LOCAL_SIG)
        return cu_fail(err, CU_EINPUT, "%s: %s: bad local header", what, name);
    size_t data = (size_t)e.local + LOCAL_SIZE + rd16(buf + e.local + 26) + rd16(buf + e.local + 28);
    if (data > (size_t)eocd || e.csize > (size_t)eocd - data)
        return cu_fail(err, CU_EINPUT, "%s: %s extends past the end of the archive (truncated?)", what, name);
    unsigned char *dst = malloc((size_t)e.usize + 1);
    if (!dst)
        return cu_fail(err, CU_EDEVICE, "%s: out of host memory for %s", what, name);
    int bad = e.method == 0 ? (memcpy(dst, buf + data, e.usize), 0) : inflate_raw(buf + data, e.csize, dst, e.usize);
    if (!bad && crc32(0L, dst, (uInt)e.usize) != e.crc)
        bad = 2;
    if (bad) {
        free(dst);
        return cu_fail(err, CU_EINPUT, "%s: %s: %s", what, name,
                       bad == 2 ? "CRC mismatch (damaged archive)" : "bad deflate data (damaged archive)");
    }
    dst[e.usize] = 0;
    *out = dst;
    *out_len = e.usize;
    return CU_OK;
}
