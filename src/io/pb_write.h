/* pb_write.h: the protocol-buffer wire format, enough to write ONNX files:
 * varints (wire type 0), 32-bit floats (5) and length-delimited fields (2),
 * appended to a growable buffer. A nested message is built in its own
 * buffer and appended with cu_pb_msg. Allocation failure is sticky
 * (oom), checked once at the end. Repeated scalars are written unpacked,
 * one tag each, which every protobuf reader accepts. */
#ifndef CLUNET_IO_PB_WRITE_H
#define CLUNET_IO_PB_WRITE_H

#include <stddef.h>
#include <stdint.h>

struct cu_pb {
    unsigned char *p;
    size_t n, cap;
    int oom;
};

void cu_pb_free(struct cu_pb *b);
/* Field number field, varint value (negative values as 10-byte two's
 * complement, as protobuf's int64 does). */
void cu_pb_int(struct cu_pb *b, int field, int64_t v);
void cu_pb_float(struct cu_pb *b, int field, float v);
void cu_pb_bytes(struct cu_pb *b, int field, const void *data, size_t n);
void cu_pb_str(struct cu_pb *b, int field, const char *s);
/* Appends sub as a length-delimited field and frees sub. */
void cu_pb_msg(struct cu_pb *b, int field, struct cu_pb *sub);

#endif
