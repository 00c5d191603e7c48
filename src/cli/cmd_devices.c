/* cmd_devices.c: `clunet devices` (also `clunet --list-devices`): one row
 * per OpenCL device plus the ref backend, as a table or as JSON; with
 * --open, opens the selected device as training would (kernels built or
 * loaded from the cache) and reports how long that took. Enumeration lives
 * in src/cl/cl_device.c; this file only formats. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/cl.h"
#include "cli/args.h"
#include "clunet/backend.h"
#include "clunet/cli.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: clunet devices [--json] [--open [--device SPEC]]   (also: clunet --list-devices)\n\n"
            "Lists every OpenCL device of every installed platform, and the pure-C\n"
            "reference backend `ref`: id (platform:device, as --device takes it), platform,\n"
            "name, type, compute units, max clock (MHz), global memory, largest single\n"
            "buffer, local memory, OpenCL C version, fp16 and fp64 support. With no\n"
            "OpenCL platform (no ICD installed) it says so and lists only ref.\n\n"
            "  --json         the same as a JSON array of objects (byte sizes as\n"
            "                 integers; null where ref has no such property)\n"
            "  --open         open the selected device as `clunet train` would, build or\n"
            "                 load its kernels, and print the time that took and the\n"
            "                 kernel cache use; a kernel build failure prints the build\n"
            "                 log and exits 3\n"
            "  --device SPEC  the device for --open (as the global --device; also\n"
            "                 CLUNET_DEVICE): ref, an id (0:1), a case-insensitive name\n"
            "                 substring, or gpu/cpu/accelerator. Default: first GPU, else\n"
            "                 first OpenCL device, else ref\n"
            "  -q, --quiet    accepted, as by every command (the list is the output)\n"
            "  -h, --help     this help\n\n"
            "Kernel cache: compiled kernels are kept in $XDG_CACHE_HOME/clunet (else\n"
            "~/.cache/clunet); `clunet --no-kernel-cache` or CLUNET_NO_KERNEL_CACHE=1\n"
            "turns it off. Entries are checked on load and rebuilt when damaged;\n"
            "deleting the folder is always safe. CLUNET_CL_DIR=DIR builds DIR/<name>.cl\n"
            "instead of the kernels embedded in the binary (kernel development).\n");
    fprintf(f, "\n");
    cu_cli_exit_codes(f);
}

/* "4.57 GiB", "1.00 MiB", "512 B". */
static void human(uint64_t bytes, char *buf, size_t size)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, size, "%llu B", (unsigned long long)bytes);
    else
        snprintf(buf, size, "%.2f %s", v, units[u]);
}

#define NCOL 12
static const char *const heads[NCOL] = {"id",        "platform",  "name",      "type",     "CUs",  "MHz",
                                        "global mem", "max alloc", "local mem", "OpenCL C", "fp16", "fp64"};

static void device_row(const struct cu_device_info *d, char cells[NCOL][128])
{
    snprintf(cells[0], 128, "%s", d->id);
    snprintf(cells[1], 128, "%s", d->platform_name);
    snprintf(cells[2], 128, "%s", d->name);
    snprintf(cells[3], 128, "%s", d->type);
    snprintf(cells[4], 128, "%u", d->compute_units);
    snprintf(cells[5], 128, "%u", d->max_clock_mhz);
    human(d->global_mem, cells[6], 128);
    human(d->max_alloc, cells[7], 128);
    human(d->local_mem, cells[8], 128);
    snprintf(cells[9], 128, "%s", d->version);
    snprintf(cells[10], 128, "%s", d->fp16 ? "yes" : "no");
    snprintf(cells[11], 128, "%s", d->fp64 ? "yes" : "no");
}

static void ref_row(char cells[NCOL][128])
{
    static const char *const ref[NCOL] = {"ref", "clunet", "reference backend (plain C on the host)",
                                          "host", "-", "-", "-", "-", "-", "-", "no", "yes"};
    for (int i = 0; i < NCOL; i++)
        snprintf(cells[i], 128, "%s", ref[i]);
}

static void print_table(const struct cu_device_info *devs, int n)
{
    char(*rows)[NCOL][128] = calloc((size_t)n + 2, sizeof *rows);
    if (!rows)
        return;
    for (int c = 0; c < NCOL; c++)
        snprintf(rows[0][c], 128, "%s", heads[c]);
    for (int i = 0; i < n; i++)
        device_row(&devs[i], rows[i + 1]);
    ref_row(rows[n + 1]);
    int width[NCOL] = {0};
    for (int r = 0; r < n + 2; r++)
        for (int c = 0; c < NCOL; c++) {
            int len = (int)strlen(rows[r][c]);
            width[c] = len > width[c] ? len : width[c];
        }
    for (int r = 0; r < n + 2; r++) {
        for (int c = 0; c < NCOL; c++)
            printf("%-*s%s", c == NCOL - 1 ? 0 : width[c], rows[r][c], c == NCOL - 1 ? "\n" : "  ");
    }
    free(rows);
}

