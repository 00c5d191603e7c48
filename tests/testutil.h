/* testutil.h: the small toolkit every clunet test uses: one-line checks
 * that count failures, a seeded RNG, error measures, and host<->tensor
 * helpers. A test's main() ends with `return tu_finish();`, which prints
 * "N checks, M failed" and returns non-zero on any failure. */
#ifndef CLUNET_TESTUTIL_H
#define CLUNET_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "clunet/backend.h"

/* Records one check; prints "ok   what" or "FAIL what" with the message. */
int tu_check(int cond, const char *fmt, ...) CU_PRINTF(2, 3);
#define TU_CHECK(cond, ...) tu_check(!!(cond), __VA_ARGS__)
/* Fails the test (and prints err->msg) when st != CU_OK; returns st == OK. */
int tu_ok(enum cu_status st, const struct cu_err *err, const char *what);
int tu_finish(void);

/* xorshift64* generator; state must be non-zero. */
uint64_t tu_rand_u64(uint64_t *state);
float tu_rand_uniform(uint64_t *state, float lo, float hi);
void tu_fill_uniform(float *x, size_t n, uint64_t *state, float lo, float hi);

/* max |a-b| / max(|b|, floor) over n, and normalised MSE sum (a-b)^2/sum b^2. */
double tu_max_rel_err(const float *a, const float *b, size_t n, double floor);
double tu_max_abs_err(const float *a, const float *b, size_t n);
double tu_nmse(const float *a, const float *b, size_t n);

/* New tensor of shape s on be holding host (numel floats; NULL = zeros).
 * Aborts the test on failure (tests may exit). */
struct cu_tensor *tu_tensor(struct cu_backend *be, struct cu_shape s, const char *name, const float *host);
/* Downloads t into a malloc'd array (caller frees). */
float *tu_download(const struct cu_tensor *t);

/* Path under the source tree / under ../shared (from meson's test env). */
const char *tu_source_path(const char *rel);
const char *tu_shared_path(const char *rel);

/* Removes path and everything below it (no error if it is missing). */
void tu_rm_rf(const char *path);

/* Runs a shell command line, its output (what the line redirects to stdout)
 * in out, NUL-terminated and cut at size - 1; returns the exit code, or -1
 * when it could not run or died from a signal. */
int tu_run(const char *cmdline, char *out, size_t size);
/* Number of '\n' in s. */
int tu_count_lines(const char *s);
/* Entries of dir whose name starts with prefix ("" for any) and holds part
 * (e.g. ".tmp.": half-written outputs); 0 when dir cannot be read. */
int tu_count_names(const char *dir, const char *prefix, const char *part);
/* Waits (up to timeout_s, 1 ms polls) until dir/name exists while process
 * pid runs: 1 when it does, 0 when pid ended or the time ran out. */
int tu_wait_file(const char *dir, const char *name, int pid, double timeout_s);

#endif
