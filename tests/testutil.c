/* testutil.c: see testutil.h. */
#include "testutil.h"

#include "io/remove_tree.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int n_checks, n_failed;

int tu_check(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", cond ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    n_checks++;
    if (!cond)
        n_failed++;
    return cond;
}

int tu_ok(enum cu_status st, const struct cu_err *err, const char *what)
{
    if (st == CU_OK)
        return 1;
    return tu_check(0, "%s: status %d: %s", what, (int)st, err ? err->msg : "");
}

int tu_finish(void)
{
    printf("%d checks, %d failed\n", n_checks, n_failed);
    return n_failed ? 1 : (n_checks ? 0 : 1);
}

uint64_t tu_rand_u64(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

float tu_rand_uniform(uint64_t *s, float lo, float hi)
{
    double u = (double)(tu_rand_u64(s) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(lo + (hi - lo) * u);
}

void tu_fill_uniform(float *x, size_t n, uint64_t *s, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = tu_rand_uniform(s, lo, hi);
}

double tu_max_rel_err(const float *a, const float *b, size_t n, double floor)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]) / fmax(fabs((double)b[i]), floor);
        if (!(d <= m)) /* NaN propagates */
            m = d;
    }
    return m;
}

double tu_max_abs_err(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m))
            m = d;
    }
    return m;
}

double tu_nmse(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        num += d * d;
        den += (double)b[i] * (double)b[i];
    }
    return den > 0 ? num / den : num;
}

struct cu_tensor *tu_tensor(struct cu_backend *be, struct cu_shape s, const char *name, const float *host)
{
    struct cu_err err = {0};
    struct cu_tensor *t = NULL;
    if (cu_tensor_new(be, s, name, &t, &err) || (host && cu_tensor_upload(t, host, &err))) {
        fprintf(stderr, "FAIL tensor %s: %s\n", name, err.msg);
        exit(1);
    }
    return t;
}

float *tu_download(const struct cu_tensor *t)
{
    struct cu_err err = {0};
    float *h = malloc(cu_tensor_numel(t) * sizeof *h);
    if (!h || cu_tensor_download(t, h, &err)) {
        fprintf(stderr, "FAIL download %s: %s\n", t->name, err.msg);
        exit(1);
    }
    return h;
}

static const char *join(const char *env, const char *fallback, const char *rel)
{
    static char buf[4][1024];
    static int k;
    const char *root = getenv(env);
    char *b = buf[k++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", root ? root : fallback, rel);
    return b;
}

const char *tu_source_path(const char *rel) { return join("CLUNET_SOURCE_ROOT", ".", rel); }
const char *tu_shared_path(const char *rel) { return join("CLUNET_SHARED", "../shared", rel); }

void tu_rm_rf(const char *path) { cu_remove_tree(path); }

int tu_run(const char *cmdline, char *out, size_t size)
{
    FILE *p = popen(cmdline, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int rc = pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int tu_count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

int tu_count_names(const char *dir, const char *prefix, const char *part)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0 && strstr(e->d_name, part) != NULL;
    if (d)
        closedir(d);
    return n;
}

int tu_wait_file(const char *dir, const char *name, int pid, double timeout_s)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    for (int i = 0; i < (int)(timeout_s * 1000); i++) {
        struct stat sb;
        if (stat(path, &sb) == 0)
            return 1;
        if (waitpid(pid, NULL, WNOHANG) != 0)
            return 0;
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    return 0;
}
