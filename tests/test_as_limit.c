/* test_as_limit.c: train and bench under an address-space limit (ulimit
 * -v, as batch schedulers set it) on the OpenCL CPU device: a
 * configuration that cannot fit stops before allocating with exit 3 and
 * one line naming the limit, and leaves no run folder; a small one still
 * runs under the same limit. Built only without sanitizers (they reserve
 * terabytes of address space and cannot start under such a limit).
 * Usage: test_as_limit CLUNET */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bad_input_util.h"
#include "testutil.h"
#include "train_fixture.h"

/* 1.9 GiB: PoCL starts in well under half of it (measured: 400 MB is
 * enough); -s 256 --batch 16 at c=0.5 needs about 2.6 GiB. */
#define LIMIT_KIB "2000000"

int main(int argc, char **argv)
{
    if (argc != 2)
        return fprintf(stderr, "usage: test_as_limit CLUNET\n"), 1;
    const char *exe = argv[1];
    char *t = tf_tmpdir("aslimit");
    char tmp[1000], logp[1100], data[1100], run[1100], small[1100], cmd[8192], out[4096];
    snprintf(tmp, sizeof tmp, "%s", t);
    free(t);
    snprintf(logp, sizeof logp, "%s/log.txt", tmp);
    snprintf(data, sizeof data, "%s/data", tmp);
    snprintf(run, sizeof run, "%s/run", tmp);
    snprintf(small, sizeof small, "%s/small", tmp);
    bi_init(exe, tmp, logp);
    TU_CHECK(tf_make_dataset(data, 4, 24, 20, 3) == 0, "tiny dataset written");

    snprintf(cmd, sizeof cmd,
             "ulimit -v " LIMIT_KIB "; exec '%s' --device cpu train --data '%s' -s 256 -c 0.5 --batch 16 -e 1 -q "
             "--out '%s' 2>&1",
             exe, data, run);
    int rc = tu_run(cmd, out, sizeof out), lines = tu_count_lines(out);
    out[strcspn(out, "\n")] = '\0';
    struct stat sb;
    TU_CHECK(rc == 3 && lines == 1 && strstr(out, "clunet: ") && strstr(out, "address-space limit") &&
                 strstr(out, "--batch") && stat(run, &sb) != 0,
             "train beyond the address-space limit: exit 3, one line, no run folder (%d: %s)", rc, out);
    bi_table_line(rc, "train under an address-space limit (ulimit -v) too small for the configuration", out);

    snprintf(cmd, sizeof cmd,
             "ulimit -v " LIMIT_KIB "; exec '%s' --device cpu bench -s 256 -c 0.5 --batch 16 --steps 1 --no-startup "
             "--no-layers --no-gemm 2>&1",
             exe);
    rc = tu_run(cmd, out, sizeof out), lines = tu_count_lines(out);
    out[strcspn(out, "\n")] = '\0';
    TU_CHECK(rc == 3 && lines == 1 && strstr(out, "clunet: ") && strstr(out, "address-space limit"),
             "bench beyond the address-space limit: exit 3, one line (%d: %s)", rc, out);
    bi_table_line(rc, "bench under an address-space limit (ulimit -v) too small for the configuration", out);

    snprintf(cmd, sizeof cmd,
             "ulimit -v " LIMIT_KIB "; exec '%s' --device cpu train --data '%s' -s 32 -c 0.125 --batch 2 -e 1 -q "
             "--out '%s' 2>&1",
             exe, data, small);
    rc = tu_run(cmd, out, sizeof out);
    TU_CHECK(rc == 0 && stat(small, &sb) == 0, "a small configuration trains under the same limit (%d: %s)", rc, out);
    tf_rmtree(tmp);
    return tu_finish();
}
