/* train_report.c: durations, line clearing and the in-memory train.log
 * (see train_report.h). */
#include "train/train_report.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cu_text_free(struct cu_text *t)
{
    free(t->buf);
    memset(t, 0, sizeof *t);
}

void cu_text_printf(struct cu_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || t->oom)
        return;
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (t->len + (size_t)n + 1 > cap)
            cap *= 2;
        char *buf = realloc(t->buf, cap);
        if (!buf) {
            t->oom = 1;
            return;
        }
        t->buf = buf;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->buf + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

int cu_text_fill(FILE *f, void *text)
{
    const struct cu_text *t = text;
    if (t->oom)
        return 1;
    return t->len && fwrite(t->buf, 1, t->len, f) != t->len;
}

void cu_format_duration(char *buf, size_t n, double s)
{
    if (!isfinite(s) || s < 0)
        s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

void cu_report_clear(FILE *f)
{
    fputs("\r\033[K", f);
    fflush(f);
}
