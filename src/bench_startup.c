/* bench_startup.c: cold and warm start-up of `clunet bench`: the time from
 * opening the device to the end of the first kernel (a 256-element ReLU,
 * uploaded, run and synced), in two fresh child processes that share a new,
 * empty cache folder (XDG_CACHE_HOME for clunet's kernel binaries,
 * POCL_CACHE_DIR for PoCL's compiled work-group functions, CUDA_CACHE_PATH
 * for NVIDIA's): the first child starts cold and fills the caches, the
 * second starts warm from them, whatever state the user's own caches are
 * in. Children, not this process, because PoCL reads its cache folder once
 * per process and the OpenCL runtime must not be forked once started: so
 * this runs before the parent touches OpenCL. A child reports through a
 * pipe and leaves with _exit (no atexit handlers, no stdio flush: the
 * parent's buffers are not its own). Not here: process start itself
 * (exec, dynamic linking) and the first training step (src/bench.c). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_impl.h"
#include "clunet/ops.h"

struct startup_msg {
    int ok;
    double open_s, first_s;
    char text[1024]; /* the error, when !ok (struct cu_err.msg; under PIPE_BUF in all) */
};

/* rm -rf path (no symlinks followed); best effort: a benchmark's temp folder. */
static void remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb))
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            size_t n = strlen(path) + strlen(e->d_name) + 2;
            char *sub = malloc(n);
            if (sub) {
                snprintf(sub, n, "%s/%s", path, e->d_name);
                remove_tree(sub);
                free(sub);
            }
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else
        unlink(path);
}

/* The child's measurement: open, then the first kernel. */
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
    if (st)
        snprintf(m->text, sizeof m->text, "%s", err.msg);
    cu_tensor_free(x);
    cu_tensor_free(y);
    cu_backend_free(be);
}

/* One child with the caches under dir; *m filled from its report. */
static enum cu_status run_child(const char *spec, const char *dir, struct startup_msg *m, struct cu_err *err)
{
    int fd[2];
    if (pipe(fd))
        return cu_fail(err, CU_EDEVICE, "bench: start-up: pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return cu_fail(err, CU_EDEVICE, "bench: start-up: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        char path[4200];
        struct startup_msg cm = {0};
        close(fd[0]);
        setenv("XDG_CACHE_HOME", dir, 1);
        snprintf(path, sizeof path, "%s/pocl", dir);
        mkdir(path, 0700);
        setenv("POCL_CACHE_DIR", path, 1);
        snprintf(path, sizeof path, "%s/nv", dir);
        setenv("CUDA_CACHE_PATH", path, 1);
        measure(spec, &cm);
        ssize_t w = write(fd[1], &cm, sizeof cm);
        close(fd[1]);
        _exit(w == (ssize_t)sizeof cm ? 0 : 1);
    }
    close(fd[1]);
    memset(m, 0, sizeof *m);
    size_t got = 0;
    while (got < sizeof *m) { /* read to EOF before waiting: the child may block on a full pipe */
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
    if (got != sizeof *m)
        return cu_fail(err, CU_EDEVICE, "bench: start-up: the child process ended without a report (status %d)",
                       status);
    if (!m->ok)
        return cu_fail(err, CU_EDEVICE, "%s", m->text);
    return CU_OK;
}

enum cu_status cu_bench_startup_run(const char *spec, struct cu_bench_result *r, struct cu_err *err)
{
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/clunet-bench-cache-XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return cu_fail(err, CU_EIO, "bench: %s: cannot create a temporary cache folder: %s", dir, strerror(errno));
    fflush(NULL); /* nothing buffered twice, whatever the child does */
    struct startup_msg cold, warm;
    enum cu_status st = run_child(spec, dir, &cold, err);
    if (!st)
        st = run_child(spec, dir, &warm, err);
    remove_tree(dir);
    if (st)
        return st;
    r->startup = 1;
    r->cold_open_s = cold.open_s;
    r->cold_first_s = cold.first_s;
    r->warm_open_s = warm.open_s;
    r->warm_first_s = warm.first_s;
    return CU_OK;
}
