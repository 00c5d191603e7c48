/* test_cl_devices_cmd.c: the `clunet devices` command as a user runs it
 * (argv[1] is the built binary): the table (a header, one row per OpenCL
 * device, a ref row), `--list-devices` as an alias, `--json` (an array of
 * objects with every field, typed), `--help`, a bad option, and a machine
 * without an OpenCL ICD (OCL_ICD_VENDORS pointed at an empty folder): one
 * line saying so, ref still listed, exit 0. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl/cl_internal.h"
#include "testutil.h"

static const char *exe;

/* Runs `env exe args` with stdout+stderr in out (or only stdout); returns
 * the exit code. */
static int run(const char *env, const char *args, int with_stderr, char *out, size_t size)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s '%s' %s %s", env, exe, args, with_stderr ? "2>&1" : "2>/dev/null");
    return tu_run(cmd, out, size);
}

/* The first line of s, for a check's message. */
static const char *line1(const char *s)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%.*s", (int)strcspn(s, "\n"), s);
    return buf;
}

static void check_table(const struct cu_cl_device_info *devs, int n)
{
    static char out[65536], alias[65536];
    int rc = run("", "devices", 0, out, sizeof out);
    TU_CHECK(rc == 0, "clunet devices exits 0 (%d)", rc);
    TU_CHECK(tu_count_lines(out) == n + 2, "header + %d device rows + ref row (%d lines)", n, tu_count_lines(out));
    TU_CHECK(!strncmp(out, "id ", 3) && strstr(out, "platform") && strstr(out, "global mem") &&
                 strstr(out, "max alloc") && strstr(out, "local mem") && strstr(out, "OpenCL C") &&
                 strstr(out, "fp16") && strstr(out, "fp64") && strstr(out, "CUs") && strstr(out, "MHz"),
             "header names every column");
    const char *line = strchr(out, '\n');
    for (int i = 0; i < n && line; i++) {
        line++;
        size_t idlen = strlen(devs[i].pub.id);
        const char *end = strchr(line, '\n');
        char row[1024];
        snprintf(row, sizeof row, "%.*s", end ? (int)(end - line) : 0, line);
        TU_CHECK(!strncmp(row, devs[i].pub.id, idlen) && row[idlen] == ' ' && strstr(row, devs[i].pub.name) &&
                     strstr(row, devs[i].pub.platform_name) && strstr(row, devs[i].pub.type) && strstr(row, devs[i].pub.version),
                 "row %d: id, platform, name, type, version: %s", i + 1, row);
        line = end;
    }
    TU_CHECK(line && !strncmp(line + 1, "ref ", 4), "last row is ref");
    rc = run("", "--list-devices", 0, alias, sizeof alias);
    TU_CHECK(rc == 0 && !strcmp(out, alias), "--list-devices prints the same table");
}

static int has(json_t *o, const char *key, int type)
{
    json_t *v = json_object_get(o, key);
    return v && (type == -1 ? json_is_boolean(v) : (int)json_typeof(v) == type);
}

static void check_json(const struct cu_cl_device_info *devs, int n)
{
    static char out[65536];
    int rc = run("", "devices --json", 0, out, sizeof out);
    TU_CHECK(rc == 0, "devices --json exits 0");
    json_error_t jerr;
    json_t *a = json_loads(out, 0, &jerr);
    TU_CHECK(a && json_is_array(a), "output is a JSON array (%s)", a ? "" : jerr.text);
    if (!a || !json_is_array(a)) {
        json_decref(a);
        return;
    }
    TU_CHECK((int)json_array_size(a) == n + 1, "%d devices + ref (%zu)", n, json_array_size(a));
    for (int i = 0; i < n && i < (int)json_array_size(a); i++) {
        json_t *o = json_array_get(a, (size_t)i);
        int typed = has(o, "id", JSON_STRING) && has(o, "platform", JSON_STRING) && has(o, "name", JSON_STRING) &&
                    has(o, "type", JSON_STRING) && has(o, "compute_units", JSON_INTEGER) &&
                    has(o, "max_clock_mhz", JSON_INTEGER) && has(o, "global_mem", JSON_INTEGER) &&
                    has(o, "max_alloc", JSON_INTEGER) && has(o, "local_mem", JSON_INTEGER) &&
                    has(o, "opencl_c_version", JSON_STRING) && has(o, "fp16", -1) && has(o, "fp64", -1);
        TU_CHECK(typed && json_object_size(o) == 12, "device %d has the 12 fields, typed", i);
        if (!typed)
            continue;
        TU_CHECK(!strcmp(json_string_value(json_object_get(o, "id")), devs[i].pub.id) &&
                     !strcmp(json_string_value(json_object_get(o, "name")), devs[i].pub.name) &&
                     (uint64_t)json_integer_value(json_object_get(o, "max_alloc")) == devs[i].pub.max_alloc &&
                     (uint64_t)json_integer_value(json_object_get(o, "global_mem")) == devs[i].pub.global_mem,
                 "device %d: id, name and memory sizes match the enumeration", i);
    }
    json_t *r = json_array_get(a, json_array_size(a) - 1);
    TU_CHECK(r && has(r, "id", JSON_STRING) && !strcmp(json_string_value(json_object_get(r, "id")), "ref") &&
                 json_object_size(r) == 12 && json_is_null(json_object_get(r, "global_mem")),
             "last entry is ref, same fields, null where unknown");
    json_decref(a);
}

