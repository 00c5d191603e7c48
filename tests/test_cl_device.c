/* test_cl_device.c: choosing a device by --device spec (id, name
 * substring, type, ref, bad specs), the default choice, CLUNET_DEVICE, and
 * OpenCL errors reported by name. The choice logic is checked twice: on
 * made-up device lists (GPUs before CPUs, no device at all) through
 * cu_cl_device_pick, and for real on the installed OpenCL (PoCL in CI)
 * through cu_backend_open. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/cl_internal.h"
#include "testutil.h"

static struct cu_cl_device_info fake(const char *id, const char *name, const char *type)
{
    struct cu_cl_device_info d;
    memset(&d, 0, sizeof d);
    snprintf(d.pub.id, sizeof d.pub.id, "%s", id);
    snprintf(d.pub.name, sizeof d.pub.name, "%s", name);
    snprintf(d.pub.type, sizeof d.pub.type, "%s", type);
    return d;
}

static int pick(const char *spec, const struct cu_cl_device_info *d, int n, struct cu_err *err)
{
    int index = -42;
    cu_err_clear(err);
    enum cu_status st = cu_cl_device_pick(spec, d, n, "no OpenCL platform found (no ICD installed)", &index, err);
    return st ? -100 - (int)st : index;
}

static void check_pick_lists(void)
{
    struct cu_err err = {0};
    const struct cu_cl_device_info devs[] = {
        fake("0:0", "pthread-skylake-avx512", "cpu"),
        fake("1:0", "gfx1030", "gpu"),
        fake("1:1", "NVIDIA GeForce RTX 3060", "gpu"),
        fake("2:0", "Intel FPGA Emulation", "accelerator"),
    };
    TU_CHECK(pick(NULL, devs, 4, &err) == 1, "default picks the first GPU, not the CPU listed first");
    TU_CHECK(pick("", devs, 4, &err) == 1, "empty spec is the default");
    TU_CHECK(pick(NULL, devs, 1, &err) == 0, "default without a GPU picks the first device");
    TU_CHECK(pick(NULL, devs, 0, &err) == -1 && err.status == CU_OK, "default with no device: -1, no error");
    TU_CHECK(pick("1:1", devs, 4, &err) == 2, "id 1:1");
    TU_CHECK(pick("0:0", devs, 4, &err) == 0, "id 0:0");
    TU_CHECK(pick("cpu", devs, 4, &err) == 0, "type cpu");
    TU_CHECK(pick("GPU", devs, 4, &err) == 1, "type GPU, any case");
    TU_CHECK(pick("accelerator", devs, 4, &err) == 3, "type accelerator");
    TU_CHECK(pick("nvidia", devs, 4, &err) == 2, "name substring nvidia, any case");
    TU_CHECK(pick("GFX", devs, 4, &err) == 1, "name substring GFX");
    TU_CHECK(pick("RTX 3060", devs, 4, &err) == 2, "name substring with a space");
    TU_CHECK(pick("3:0", devs, 4, &err) == -100 - CU_EUSAGE, "unknown id 3:0 fails with CU_EUSAGE");
    TU_CHECK(strstr(err.msg, "3:0") && strstr(err.msg, "1:1 NVIDIA GeForce RTX 3060 (gpu)") &&
                 strstr(err.msg, "0:0 pthread-skylake-avx512 (cpu)") && strstr(err.msg, "ref"),
             "the message names the spec and lists every device and ref: %s", err.msg);
    TU_CHECK(pick("accelerator", devs, 3, &err) == -100 - CU_EUSAGE, "a type no device has fails");
    TU_CHECK(pick("0:", devs, 4, &err) == -100 - CU_EUSAGE, "'0:' is neither an id nor a name");
    TU_CHECK(pick("gpu", devs, 0, &err) == -100 - CU_EUSAGE && strstr(err.msg, "no ICD installed") &&
                 strstr(err.msg, "ref"),
             "gpu with no platform fails saying why: %s", err.msg);
}

/* A case-flipped piece of the real device's name selects it. */
static void name_piece(const char *name, char *out, size_t size)
{
    size_t len = strlen(name), from = len > 6 ? 2 : 0, n = len - from > 8 ? 8 : len - from;
    snprintf(out, size, "%.*s", (int)n, name + from);
    for (char *p = out; *p; p++)
        *p = (char)(islower((unsigned char)*p) ? toupper((unsigned char)*p) : tolower((unsigned char)*p));
}

static void check_open(const char *spec, const char *want_id, const char *what)
{
    struct cu_err err = {0};
    struct cu_backend *be = NULL;
    enum cu_status st = cu_backend_open(spec, &be, &err);
    if (!tu_ok(st, &err, what))
        return;
    int is_cl = cu_backend_kind(be) == CU_BACKEND_CL;
    TU_CHECK(is_cl && !strcmp(cu_cl(be)->id, want_id), "%s (spec %s) opens %s: got %s", what, spec ? spec : "NULL",
             want_id, is_cl ? cu_cl(be)->id : cu_backend_name(be));
    cu_backend_free(be);
}

