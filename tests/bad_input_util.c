/* bad_input_util.c: see bad_input_util.h. */
#include "bad_input_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "train_fixture.h"

static const char *exe, *tmp, *logp;

void bi_init(const char *e, const char *t, const char *l)
{
    exe = e, tmp = t, logp = l;
}

void bi_table_line(int code, const char *what, const char *line)
{
    char shown[2048];
    size_t o = 0, tl = strlen(tmp);
    for (const char *p = line; *p && o + 6 < sizeof shown;) {
        if (!strncmp(p, tmp, tl)) {
            o += (size_t)snprintf(shown + o, sizeof shown - o, "<tmp>");
            p += tl;
        } else {
            shown[o++] = *p++;
        }
    }
    shown[o] = 0;
    printf("bad-input: %d | %s | %s\n", code, what, shown);
}

int bi_expect(int code, const char *what, const char *must, char **args)
{
    char *argv[40];
    int k = 0;
    argv[k++] = (char *)exe;
    for (int i = 0; args[i] && k < 39; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    int rc = tf_run(argv, logp);
    long n = 0;
    char *out = tf_read("", logp, &n);
    char line[2048] = "";
    int lines = 0;
    for (char *p = out; p && *p; lines++) {
        char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (!lines)
            snprintf(line, sizeof line, "%.*s", (int)len, p);
        p = e ? e + 1 : p + len;
    }
    int one = lines == 1 && !strncmp(line, "clunet: ", 8);
    TU_CHECK(rc == code && one && (!must || strstr(line, must)), "%s: exit %d (want %d), \"%s\"%s", what, rc, code,
             line, one ? "" : " (not one clunet: line)");
    bi_table_line(rc, what, line);
    free(out);
    return rc;
}
