/* cl_device.c: the device layer's enumeration and choice: every device of
 * every platform the ICD loader knows, described in struct
 * cu_cl_device_info, and the --device spec that picks one of them.
 * Leaves out contexts and queues (cl_backend.c) and printing the table
 * (cmd_devices.c). */
#include "cl_internal.h"

#include <CL/cl_ext.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Drivers pad some strings with spaces (Intel's device names). */
static void trim(char *s)
{
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    size_t lead = strspn(s, " \t");
    if (lead)
        memmove(s, s + lead, len - lead + 1);
}

static void device_str(cl_device_id d, cl_device_info what, char *buf, size_t size)
{
    buf[0] = '\0';
    if (clGetDeviceInfo(d, what, size, buf, NULL) != CL_SUCCESS)
        snprintf(buf, size, "?");
    buf[size - 1] = '\0';
    trim(buf);
}

static uint64_t device_u64(cl_device_id d, cl_device_info what)
{
    cl_ulong v = 0;
    return clGetDeviceInfo(d, what, sizeof v, &v, NULL) == CL_SUCCESS ? (uint64_t)v : 0;
}

static unsigned device_uint(cl_device_id d, cl_device_info what)
{
    cl_uint v = 0;
    return clGetDeviceInfo(d, what, sizeof v, &v, NULL) == CL_SUCCESS ? (unsigned)v : 0;
}

/* Whether the device's extension list holds ext as a whole word. */
static int has_extension(cl_device_id d, const char *ext)
{
    size_t size = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &size) != CL_SUCCESS || size == 0)
        return 0;
    char *list = malloc(size + 1);
    if (!list)
        return 0;
    int found = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, size, list, NULL) == CL_SUCCESS) {
        list[size] = '\0';
        size_t n = strlen(ext);
        for (const char *p = strstr(list, ext); p && !found; p = strstr(p + 1, ext))
            found = (p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0');
    }
    free(list);
    return found;
}

static const char *type_name(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU)
        return "gpu";
    if (t & CL_DEVICE_TYPE_CPU)
        return "cpu";
    if (t & CL_DEVICE_TYPE_ACCELERATOR)
        return "accelerator";
    return "other";
}

static void describe(struct cu_cl_device_info *di, cl_platform_id p, cl_device_id d, int pi, int dj)
{
    memset(di, 0, sizeof *di);
    snprintf(di->pub.id, sizeof di->pub.id, "%d:%d", pi, dj);
    di->platform = p;
    di->device = d;
    if (clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof di->pub.platform_name, di->pub.platform_name, NULL) != CL_SUCCESS)
        snprintf(di->pub.platform_name, sizeof di->pub.platform_name, "?");
    di->pub.platform_name[sizeof di->pub.platform_name - 1] = '\0';
    trim(di->pub.platform_name);
    device_str(d, CL_DEVICE_NAME, di->pub.name, sizeof di->pub.name);
    device_str(d, CL_DEVICE_OPENCL_C_VERSION, di->pub.version, sizeof di->pub.version);
    device_str(d, CL_DRIVER_VERSION, di->pub.driver, sizeof di->pub.driver);
    cl_device_type t = 0;
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof t, &t, NULL);
    snprintf(di->pub.type, sizeof di->pub.type, "%s", type_name(t));
    di->pub.compute_units = device_uint(d, CL_DEVICE_MAX_COMPUTE_UNITS);
    di->pub.max_clock_mhz = device_uint(d, CL_DEVICE_MAX_CLOCK_FREQUENCY);
    di->pub.global_mem = device_u64(d, CL_DEVICE_GLOBAL_MEM_SIZE);
    di->pub.max_alloc = device_u64(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
    di->pub.local_mem = device_u64(d, CL_DEVICE_LOCAL_MEM_SIZE);
    di->pub.fp16 = has_extension(d, "cl_khr_fp16");
    cl_device_fp_config fp64 = 0;
    clGetDeviceInfo(d, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp64, &fp64, NULL);
    di->pub.fp64 = fp64 != 0 || has_extension(d, "cl_khr_fp64");
}

static const char no_platform[] = "no OpenCL platform found (no ICD installed: /etc/OpenCL/vendors is empty "
                                  "or missing)";

