/* status.c: the error record (see include/clunet/status.h). */
#include "clunet/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const struct cu_exit_code cu_exit_codes[] = {
    {CU_OK, "done"},
    {CU_EUSAGE, "usage: an unknown flag, a missing or out-of-range value, a missing argument"},
    {CU_EINPUT, "bad input: an image, mask, dataset, prediction or model file that cannot be used,\n"
                "or a NaN/infinite training loss (the last good checkpoint is kept)"},
    {CU_EDEVICE, "device or memory: an OpenCL or device error, out of device memory, out of host\n"
                 "memory"},
    {CU_EIO, "cannot write: an output file or folder (read-only, disk full); nothing is\n"
             "half-written"},
    {CU_EXIT_SIGINT, "interrupted (SIGINT, Ctrl-C); train writes its checkpoint first"},
    {CU_EXIT_SIGTERM, "terminated (SIGTERM)"},
    {-1, NULL},
};

enum cu_status cu_fail(struct cu_err *e, enum cu_status s, const char *fmt, ...)
{
    if (!e)
        return s;
    if (e->status != CU_OK)
        return e->status;
    e->status = s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return s;
}

void cu_err_clear(struct cu_err *e)
{
    if (!e)
        return;
    e->status = CU_OK;
    e->msg[0] = '\0';
    e->detail[0] = '\0';
}

void cu_err_detail(struct cu_err *e, const char *text)
{
    if (!e || e->status == CU_OK || e->detail[0] || !text)
        return;
    size_t len = strlen(text);
    if (len < sizeof e->detail) {
        memcpy(e->detail, text, len + 1);
        return;
    }
    /* Keep the head: compilers report the first error first. */
    static const char cut[] = "\n[... truncated]";
    size_t keep = sizeof e->detail - sizeof cut;
    memcpy(e->detail, text, keep);
    memcpy(e->detail + keep, cut, sizeof cut);
}