static void check_real(void)
{
    struct cu_err err = {0};
    struct cu_cl_device_info *devs = NULL;
    int n = 0;
    const char *why = NULL;
    tu_ok(cu_cl_devices(&devs, &n, &why, &err), &err, "enumerate");
    TU_CHECK(n >= 1 && !why, "at least one OpenCL device is installed (%d; %s)", n, why ? why : "");
    if (n < 1)
        return;
    int cpu = -1, gpu = -1;
    for (int i = 0; i < n; i++) {
        if (cpu < 0 && !strcmp(devs[i].pub.type, "cpu"))
            cpu = i;
        if (gpu < 0 && !strcmp(devs[i].pub.type, "gpu"))
            gpu = i;
    }
    TU_CHECK(cpu >= 0, "a CPU device is installed (PoCL)");
    TU_CHECK(!strcmp(devs[0].pub.id, "0:0"), "first id is 0:0 (%s)", devs[0].pub.id);
    check_open("0:0", "0:0", "id");
    if (cpu >= 0) {
        char piece[32];
        name_piece(devs[cpu].pub.name, piece, sizeof piece);
        check_open(piece, devs[cpu].pub.id, "name substring");
        check_open("cpu", devs[cpu].pub.id, "type");
        check_open("Cpu", devs[cpu].pub.id, "type, mixed case");
    }
    unsetenv("CLUNET_DEVICE");
    check_open(NULL, devs[gpu >= 0 ? gpu : 0].pub.id, "default");

    struct cu_backend *be = NULL;
    TU_CHECK(!cu_backend_open("ref", &be, &err) && cu_backend_kind(be) == CU_BACKEND_REF, "ref opens ref");
    cu_backend_free(be);
    be = NULL;
    setenv("CLUNET_DEVICE", "REF", 1);
    TU_CHECK(!cu_backend_open(NULL, &be, &err) && cu_backend_kind(be) == CU_BACKEND_REF,
             "CLUNET_DEVICE=REF is used when no spec is given");
    cu_backend_free(be);
    be = NULL;
    unsetenv("CLUNET_DEVICE");

    cu_err_clear(&err);
    enum cu_status st = cu_backend_open("no-such-device-xyz", &be, &err);
    TU_CHECK(st == CU_EUSAGE && !be, "a bad spec fails with CU_EUSAGE (%d)", (int)st);
    TU_CHECK(strstr(err.msg, "no-such-device-xyz") && strstr(err.msg, devs[0].pub.name) && strstr(err.msg, "ref") &&
                 !strchr(err.msg, '\n'),
             "one line naming the spec, the devices and ref: %s", err.msg);
    free(devs);
}

/* Errors by name, with the call and the device. */
static void check_errors(void)
{
    TU_CHECK(!strcmp(cu_cl_strerror(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES"), "-5 is CL_OUT_OF_RESOURCES");
    TU_CHECK(!strcmp(cu_cl_strerror(CL_INVALID_KERNEL_ARGS), "CL_INVALID_KERNEL_ARGS"), "-52 by name");
    TU_CHECK(!strcmp(cu_cl_strerror(CL_INVALID_DEVICE_PARTITION_COUNT), "CL_INVALID_DEVICE_PARTITION_COUNT"),
             "-68 (the last of OpenCL 1.2) by name");
    struct cu_cl_backend cb;
    memset(&cb, 0, sizeof cb);
    snprintf(cb.caps.name, sizeof cb.caps.name, "gfx1030");
    struct cu_err err = {0};
    enum cu_status st = CU_CL(&cb, CL_OUT_OF_RESOURCES + 0, "cu_pool_max2x2_fwd", &err);
    TU_CHECK(st == CU_EDEVICE, "CU_CL fails with CU_EDEVICE");
    cu_err_clear(&err);
    cu_cl_check(&cb, CL_OUT_OF_RESOURCES, "clEnqueueNDRangeKernel(cb->queue, k, 1, NULL, g, l, 0, NULL, NULL)",
                "cu_pool_max2x2_fwd", &err);
    TU_CHECK(!strcmp(err.msg, "gfx1030: clEnqueueNDRangeKernel(cu_pool_max2x2_fwd): CL_OUT_OF_RESOURCES"),
             "message: %s", err.msg);
    cu_err_clear(&err);
    cu_cl_check(&cb, -9999, "clFinish(q)", "", &err);
    TU_CHECK(strstr(err.msg, "clFinish") && strstr(err.msg, "-9999"), "unknown code by number: %s", err.msg);
    TU_CHECK(cu_cl_check(&cb, CL_SUCCESS, "clFinish", "", &err) == CU_OK, "CL_SUCCESS is CU_OK");
}

int main(void)
{
    check_pick_lists();
    check_real();
    check_errors();
    return tu_finish();
}
