/* sha256.h: SHA-256 (FIPS 180-4) for tests that pin bytes to a committed
 * digest, e.g. the weights after a short training run. */
#ifndef CLUNET_TEST_SHA256_H
#define CLUNET_TEST_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
    uint32_t h[8];
    uint8_t block[64];
    size_t fill;    /* bytes in block */
    uint64_t total; /* bytes hashed so far */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Finishes the digest as 64 lowercase hex digits and a NUL into hex. */
void sha256_hex(struct sha256 *s, char hex[65]);

#endif
