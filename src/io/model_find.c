/* model_find.c: the model search path and fresh output folders
 * (include/clunet/model_find.h). */
#define _XOPEN_SOURCE 700 /* realpath */
#include "clunet/model_find.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/clunet_paths.h"

static int is_file(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Whether the running binary lies inside the build tree it was built in
 * (then the source tree's models/ is the one that goes with it). */
static int running_from_build_tree(void)
{
    char exe[PATH_MAX], root[PATH_MAX];
    if (!realpath("/proc/self/exe", exe) || !realpath(CU_BUILD_ROOT, root))
        return 0;
    size_t n = strlen(root);
    return strncmp(exe, root, n) == 0 && exe[n] == '/';
}

int cu_model_dirs(const char *dirs[CU_MODEL_DIRS_MAX], const char *why[CU_MODEL_DIRS_MAX])
{
    static char env_copy[4096], user[PATH_MAX];
    int n = 0;
    const char *env = getenv("CLUNET_MODELS");
    if (env && *env) {
        snprintf(env_copy, sizeof env_copy, "%s", env);
        char *save = NULL;
        for (char *d = strtok_r(env_copy, ":", &save); d && n < CU_MODEL_DIRS_MAX - 3; d = strtok_r(NULL, ":", &save))
            dirs[n] = d, why[n++] = "CLUNET_MODELS";
    }
    if (running_from_build_tree())
        dirs[n] = CU_MODELS_SOURCE_DIR, why[n++] = "source tree";
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (xdg && *xdg == '/')
        snprintf(user, sizeof user, "%s/clunet/models", xdg);
    else
        snprintf(user, sizeof user, "%s/.local/share/clunet/models", home && *home ? home : "");
    if (user[0] == '/')
        dirs[n] = user, why[n++] = "user";
    dirs[n] = CU_MODELS_INSTALL_DIR, why[n++] = "installed";
    return n;
}

static enum cu_status from_run_dir(const char *dir, char *path, size_t len, struct cu_err *err)
{
    snprintf(path, len, "%s/best.safetensors", dir);
    if (is_file(path))
        return CU_OK;
    snprintf(path, len, "%s/model.safetensors", dir);
    if (is_file(path))
        return CU_OK;
    return cu_fail(err, CU_EINPUT, "%s: a folder without best.safetensors or model.safetensors (not a run folder)",
                   dir);
}

enum cu_status cu_model_resolve(const char *spec, char *path, size_t len, int *by_name, struct cu_err *err)
{
    const char *name = spec ? spec : CU_DEFAULT_MODEL;
    if (by_name)
        *by_name = 0;
    if (!*name)
        return cu_fail(err, CU_EUSAGE, "an empty model name");
    if (is_file(name)) {
        snprintf(path, len, "%s", name);
        return CU_OK;
    }
    if (is_dir(name))
        return from_run_dir(name, path, len, err);
    if (strchr(name, '/'))
        return cu_fail(err, CU_EINPUT, "%s: no such model file or run folder", name);
    const char *dirs[CU_MODEL_DIRS_MAX], *why[CU_MODEL_DIRS_MAX];
    int n = cu_model_dirs(dirs, why);
    const char *ext = cu_is_model_path(name) ? "" : ".safetensors";
    char searched[1024] = "";
    for (int i = 0; i < n; i++) {
        snprintf(path, len, "%s/%s%s", dirs[i], name, ext);
        if (is_file(path)) {
            if (by_name)
                *by_name = 1;
            return CU_OK;
        }
        size_t o = strlen(searched);
        snprintf(searched + o, sizeof searched - o, "%s%s", i ? ", " : "", dirs[i]);
    }
    return cu_fail(err, CU_EINPUT, "%s: no model of that name (looked for %s%s in %s; `clunet models` lists them)",
                   name, name, ext, searched);
}

int cu_is_model_path(const char *s)
{
    size_t n = strlen(s);
    return n > 12 && !strcmp(s + n - 12, ".safetensors");
}

enum cu_status cu_new_out_dir(const char *prefix, char *out, size_t len, struct cu_err *err)
{
    time_t now = time(NULL);
    struct tm tm;
    char stamp[32];
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    for (int k = 1; k <= 100; k++) {
        if (k == 1)
            snprintf(out, len, "%s-%s", prefix, stamp);
        else
            snprintf(out, len, "%s-%s-%d", prefix, stamp, k);
        if (mkdir(out, 0777) == 0)
            return CU_OK;
        if (errno != EEXIST)
            return cu_fail(err, CU_EIO, "%s: cannot create the output folder: %s", out, strerror(errno));
    }
    return cu_fail(err, CU_EIO, "%s: cannot create a new output folder (100 of that name exist)", out);
}
