/* device_list.c: the --devices list of replicas.h (cu_device_list_parse):
 * entries as cu_backend_open takes them, "all" and device types expanded
 * into OpenCL ids; and cu_split, the contiguous slices a batch is cut into.
 * Leaves out: opening the devices (replicas.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clunet/cl.h"
#include "clunet/replicas.h"

static enum cu_status add_spec(char **specs, int *k, const char *s, size_t len, struct cu_err *err)
{
    if (*k >= CU_REPLICAS_MAX)
        return cu_fail(err, CU_EUSAGE, "--devices: more than %d devices", CU_REPLICAS_MAX);
    char *c = malloc(len + 1);
    if (!c)
        return cu_fail(err, CU_EDEVICE, "--devices: out of host memory");
    memcpy(c, s, len);
    c[len] = '\0';
    specs[(*k)++] = c;
    return CU_OK;
}

/* Every OpenCL device whose type is type (NULL: every device). */
static enum cu_status add_type(char **specs, int *k, const char *type, struct cu_err *err)
{
    struct cu_device_info *devs = NULL;
    int n = 0, found = 0;
    const char *why = NULL;
    CU_TRY(cu_device_list(&devs, &n, &why, err));
    enum cu_status st = CU_OK;
    for (int i = 0; !st && i < n; i++)
        if (!type || !strcmp(devs[i].type, type)) {
            st = add_spec(specs, k, devs[i].id, strlen(devs[i].id), err);
            found++;
        }
    free(devs);
    if (!st && !found)
        st = cu_fail(err, CU_EUSAGE, "--devices %s: no such OpenCL device%s%s", type ? type : "all",
                     why ? ": " : "", why ? why : "");
    return st;
}

enum cu_status cu_device_list_parse(const char *list, char ***specs_out, int *k_out, struct cu_err *err)
{
    char **specs = calloc(CU_REPLICAS_MAX, sizeof *specs);
    int k = 0;
    if (!specs)
        return cu_fail(err, CU_EDEVICE, "--devices: out of host memory");
    enum cu_status st = CU_OK;
    const char *p = list ? list : "";
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && *p == ' ')
            p++, len--;
        while (len && p[len - 1] == ' ')
            len--;
        if (!len) {
            st = cu_fail(err, CU_EUSAGE, "--devices %s: empty entry; give ids like 0:0,0:1 or all, gpu, cpu", list);
            break;
        }
        if (len == 3 && !strncasecmp(p, "all", 3))
            st = add_type(specs, &k, NULL, err);
        else if ((len == 3 && !strncasecmp(p, "gpu", 3)) || (len == 3 && !strncasecmp(p, "cpu", 3)) ||
                 (len == 11 && !strncasecmp(p, "accelerator", 11))) {
            char type[12]; /* the longest, "accelerator", and its 0 */
            snprintf(type, sizeof type, "%.*s", (int)len, p);
            for (char *c = type; *c; c++)
                *c = (char)(*c | 0x20); /* lower case */
            st = add_type(specs, &k, type, err);
        } else
            st = add_spec(specs, &k, p, len, err);
        if (st || !end)
            break;
        p = end + 1;
    }
    if (st) {
        cu_device_list_free(specs, k);
        return st;
    }
    *specs_out = specs;
    *k_out = k;
    return CU_OK;
}

void cu_device_list_free(char **specs, int k)
{
    if (!specs)
        return;
    for (int i = 0; i < k; i++)
        free(specs[i]);
    free(specs);
}

void cu_split(int n, int k, int i, int *off, int *len)
{
    long long a = (long long)n * i / k, b = (long long)n * (i + 1) / k;
    *off = (int)a;
    *len = (int)(b - a);
}
