/* clock.c: the clocks of util.h. */
#include "clunet/util.h"

#include <time.h>

static double seconds(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double cu_now(void) { return seconds(CLOCK_MONOTONIC); }

double cu_cpu_now(void) { return seconds(CLOCK_PROCESS_CPUTIME_ID); }
