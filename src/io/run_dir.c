/* run_dir.c: the run folder (see run_dir.h): create or refuse, atomic
 * writes through a temporary name in the same folder, whole-file reads. */
#include "io/run_dir.h"
#include "io/dir_lock.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clunet/util.h"
#include "io/atomic_file.h"

static const char *const run_files[] = {
    CU_RUN_MODEL, CU_RUN_BEST, CU_RUN_CHECKPOINT, CU_RUN_HISTORY_CSV, CU_RUN_HISTORY_SVG, CU_RUN_LOG, CU_RUN_REPORT,
};

enum cu_status cu_run_dir_path(char *buf, size_t size, const char *dir, const char *name, struct cu_err *err)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size)
        return cu_fail(err, CU_EUSAGE, "%s: path too long", dir);
    return CU_OK;
}

/* mkdir -p, with *made = 1 when dir itself was made by this call (not by
 * another process at the same time). */
static enum cu_status make_dirs(const char *dir, int *made, struct cu_err *err)
{
    char parent[4096];
    int n = snprintf(parent, sizeof parent, "%s", dir);
    if (n < 0 || (size_t)n >= sizeof parent)
        return cu_fail(err, CU_EUSAGE, "%s: path too long", dir);
    while (n > 1 && parent[n - 1] == '/')
        parent[--n] = '\0';
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        CU_TRY(cu_mkdir_p(parent, 0777, err));
    }
    *made = mkdir(dir, 0777) == 0;
    if (!*made && errno != EEXIST)
        return cu_fail(err, CU_EIO, "%s: cannot create folder: %s", dir, strerror(errno));
    return CU_OK;
}

/* 1 when file is "<run file>.tmp.<anything>" or ".<run file>.tmp.<anything>". */
static int stale_tmp(const char *file)
{
    const char *f = file[0] == '.' ? file + 1 : file;
    for (size_t i = 0; i < sizeof run_files / sizeof run_files[0]; i++) {
        size_t n = strlen(run_files[i]);
        if (strncmp(f, run_files[i], n) == 0 && strncmp(f + n, ".tmp.", 5) == 0)
            return 1;
    }
    return 0;
}

/* Removes the entries of dir that is_tmp calls temp files. */
static void clean_in(const char *dir, int (*is_tmp)(const char *))
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (is_tmp(e->d_name) && n > 0 && (size_t)n < sizeof path)
            unlink(path);
    }
    closedir(d);
}

/* The report's pictures (report/valN.png) are written the same way. */
static int report_tmp(const char *file) { return strstr(file, ".png.tmp.") != NULL; }

void cu_run_dir_clean_tmp(const char *dir)
{
    clean_in(dir, stale_tmp);
    char sub[4096];
    int n = snprintf(sub, sizeof sub, "%s/report", dir);
    if (n > 0 && (size_t)n < sizeof sub)
        clean_in(sub, report_tmp);
}

enum cu_status cu_run_dir_create(const char *dir, int force, int *made, int *lock_fd, struct cu_err *err)
{
    *made = 0;
    *lock_fd = -1;
    if (!dir || !*dir)
        return cu_fail(err, CU_EUSAGE, "no run folder given (--out DIR)");
    struct stat sb;
    if (stat(dir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode))
            return cu_fail(err, CU_EUSAGE, "%s: exists and is not a folder", dir);
        if (!force)
            return cu_fail(err, CU_EUSAGE,
                           "%s: run folder already exists; use --force to overwrite it or --resume %s to continue",
                           dir, dir);
        CU_TRY(cu_dir_lock(dir, lock_fd, err)); /* never delete the files of a run that is still going */
        for (size_t i = 0; i < sizeof run_files / sizeof run_files[0]; i++) {
            char path[4096];
            enum cu_status st = cu_run_dir_path(path, sizeof path, dir, run_files[i], err);
            if (st)
                return st;
            if (unlink(path) != 0 && errno != ENOENT)
                return cu_fail(err, CU_EIO, "%s: cannot remove: %s", path, strerror(errno));
        }
        cu_run_dir_clean_tmp(dir);
        return CU_OK;
    }
    if (errno != ENOENT)
        return cu_fail(err, CU_EIO, "%s: %s", dir, strerror(errno));
    CU_TRY(make_dirs(dir, made, err));
    return cu_dir_lock(dir, lock_fd, err);
}

enum cu_status cu_run_dir_write(const char *dir, const char *name, int (*fill)(FILE *f, void *ctx), void *ctx,
                                struct cu_err *err)
{
    char path[4096];
    enum cu_status st = cu_run_dir_path(path, sizeof path, dir, name, err);
    return st ? st : cu_atomic_write_with(path, 1, fill, ctx, err); /* the run folder is durable */
}

enum cu_status cu_run_dir_write_bytes(const char *dir, const char *name, const void *data, size_t len,
                                      struct cu_err *err)
{
    char path[4096];
    enum cu_status st = cu_run_dir_path(path, sizeof path, dir, name, err);
    return st ? st : cu_atomic_write(path, 1, data, len, err);
}

enum cu_status cu_run_dir_read(const char *dir, const char *name, char **data, size_t *len, struct cu_err *err)
{
    char path[4096];
    enum cu_status st = cu_run_dir_path(path, sizeof path, dir, name, err);
    if (st)
        return st;
    return cu_read_file(path, data, len, err);
}