static void check_misc(void)
{
    static char out[65536];
    int rc = run("", "devices --help", 0, out, sizeof out);
    TU_CHECK(rc == 0 && strstr(out, "--json") && strstr(out, "--list-devices") && strstr(out, "CLUNET_NO_KERNEL_CACHE"),
             "devices --help documents --json, the alias and the cache");
    rc = run("", "devices --bogus", 1, out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, "--bogus") && tu_count_lines(out) == 1, "a bad option: exit 1, one line: %s", line1(out));
    rc = run("", "devices --open --device ref", 0, out, sizeof out);
    TU_CHECK(rc == 0 && strstr(out, "opened ref"), "devices --open --device ref opens ref");
    rc = run("CLUNET_DEVICE=no-such-device", "--device ref devices --open", 0, out, sizeof out);
    TU_CHECK(rc == 0 && strstr(out, "opened ref"), "the global --device wins over CLUNET_DEVICE: %s", line1(out));
    rc = run("CLUNET_DEVICE=ref", "devices --open", 0, out, sizeof out);
    TU_CHECK(rc == 0 && strstr(out, "opened ref"), "CLUNET_DEVICE alone chooses: %s", line1(out));
    rc = run("", "devices --open --device 0:0", 0, out, sizeof out);
    TU_CHECK(rc == 0 && !strncmp(out, "opened 0:0 ", 11) && strstr(out, "programs in"),
             "devices --open --device 0:0 opens 0:0 and reports the build");
    TU_CHECK(strstr(out, "policy: gemm ") && strstr(out, "-D CU_RED_WG=64"),
             "--open reports the policy chosen at open and the build options: %s", out);
    if (strstr(out, "policy: gemm panel, winograd by layer size")) { /* a CPU device */
        TU_CHECK(strstr(out, "(F(4x4) and F(2x2))") != NULL, "--open names the Winograd tiles: %s", out);
        rc = run("CLUNET_WINO_TILE=2", "devices --open --device 0:0", 0, out, sizeof out);
        TU_CHECK(rc == 0 && strstr(out, "(F(2x2) only)"), "CLUNET_WINO_TILE=2 keeps F(2x2): %s", out);
    }
    rc = run("", "--list-devices --json", 0, out, sizeof out);
    json_t *j = json_loads(out, 0, NULL);
    TU_CHECK(rc == 0 && json_is_array(j), "--list-devices --json is JSON");
    json_decref(j);
    rc = run("", "--help", 0, out, sizeof out);
    TU_CHECK(rc == 0 && strstr(out, "--no-kernel-cache"), "clunet --help documents --no-kernel-cache");

    /* No ICD: the loader reads its vendor list from an empty folder. */
    char dir[] = "/tmp/clunet-noicd-XXXXXX", env[128];
    TU_CHECK(mkdtemp(dir) != NULL, "temp folder");
    snprintf(env, sizeof env, "OCL_ICD_VENDORS='%s'", dir);
    rc = run(env, "devices", 1, out, sizeof out);
    TU_CHECK(rc == 0, "no ICD: exit 0 (%d)", rc);
    TU_CHECK(tu_count_lines(out) == 3 && strstr(out, "no OpenCL platform") && strstr(out, "ICD"),
             "no ICD: one line saying so, then the header and ref (%d lines)", tu_count_lines(out));
    const char *last = strstr(out, "\nref ");
    TU_CHECK(last != NULL, "no ICD: ref is still listed");
    rc = run(env, "devices --json", 0, out, sizeof out);
    json_t *a = json_loads(out, 0, NULL);
    TU_CHECK(rc == 0 && a && json_array_size(a) == 1, "no ICD: --json is [ref] on stdout");
    json_decref(a);
    rc = run(env, "--device gpu devices --open", 1, out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, "no OpenCL platform") && tu_count_lines(out) == 1,
             "no ICD: --device gpu fails with exit 1 saying why: %s", line1(out));
    rc = run(env, "devices --open", 1, out, sizeof out);
    TU_CHECK(rc == 0 && strstr(out, "opened ref"), "no ICD: the default falls back to ref: %s", line1(out));
    rmdir(dir);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_cl_devices_cmd PATH/TO/clunet\n");
        return 1;
    }
    exe = argv[1];
    struct cu_err err = {0};
    struct cu_cl_device_info *devs = NULL;
    int n = 0;
    tu_ok(cu_cl_devices(&devs, &n, NULL, &err), &err, "enumerate");
    TU_CHECK(n >= 1, "OpenCL devices installed: %d", n);
    check_table(devs, n);
    check_json(devs, n);
    check_misc();
    free(devs);
    return tu_finish();
}
