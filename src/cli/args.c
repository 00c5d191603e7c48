/* args.c: the command-line parser of args.h over getopt_long. getopt
 * prints nothing (opterr = 0, optstring starts with ':'); every message is
 * made here, naming the flag as the user wrote it. */
#include "cli/args.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clunet/train_fields.h"
#include "clunet/util.h"

void cu_args_init(struct cu_args *a, const char *cmd, int argc, char **argv, const struct cu_opt *opts,
                  struct cu_err *err)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd, a->argc = argc, a->argv = argv, a->opts = opts, a->err = err;
    a->next = 1;
    /* "-": positionals come back in order as key 1 (no permuting argv,
     * whatever POSIXLY_CORRECT says); ":": a missing value returns ':'. */
    size_t ns = 0, nl = 0;
    a->shorts[ns++] = '-';
    a->shorts[ns++] = ':';
    for (const struct cu_opt *o = opts; o->key && nl < CU_ARGS_MAX; o++, a->nopts++) {
        if (o->key < CU_ARG_LONG && isalnum(o->key)) {
            a->shorts[ns++] = (char)o->key;
            if (o->value)
                a->shorts[ns++] = ':';
        }
        if (o->name)
            a->longs[nl++] = (struct option){o->name, o->value ? required_argument : no_argument, NULL, o->key};
    }
    a->shorts[ns] = '\0';
    optind = 0; /* glibc: start afresh (a previous parse may have stopped mid-way) */
    opterr = 0;
}

static const char *prefix(const struct cu_args *a) { return a->cmd ? a->cmd : ""; }
static const char *sep(const struct cu_args *a) { return a->cmd ? ": " : ""; }

static void see_help(const struct cu_args *a, char *buf, size_t n)
{
    snprintf(buf, n, " (see clunet%s%s --help)", a->cmd ? " " : "", prefix(a));
}

/* Is this "--name" or "--name=..." one of ours, by its exact name? */
static int known_long(const struct cu_args *a, const char *arg)
{
    size_t len = strcspn(arg + 2, "=");
    for (int i = 0; i < a->nopts; i++) {
        const char *n = a->opts[i].name;
        if (n && strlen(n) == len && !strncmp(n, arg + 2, len))
            return 1;
    }
    return 0;
}

/* The flag just read by getopt (an error): "--name" or "-k". */
static void flag_written(struct cu_args *a, int ind, int opt)
{
    const char *w = ind > 0 && ind <= a->argc ? a->argv[ind - 1] : "";
    if (!strncmp(w, "--", 2) && w[2])
        snprintf(a->flag, sizeof a->flag, "%.*s", (int)strcspn(w, "="), w);
    else
        snprintf(a->flag, sizeof a->flag, "-%c", opt > 0 && opt < CU_ARG_LONG ? opt : '?');
}

static int usage_error(struct cu_args *a, const char *what)
{
    cu_fail(a->err, CU_EUSAGE, "%s%soption %s %s", prefix(a), sep(a), a->flag, what);
    return -1;
}

int cu_args_next(struct cu_args *a)
{
    a->val = NULL;
    a->flag[0] = '\0';
    if (a->after_dashes) { /* everything after "--" is positional */
        if (a->next >= a->argc)
            return 0;
        a->val = a->argv[a->next];
        if (a->stop_at_pos)
            a->argc = a->next; /* stop here: next stays its index */
        else
            a->next++;
        return CU_ARG_POS;
    }
    /* Refuse an abbreviation or unknown long name before getopt_long
     * would take a prefix of one. */
    int at = optind ? optind : 1;
    if (at < a->argc && !strncmp(a->argv[at], "--", 2) && a->argv[at][2] && !known_long(a, a->argv[at])) {
        snprintf(a->flag, sizeof a->flag, "%.*s", (int)strcspn(a->argv[at], "="), a->argv[at]);
        char help[96];
        see_help(a, help, sizeof help);
        cu_fail(a->err, CU_EUSAGE, "%s%sunknown option %s%s", prefix(a), sep(a), a->flag, help);
        return -1;
    }
    int li = -1;
    int c = getopt_long(a->argc, a->argv, a->shorts, a->longs, &li);
    a->next = optind;
    if (c == -1) {
        /* the end, or "--": the rest are positionals */
        a->after_dashes = 1;
        return cu_args_next(a);
    }
    if (c == ':') {
        flag_written(a, optind, optopt);
        return usage_error(a, "needs a value");
    }
    if (c == '?') {
        flag_written(a, optind, optopt);
        if (optopt && !strncmp(a->flag, "--", 2))
            return usage_error(a, "takes no value");
        char help[96];
        see_help(a, help, sizeof help);
        cu_fail(a->err, CU_EUSAGE, "%s%sunknown option %s%s", prefix(a), sep(a), a->flag, help);
        return -1;
    }
    if (c == CU_ARG_POS) {
        a->val = optarg;
        if (a->stop_at_pos) {
            a->next = optind - 1;
            a->after_dashes = 1; /* nothing more is read */
            a->argc = a->next;   /* ... so the next call says "the end" */
        }
        return CU_ARG_POS;
    }
    a->val = optarg;
    if (li >= 0) {
        snprintf(a->flag, sizeof a->flag, "--%s", a->longs[li].name);
    } else {
        snprintf(a->flag, sizeof a->flag, "-%c", c);
        if (optarg && optarg[0] == '=') /* -s=64 as --size=64 */
            a->val = optarg + 1;
    }
    return c;
}

int cu_arg_train_field(struct cu_args *a, const struct cu_train_field *f, struct cu_train_config *c)
{
    if (!cu_train_field_set(f, c, f->type == CU_FIELD_BOOL ? "1" : a->val))
        return 0;
    char range[128];
    cu_train_field_range(f, range, sizeof range);
    return cu_arg_bad(a, range);
}

int cu_arg_extra(struct cu_args *a)
{
    char help[96];
    see_help(a, help, sizeof help);
    cu_fail(a->err, CU_EUSAGE, "%s%sunexpected argument %s%s", prefix(a), sep(a), a->val ? a->val : "", help);
    return -1;
}

int cu_arg_bad(struct cu_args *a, const char *what)
{
    cu_fail(a->err, CU_EUSAGE, "%s%s%s %s: expected %s", prefix(a), sep(a), a->flag, a->val ? a->val : "", what);
    return -1;
}

int cu_arg_ll(struct cu_args *a, long long lo, long long hi, long long *out)
{
    if (!cu_parse_ll(a->val, lo, hi, out))
        return 0;
    char what[96];
    snprintf(what, sizeof what, "an integer in %lld..%lld", lo, hi);
    return cu_arg_bad(a, what);
}

int cu_arg_int(struct cu_args *a, long long lo, long long hi, int *out)
{
    long long v;
    if (cu_arg_ll(a, lo, hi, &v))
        return -1;
    *out = (int)v;
    return 0;
}

int cu_arg_u64(struct cu_args *a, uint64_t *out)
{
    if (!cu_parse_u64(a->val, out))
        return 0;
    return cu_arg_bad(a, "an integer in 0..18446744073709551615");
}

int cu_arg_double(struct cu_args *a, double lo, double hi, int lo_open, int hi_open, double *out)
{
    if (!cu_parse_double(a->val, lo, hi, lo_open, hi_open, out))
        return 0;
    char what[128];
    snprintf(what, sizeof what, "a number in %c%g, %g%c", lo_open ? '(' : '[', lo, hi, hi_open ? ')' : ']');
    return cu_arg_bad(a, what);
}