static json_t *device_json(const struct cu_device_info *d)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(d->id));
    json_object_set_new(o, "platform", json_string(d->platform_name));
    json_object_set_new(o, "name", json_string(d->name));
    json_object_set_new(o, "type", json_string(d->type));
    json_object_set_new(o, "compute_units", json_integer(d->compute_units));
    json_object_set_new(o, "max_clock_mhz", json_integer(d->max_clock_mhz));
    json_object_set_new(o, "global_mem", json_integer((json_int_t)d->global_mem));
    json_object_set_new(o, "max_alloc", json_integer((json_int_t)d->max_alloc));
    json_object_set_new(o, "local_mem", json_integer((json_int_t)d->local_mem));
    json_object_set_new(o, "opencl_c_version", json_string(d->version));
    json_object_set_new(o, "fp16", json_boolean(d->fp16));
    json_object_set_new(o, "fp64", json_boolean(d->fp64));
    return o;
}

static json_t *ref_json(void)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string("ref"));
    json_object_set_new(o, "platform", json_string("clunet"));
    json_object_set_new(o, "name", json_string("reference backend (plain C on the host)"));
    json_object_set_new(o, "type", json_string("host"));
    static const char *const unknown[] = {"compute_units", "max_clock_mhz",  "global_mem",
                                          "max_alloc",     "local_mem", "opencl_c_version"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        json_object_set_new(o, unknown[i], json_null());
    json_object_set_new(o, "fp16", json_false());
    json_object_set_new(o, "fp64", json_true());
    return o;
}

static int print_json(const struct cu_device_info *devs, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, device_json(&devs[i]));
    json_array_append_new(a, ref_json());
    char *text = json_dumps(a, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(a);
    if (!text) {
        fprintf(stderr, "clunet: devices: out of host memory formatting JSON\n");
        return CU_EDEVICE;
    }
    printf("%s\n", text);
    free(text);
    return 0;
}

/* --open: the start-up a command pays, made visible. */
static int open_selected(void)
{
    struct cu_err err = {0};
    struct cu_backend *be = NULL;
    if (cu_backend_open(cu_cli_device(), &be, &err))
        return cu_cli_report(&err);
    if (cu_backend_kind(be) != CU_BACKEND_CL) {
        printf("opened ref (reference backend, no kernels to build)\n");
        cu_backend_free(be);
        return 0;
    }
    struct cu_cl_report r;
    cu_cl_report(be, &r);
    printf("opened %s %s (%s)\n", r.id, r.name, r.platform);
    printf("kernels: %d programs in %.3f s; cache %s: %d hits, %d misses (%d rejected)\n", r.programs,
           r.build_seconds, !r.cache_on ? "off" : r.cache_dir[0] ? r.cache_dir : "unavailable", r.cache_hits,
           r.cache_misses, r.cache_rejected);
    if (r.cache_note[0])
        printf("kernel cache: %s\n", r.cache_note);
    static const char *const wino[3] = {"off", "by layer size", "all 3x3 layers"};
    printf("policy: gemm %s, winograd %s%s, direct dW %s; vector width %u (%s tiles), work-group <= %zu, local "
           "memory %llu KiB\n",
           r.gemm, !strcmp(r.gemm, "panel") ? wino[r.winograd] : "off (needs the panel GEMM)",
           !strcmp(r.gemm, "panel") && r.winograd ? r.wino_tile == 4 ? " (F(4x4) and F(2x2))" : " (F(2x2) only)" : "",
           !strcmp(r.gemm, "panel") && r.dw_direct ? "on" : "off", r.vector_width,
           r.wide_tiles ? "8x32" : "8x16", r.max_work_group, (unsigned long long)(r.local_mem / 1024));
    printf("build options: %s\n", r.options);
    cu_backend_free(be);
    return 0;
}

int cu_cmd_devices(int argc, char **argv)
{
    enum { O_JSON = CU_ARG_LONG, O_OPEN, O_DEVICE };
    static const struct cu_opt opts[] = {
        {"json", O_JSON, 0}, {"open", O_OPEN, 0}, {"device", O_DEVICE, 1},
        {"quiet", 'q', 0},   {"help", 'h', 0},    {NULL, 0, 0},
    };
    struct cu_err aerr = {0};
    struct cu_args a;
    cu_args_init(&a, "devices", argc, argv, opts, &aerr);
    int json = 0, open = 0, key;
    while ((key = cu_args_next(&a)) > 0) {
        switch (key) {
        case O_JSON: json = 1; break;
        case O_OPEN: open = 1; break;
        case O_DEVICE: cu_cli_set_device(a.val); break; /* as the global flag does */
        case 'q': break; /* the list is the output */
        case 'h': help(stdout); return 0;
        case CU_ARG_POS: cu_arg_extra(&a); break;
        }
        if (aerr.status)
            break;
    }
    if (aerr.status)
        return cu_cli_report(&aerr);
    if (open)
        return open_selected();
    struct cu_err err = {0};
    struct cu_device_info *devs = NULL;
    int n = 0;
    const char *why = NULL;
    if (cu_device_list(&devs, &n, &why, &err))
        return cu_cli_report(&err);
    if (why)
        fprintf(json ? stderr : stdout, "%s; only ref is available\n", why);
    int rc = json ? print_json(devs, n) : (print_table(devs, n), 0);
    free(devs);
    return rc;
}
