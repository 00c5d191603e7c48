/* args.h: the one command-line parser of every clunet command (getopt_long
 * underneath) and the typed value parsers its flags use.
 *
 * Every command accepts the same forms: --name V, --name=V, -k V, -kV (and
 * -k=V), short flags grouped (-qv), positional arguments anywhere, and "--"
 * to end the flags. Long names match exactly (no abbreviations, so adding a
 * flag never breaks one a user already types). Messages, one line each,
 * prefixed with the command's name:
 *   train: option --out needs a value
 *   train: unknown option --frobnicate (see clunet train --help)
 *   train: -s 20: expected an integer in 16..16384
 * The parser keeps getopt's global state: one parse at a time. */
#ifndef CLUNET_CLI_ARGS_H
#define CLUNET_CLI_ARGS_H

#include <getopt.h>
#include <stdint.h>

#include "clunet/status.h"

/* The key cu_args_next returns for a positional argument (a->val). */
#define CU_ARG_POS 1
/* Keys of long-only options start here; a key that is a letter or digit
 * is also its short flag (-q). */
#define CU_ARG_LONG 256
#define CU_ARGS_MAX 64

struct cu_opt {
    const char *name; /* long name without the dashes, or NULL: the short flag only */
    int key;          /* returned by cu_args_next */
    int value;        /* 1: takes a value */
};

struct cu_args {
    const char *cmd;   /* message prefix ("train"); NULL at the top level */
    int argc;
    char **argv;       /* argv[0] is the command's name */
    struct cu_err *err;
    int stop_at_pos;   /* stop at the first positional (the top level's command) */
    /* After cu_args_next returned a key: */
    const char *val;   /* the option's value, or the positional argument */
    char flag[64];     /* the flag as written: "--out", "-s" */
    int next;          /* argv index of the first argument not yet read; after
                        * stop_at_pos stopped, the positional's own index */
    /* internal */
    const struct cu_opt *opts;
    int nopts, after_dashes;
    char shorts[3 * CU_ARGS_MAX + 4];
    struct option longs[CU_ARGS_MAX + 1];
};

/* opts ends with an entry whose key is 0. */
void cu_args_init(struct cu_args *a, const char *cmd, int argc, char **argv, const struct cu_opt *opts,
                  struct cu_err *err);
/* The next option's key, CU_ARG_POS for a positional argument, 0 at the
 * end, -1 after a usage error (in err, CU_EUSAGE). */
int cu_args_next(struct cu_args *a);

/* Typed values of the option just returned. Each returns 0, or -1 with
 * err set to "<cmd>: <flag> <value>: expected ..." naming the range. */
int cu_arg_int(struct cu_args *a, long long lo, long long hi, int *out);
int cu_arg_ll(struct cu_args *a, long long lo, long long hi, long long *out);
int cu_arg_u64(struct cu_args *a, uint64_t *out);
/* lo_open / hi_open exclude that end: (0, 1] is lo_open = 1. */
int cu_arg_double(struct cu_args *a, double lo, double hi, int lo_open, int hi_open, double *out);
struct cu_train_field;
struct cu_train_config;
/* The value of a training-configuration field (train_fields.h: its type
 * and range, as `clunet train` reads it) into c; a plain flag sets 1. */
int cu_arg_train_field(struct cu_args *a, const struct cu_train_field *f, struct cu_train_config *c);
/* "<cmd>: unexpected argument <val> (see clunet <cmd> --help)", for a
 * positional argument the command does not take; returns -1. */
int cu_arg_extra(struct cu_args *a);
/* "<cmd>: <flag> <value>: expected <what>"; returns -1. */
int cu_arg_bad(struct cu_args *a, const char *what);

#endif
