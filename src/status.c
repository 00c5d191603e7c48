/* status.c: the error record (see include/clunet/status.h). */
#include "clunet/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
