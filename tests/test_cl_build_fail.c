/* test_cl_build_fail.c: kernel development through CLUNET_CL_DIR, run as a
 * user would (argv[1] is the clunet binary): a copy of cl/ builds and runs;
 * the same copy with a compile error in act.cl fails with exit 3, a first
 * line naming the file, the device and the options, then the compiler's
 * build log; a missing file in the folder is a bad-input error (exit 2).
 * The cache stays on (a broken source must never be served from it). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl/cl_internal.h"
#include "testutil.h"

static char root[64], cldir[128];

static int copy_file(const char *from, const char *to, const char *append)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    int ok = in && out;
    char buf[4096];
    for (size_t n; ok && (n = fread(buf, 1, sizeof buf, in)) > 0;)
        ok = fwrite(buf, 1, n, out) == n;
    if (ok && append)
        ok = fputs(append, out) >= 0;
    if (in)
        fclose(in);
    if (out && fclose(out))
        ok = 0;
    return ok;
}

/* Copies every .cl of the source tree's cl/ into cldir; act.cl gets
 * `append` at its end. Returns how many files. */
static int copy_cl(const char *append)
{
    const char *src = tu_source_path("cl");
    DIR *d = opendir(src);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".cl"))
            continue;
        char from[1024], to[1024];
        snprintf(from, sizeof from, "%s/%s", src, e->d_name);
        snprintf(to, sizeof to, "%s/%s", cldir, e->d_name);
        n += copy_file(from, to, strcmp(e->d_name, "act.cl") ? NULL : append);
    }
    if (d)
        closedir(d);
    return n;
}

static int run(const char *exe, char *out, size_t size)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "CLUNET_CL_DIR='%s' XDG_CACHE_HOME='%s' '%s' --device cpu devices --open 2>&1", cldir,
             root, exe);
    return tu_run(cmd, out, size);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_cl_build_fail PATH/TO/clunet\n");
        return 1;
    }
    const char *exe = argv[1];
    snprintf(root, sizeof root, "/tmp/clunet-cldir-XXXXXX");
    if (!mkdtemp(root))
        return tu_check(0, "mkdtemp"), tu_finish();
    snprintf(cldir, sizeof cldir, "%s/cl", root);
    TU_CHECK(mkdir(cldir, 0700) == 0, "made %s", cldir);

    /* The name the message must carry. */
    struct cu_err err = {0};
    struct cu_cl_device_info *devs = NULL;
    int n = 0, idx = -1;
    tu_ok(cu_cl_devices(&devs, &n, NULL, &err), &err, "enumerate");
    tu_ok(cu_cl_device_pick("cpu", devs, n, NULL, &idx, &err), &err, "pick cpu");
    char device[128] = "?";
    int major = 0, minor = 0;
    if (idx >= 0) {
        snprintf(device, sizeof device, "%s", devs[idx].pub.name);
        sscanf(devs[idx].pub.version, "OpenCL C %d.%d", &major, &minor);
    }
    int wants_std = major * 100 + minor >= 102;
    free(devs);

    static char out[65536];
    int files = copy_cl(NULL);
    TU_CHECK(files >= 1, "copied %d .cl files", files);
    int rc = run(exe, out, sizeof out);
    TU_CHECK(rc == 0 && strstr(out, "opened"), "an intact copy builds (exit %d)", rc);

    /* A kernel using an undeclared name: every OpenCL compiler rejects it
     * and names the identifier in its log. */
    copy_cl("\n__kernel void cu_act_broken(__global float *y)\n{\n    y[0] = clunet_undeclared_name;\n}\n");
    rc = run(exe, out, sizeof out);
    /* PoCL's compiler writes its own "1 error generated." to stderr first:
     * clunet's line is the one that starts with "clunet: ". */
    const char *line = strncmp(out, "clunet: ", 8) ? strstr(out, "\nclunet: ") : out - 1;
    line = line ? line + 1 : "";
    char first[1024];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(line, "\n"), line);
    char want[512];
    snprintf(want, sizeof want, "clunet: %s/act.cl on %s (", cldir, device);
    TU_CHECK(rc == 3, "a broken act.cl exits 3 (%d)", rc);
    TU_CHECK(!strncmp(first, want, strlen(want)) && strstr(first, "): build failed"),
             "clunet's line names the file, the device and the options: %s", first);
    TU_CHECK((strstr(first, "(-cl-std=CL1.2 ") != NULL) == wants_std,
             "-cl-std=CL1.2 shown exactly when the device reports OpenCL C >= 1.2 (%d.%d)", major, minor);
    TU_CHECK(strstr(first, "-D CU_RED_WG=64") && strstr(first, "-D CU_GEMM_TN=16") &&
                 strstr(first, "-D CU_WINO_SKEW=16)"),
             "the kernel constants of src/cl/cl_consts.h go to the build as -D options");
    const char *log = strchr(line, '\n');
    TU_CHECK(log && strstr(log, "clunet_undeclared_name"), "the build log follows, naming the error");
    TU_CHECK(tu_count_lines(out) >= 2, "the log is below the one-line message (%d lines)", tu_count_lines(out));

    /* Fixed again: the cache never kept the broken build. */
    copy_cl(NULL);
    rc = run(exe, out, sizeof out);
    TU_CHECK(rc == 0, "fixed act.cl builds again (exit %d)", rc);

    char gone[256];
    snprintf(gone, sizeof gone, "%s/act.cl", cldir);
    remove(gone);
    rc = run(exe, out, sizeof out);
    TU_CHECK(rc == 2 && strstr(out, "act.cl") && strstr(out, "CLUNET_CL_DIR") && tu_count_lines(out) == 1,
             "a missing file: exit 2, one line naming it (%d): %s", rc, out);

    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return tu_finish();
}
