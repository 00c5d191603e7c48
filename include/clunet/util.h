/* util.h: the small helpers every layer of clunet uses, each defined once
 * (src/util/): number parsing, folders and whole files, hashing, the
 * random generator and clocks. Atomic writes are io/atomic_file.h.
 * Nothing here prints; failures are return values or a struct cu_err. */
#ifndef CLUNET_UTIL_H
#define CLUNET_UTIL_H

#include <stdio.h>

#include <stddef.h>
#include <stdint.h>

#include "clunet/status.h"

/* ---- numbers (num.c) ----
 * Each takes the whole string (no empty string, no leading space or
 * trailing junk), checks the range, and returns 0 with *out set, or -1
 * leaving *out alone. */
int cu_parse_ll(const char *s, long long lo, long long hi, long long *out);
/* 0..UINT64_MAX; a leading '-' is refused. */
int cu_parse_u64(const char *s, uint64_t *out);
/* A finite number in lo..hi; lo_open / hi_open exclude that end. */
int cu_parse_double(const char *s, double lo, double hi, int lo_open, int hi_open, double *out);

/* ---- files and folders (fs.c) ---- */
/* mkdir -p with mode (& ~umask) for each missing component; CU_EIO
 * "<component>: cannot create folder: <why>". */
enum cu_status cu_mkdir_p(const char *dir, unsigned mode, struct cu_err *err);
/* The whole file, malloc'd with a 0 byte after its *len bytes (len may be
 * NULL); CU_EINPUT "<path>: <why>" when it cannot be read, CU_EDEVICE when
 * out of host memory. */
enum cu_status cu_read_file(const char *path, char **data, size_t *len, struct cu_err *err);

/* ---- hashing and random numbers (hash.c) ---- */
/* FNV-1a (64-bit) of n bytes, continuing from h; start from CU_FNV1A_INIT. */
#define CU_FNV1A_INIT 0xcbf29ce484222325ULL
uint64_t cu_fnv1a(uint64_t h, const void *p, size_t n);
/* splitmix64: advances *state and returns the next 64 random bits. The
 * generator of every seeded draw in clunet (weights, shuffles,
 * augmentation), so a seed gives the same run on every machine. */
uint64_t cu_rand_next(uint64_t *state);

/* ---- clocks (clock.c) ---- */
/* Seconds on the monotonic clock (for durations). */
double cu_now(void);
/* Seconds of the process's CPU time, all threads. */
double cu_cpu_now(void);

/* Writes s as one CSV field: quoted (quotes doubled) when it holds a
 * comma, a quote or a line break, as RFC 4180 says. */
void cu_csv_field(FILE *f, const char *s);

#endif
