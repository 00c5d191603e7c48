/* bench_startup.c: cold and warm start-up of `clunet bench`: the time from
 * opening the device to the end of the first kernel (a 256-element ReLU,
 * uploaded, run and synced), in two fresh clunet processes that share a
 * new, empty cache folder (XDG_CACHE_HOME for clunet's kernel binaries,
 * POCL_CACHE_DIR for PoCL's compiled work-group functions, CUDA_CACHE_PATH
 * for NVIDIA's): the first starts cold and fills the caches, the second
 * starts warm from them, whatever state the user's own caches are in.
 * Fresh processes, because PoCL reads its cache folder once per process;
 * fork + exec of /proc/self/exe (`clunet bench --startup-child SPEC`,
 * cu_bench_startup_child), because the child of a process whose OpenCL
 * runtime already runs (e.g. after `--devices all` was resolved) may hang:
 * between fork and exec the child calls nothing but async-signal-safe
 * functions. The child writes its report to its stdout, a pipe; a child
 * silent for 10 minutes is killed. Not here: process start itself (exec,
 * dynamic linking: not timed) and the first training step (src/bench.c). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench_impl.h"
#include "io/remove_tree.h"
#include "clunet/ops.h"

/* A cold start compiles every kernel: tens of seconds on a loaded CPU, far
 * less than this; past it the child is taken for hung and killed. */
#define CHILD_TIMEOUT_S 600

struct startup_msg {
    int ok;
    int status; /* the child's enum cu_status when !ok: an unknown device is usage (1), as everywhere */
    double open_s, first_s;
    char text[1024]; /* the error, when !ok (struct cu_err.msg; under PIPE_BUF in all) */
};

/* The measurement: open, then the first kernel. */
static void measure(const char *spec, struct startup_msg *m)
{
    struct cu_err err = {0};
    struct cu_backend *be = NULL;
    struct cu_tensor *x = NULL, *y = NULL;
    double t0 = cu_bench_now();
    enum cu_status st = cu_backend_open(spec, &be, &err);
    m->open_s = cu_bench_now() - t0;
    if (!st)
        st = cu_bench_tensor_rand(be, (struct cu_shape){1, 1, 16, 16}, "x", 1, 1.0f, &x, &err);
    if (!st)
        st = cu_tensor_new(be, (struct cu_shape){1, 1, 16, 16}, "y", &y, &err);
    if (!st)
        st = cu_relu_forward(be, y, x, &err);
    if (!st)
        st = cu_backend_sync(be, &err);
    m->first_s = cu_bench_now() - t0;
    m->ok = st == CU_OK;
    m->status = (int)st;
    if (st)
        snprintf(m->text, sizeof m->text, "%s", err.msg);
    cu_tensor_free(x);
    cu_tensor_free(y);
    cu_backend_free(be);
}

int cu_bench_startup_child(const char *spec)
{
    struct startup_msg m = {0};
    measure(spec && *spec ? spec : NULL, &m);
    ssize_t w = write(STDOUT_FILENO, &m, sizeof m);
    return w == (ssize_t)sizeof m ? 0 : 1;
}

/* The environment of a child: the parent's, with the three cache variables
 * pointing under dir (built before the fork: the child only execs). */
static char **child_env(const char *dir)
{
    extern char **environ;
    static const char *vars[] = {"XDG_CACHE_HOME=", "POCL_CACHE_DIR=", "CUDA_CACHE_PATH="};
    static const char *sub[] = {"", "/pocl", "/nv"};
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 4, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int ours = 0;
        for (int v = 0; v < 3; v++)
            ours |= !strncmp(environ[i], vars[v], strlen(vars[v]));
        if (!ours)
            env[k++] = environ[i];
    }
    for (int v = 0; v < 3; v++) {
        size_t len = strlen(vars[v]) + strlen(dir) + strlen(sub[v]) + 1;
        char *e = malloc(len);
        if (!e)
            break;
        snprintf(e, len, "%s%s%s", vars[v], dir, sub[v]);
        env[k++] = e;
    }
    return env;
}

static void child_env_free(char **env)
{
    size_t n = 0;
    while (env[n])
        n++;
    for (size_t i = n >= 3 ? n - 3 : 0; i < n; i++) /* the three added last */
        free(env[i]);
    free(env);
}

/* One child with the caches under dir; *m filled from its report. */
static enum cu_status run_child(const char *spec, const char *dir, struct startup_msg *m, struct cu_err *err)
{
    int fd[2];
    char **env = child_env(dir);
    char *argv[] = {"clunet", "bench", "--startup-child", (char *)(spec ? spec : ""), NULL};
    if (!env)
        return cu_fail(err, CU_EDEVICE, "bench: out of host memory");
    if (pipe(fd)) {
        child_env_free(env);
        return cu_fail(err, CU_EDEVICE, "bench: start-up: pipe: %s", strerror(errno));
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        child_env_free(env);
        return cu_fail(err, CU_EDEVICE, "bench: start-up: fork: %s", strerror(errno));
    }
    if (pid == 0) { /* async-signal-safe calls only, up to the exec */
        close(fd[0]);
        if (dup2(fd[1], STDOUT_FILENO) >= 0) {
            close(fd[1]);
            execve("/proc/self/exe", argv, env);
        }
        _exit(127);
    }
    close(fd[1]);
    child_env_free(env);
    memset(m, 0, sizeof *m);
    size_t got = 0;
    int timed_out = 0;
    while (got < sizeof *m) { /* read to EOF before waiting: the child may block on a full pipe */
        struct pollfd pfd = {fd[0], POLLIN, 0};
        int pr = poll(&pfd, 1, CHILD_TIMEOUT_S * 1000);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0) { /* a hung child */
            kill(pid, SIGKILL);
            timed_out = 1;
            break;
        }
        ssize_t n = read(fd[0], (char *)m + got, sizeof *m - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (timed_out)
        return cu_fail(err, CU_EDEVICE, "bench: start-up: the child process did not report within %d s "
                       "(use --no-startup)", CHILD_TIMEOUT_S);
    if (got != sizeof *m)
        return cu_fail(err, CU_EDEVICE, "bench: start-up: the child process (/proc/self/exe bench --startup-child) "
                       "ended without a report (status %d)", status);
    if (!m->ok)
        return cu_fail(err, m->status >= CU_EUSAGE && m->status <= CU_EIO ? (enum cu_status)m->status : CU_EDEVICE,
                       "%s", m->text);
    return CU_OK;
}

enum cu_status cu_bench_startup_run(const char *spec, struct cu_bench_result *r, struct cu_err *err)
{
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/clunet-bench-cache-XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return cu_fail(err, CU_EIO, "bench: %s: cannot create a temporary cache folder: %s", dir, strerror(errno));
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/pocl", dir);
    mkdir(sub, 0700);
    fflush(NULL); /* nothing buffered twice */
    struct startup_msg cold, warm;
    enum cu_status st = run_child(spec, dir, &cold, err);
    if (!st)
        st = run_child(spec, dir, &warm, err);
    cu_remove_tree(dir);
    if (st)
        return st;
    r->startup = 1;
    r->cold_open_s = cold.open_s;
    r->cold_first_s = cold.first_s;
    r->warm_open_s = warm.open_s;
    r->warm_first_s = warm.first_s;
    return CU_OK;
}
