/* status.c: the error record (see include/clunet/status.h). */
#include "clunet/status.h"

#include <stdarg.h>
#include <stdio.h>

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
}