/* The devices of one platform appended to *list (grown). */
static enum cu_status add_platform(cl_platform_id p, int pi, struct cu_cl_device_info **list, int *count,
                                   struct cu_err *err)
{
    cl_uint nd = 0;
    cl_int rc = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
    if (rc == CL_DEVICE_NOT_FOUND || nd == 0)
        return CU_OK; /* a platform without devices is not an error */
    if (rc != CL_SUCCESS)
        return cu_cl_check(NULL, rc, "clGetDeviceIDs", "platform", err);
    cl_device_id *ids = calloc(nd, sizeof *ids);
    struct cu_cl_device_info *grown = realloc(*list, (size_t)(*count + (int)nd) * sizeof *grown);
    if (!ids || !grown) {
        free(ids);
        return cu_fail(err, CU_EDEVICE, "OpenCL: out of host memory listing devices");
    }
    *list = grown;
    rc = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, nd, ids, NULL);
    if (rc != CL_SUCCESS) {
        free(ids);
        return cu_cl_check(NULL, rc, "clGetDeviceIDs", "platform", err);
    }
    for (cl_uint j = 0; j < nd; j++)
        describe(&grown[(*count)++], p, ids[j], pi, (int)j);
    free(ids);
    return CU_OK;
}

enum cu_status cu_cl_devices(struct cu_cl_device_info **out, int *count, const char **why, struct cu_err *err)
{
    *out = NULL;
    *count = 0;
    if (why)
        *why = NULL;
    cl_uint np = 0;
    cl_int rc = clGetPlatformIDs(0, NULL, &np);
    if (rc == CL_PLATFORM_NOT_FOUND_KHR || (rc == CL_SUCCESS && np == 0)) {
        if (why)
            *why = no_platform;
        return CU_OK;
    }
    if (rc != CL_SUCCESS)
        return cu_cl_check(NULL, rc, "clGetPlatformIDs", "", err);
    cl_platform_id *ps = calloc(np, sizeof *ps);
    if (!ps)
        return cu_fail(err, CU_EDEVICE, "OpenCL: out of host memory listing platforms");
    rc = clGetPlatformIDs(np, ps, NULL);
    enum cu_status st = cu_cl_check(NULL, rc, "clGetPlatformIDs", "", err);
    struct cu_cl_device_info *list = NULL;
    int n = 0;
    for (cl_uint i = 0; !st && i < np; i++)
        st = add_platform(ps[i], (int)i, &list, &n, err);
    free(ps);
    if (st) {
        free(list);
        return st;
    }
    if (n == 0 && why)
        *why = "no OpenCL device found (the installed platforms report none)";
    *out = list;
    *count = n;
    return CU_OK;
}

/* "p:d" with decimal numbers only. */
static int is_id(const char *s)
{
    size_t a = strspn(s, "0123456789");
    if (a == 0 || s[a] != ':')
        return 0;
    size_t b = strspn(s + a + 1, "0123456789");
    return b > 0 && s[a + 1 + b] == '\0';
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

/* "0:0 pthread-skylake (cpu), ref" into buf. */
static void list_devices(const struct cu_cl_device_info *devs, int n, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s %s (%s), ", devs[i].pub.id, devs[i].pub.name, devs[i].pub.type);
        used += w > 0 ? (size_t)w : 0;
    }
    if (used < size)
        snprintf(buf + used, size - used, "ref");
}

static int find_type(const struct cu_cl_device_info *devs, int n, const char *type)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(devs[i].pub.type, type))
            return i;
    return -1;
}

enum cu_status cu_cl_device_pick(const char *spec, const struct cu_cl_device_info *devs, int n, const char *why,
                                 int *index, struct cu_err *err)
{
    int found = -1, is_type = 0;
    if (!spec || !*spec) {
        found = find_type(devs, n, "gpu");
        *index = found >= 0 ? found : (n > 0 ? 0 : -1);
        return CU_OK;
    }
    if (is_id(spec)) {
        for (int i = 0; i < n && found < 0; i++)
            if (!strcmp(devs[i].pub.id, spec))
                found = i;
    } else if (!strcasecmp(spec, "gpu") || !strcasecmp(spec, "cpu") || !strcasecmp(spec, "accelerator")) {
        char type[16];
        snprintf(type, sizeof type, "%s", spec);
        for (char *p = type; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        found = find_type(devs, n, type);
        is_type = 1;
    } else {
        for (int i = 0; i < n && found < 0; i++)
            if (contains_nocase(devs[i].pub.name, spec))
                found = i;
    }
    if (found >= 0) {
        *index = found;
        return CU_OK;
    }
    if (n == 0)
        return cu_fail(err, CU_EUSAGE, "device %s: %s; the only backend is ref", spec,
                       why ? why : "no OpenCL device found");
    char list[768];
    list_devices(devs, n, list, sizeof list);
    return cu_fail(err, CU_EUSAGE, "device %s: no %s; there are: %s", spec,
                   is_id(spec) ? "device with that id" : is_type ? "device of that type" : "device name contains it",
                   list);
}
