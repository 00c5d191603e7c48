/* num.h: the number parsers every command-line flag and configuration
 * field uses. Each takes the whole string (no leading or trailing junk, no
 * empty string), checks the range, and returns 0 with *out set, or -1
 * leaving *out alone. Messages are the caller's (src/cli/args.c). */
#ifndef CLUNET_UTIL_NUM_H
#define CLUNET_UTIL_NUM_H

#include <stdint.h>

/* A decimal integer in lo..hi (inclusive). */
int cu_parse_ll(const char *s, long long lo, long long hi, long long *out);
/* A decimal integer in 0..UINT64_MAX; a leading '-' is refused. */
int cu_parse_u64(const char *s, uint64_t *out);
/* A finite number (strtod syntax) in lo..hi; lo_open / hi_open exclude
 * that end. */
int cu_parse_double(const char *s, double lo, double hi, int lo_open, int hi_open, double *out);

#endif
