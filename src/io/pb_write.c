/* pb_write.c: protobuf wire-format writer (pb_write.h). */
#include "io/pb_write.h"

#include <stdlib.h>
#include <string.h>

static void put(struct cu_pb *b, const void *data, size_t n)
{
    if (b->oom)
        return;
    if (n > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->n < n) {
            if (cap > SIZE_MAX / 2) {
                b->oom = 1;
                return;
            }
            cap *= 2;
        }
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void varint(struct cu_pb *b, uint64_t v)
{
    unsigned char t[10];
    int n = 0;
    do {
        t[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    put(b, t, (size_t)n);
}

static void tag(struct cu_pb *b, int field, int wire) { varint(b, (uint64_t)field << 3 | (uint64_t)wire); }

void cu_pb_free(struct cu_pb *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void cu_pb_int(struct cu_pb *b, int field, int64_t v)
{
    tag(b, field, 0);
    varint(b, (uint64_t)v);
}

void cu_pb_float(struct cu_pb *b, int field, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    unsigned char t[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16),
                          (unsigned char)(u >> 24)};
    tag(b, field, 5);
    put(b, t, 4);
}

void cu_pb_bytes(struct cu_pb *b, int field, const void *data, size_t n)
{
    tag(b, field, 2);
    varint(b, n);
    put(b, data, n);
}

void cu_pb_str(struct cu_pb *b, int field, const char *s) { cu_pb_bytes(b, field, s, strlen(s)); }

void cu_pb_msg(struct cu_pb *b, int field, struct cu_pb *sub)
{
    if (sub->oom)
        b->oom = 1;
    cu_pb_bytes(b, field, sub->p ? sub->p : (const unsigned char *)"", sub->n);
    cu_pb_free(sub);
}
