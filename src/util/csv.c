/* csv.c: one CSV field as RFC 4180 writes it (see include/clunet/util.h). */
#include <string.h>

#include "clunet/util.h"

void cu_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}
