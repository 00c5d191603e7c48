/* test_cli_args.c: the one command-line parser (src/cli/args.c) and the
 * number parsers (src/util/num.c), in process; then every command of the
 * binary: --opt=V and --opt V alike, -q and --quiet accepted, a missing
 * value named, a range error that gives the range, --version. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "testutil.h"
#include "clunet/util.h"

enum { O_OUT = CU_ARG_LONG, O_RATE, O_FLAG, O_DEVICE, O_DEVICES };
static const struct cu_opt opts[] = {
    {"out", O_OUT, 1},         {"rate", O_RATE, 1},       {"flag", O_FLAG, 0}, {"device", O_DEVICE, 1},
    {"devices", O_DEVICES, 1}, {NULL, 's', 1},            {"quiet", 'q', 0},   {NULL, 'v', 0},
    {NULL, 0, 0},
};

/* Parses argv (NULL-terminated) into a trace "key=value;..." (p for a
 * positional); returns the last cu_args_next result (0 or -1). */
static int trace(char **argv, char *buf, size_t size, struct cu_err *err)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    struct cu_args a;
    cu_err_clear(err);
    cu_args_init(&a, "cmd", argc, argv, opts, err);
    buf[0] = '\0';
    int key;
    while ((key = cu_args_next(&a)) > 0) {
        size_t n = strlen(buf);
        if (key == CU_ARG_POS)
            snprintf(buf + n, size - n, "p=%s;", a.val);
        else if (key < CU_ARG_LONG)
            snprintf(buf + n, size - n, "%c%s%s;", key, a.val ? "=" : "", a.val ? a.val : "");
        else
            snprintf(buf + n, size - n, "%s%s%s;", a.flag, a.val ? "=" : "", a.val ? a.val : "");
    }
    return key;
}

#define ARGV(...) ((char *[]){"cmd", __VA_ARGS__, NULL})

static void expect_trace(char **argv, const char *want, const char *what)
{
    char got[512];
    struct cu_err err = {0};
    int rc = trace(argv, got, sizeof got, &err);
    TU_CHECK(rc == 0 && !strcmp(got, want), "%s: got \"%s\" (rc %d, %s), want \"%s\"", what, got, rc, err.msg, want);
}

static void expect_error(char **argv, const char *want, const char *what)
{
    char got[512];
    struct cu_err err = {0};
    int rc = trace(argv, got, sizeof got, &err);
    TU_CHECK(rc == -1 && err.status == CU_EUSAGE && !strcmp(err.msg, want), "%s: \"%s\" (rc %d), want \"%s\"", what,
             err.msg, rc, want);
}

static void parser_forms(void)
{
    expect_trace(ARGV("--out=a", "--out", "b", "-s64", "-s", "65", "-s=66"),
                 "--out=a;--out=b;s=64;s=65;s=66;", "--opt=V, --opt V, -kV, -k V, -k=V");
    expect_trace(ARGV("x", "-qv", "y", "--flag", "z"), "p=x;q;v;p=y;--flag;p=z;",
                 "positionals in order between flags; grouped short flags");
    expect_trace(ARGV("--out", "-x", "--", "--flag", "-q"), "--out=-x;p=--flag;p=-q;",
                 "a value that starts with '-'; after -- only positionals");
    expect_trace(ARGV("--out="), "--out=;", "--out= is an empty value");
    expect_trace(ARGV("--device", "a", "--devices", "b"), "--device=a;--devices=b;",
                 "a long name that prefixes another");
    expect_error(ARGV("--out"), "cmd: option --out needs a value", "missing value, long");
    expect_error(ARGV("-q", "-s"), "cmd: option -s needs a value", "missing value, short");
    expect_error(ARGV("--flag=1"), "cmd: option --flag takes no value", "value of a plain flag");
    expect_error(ARGV("--frob", "1"), "cmd: unknown option --frob (see clunet cmd --help)", "unknown long");
    expect_error(ARGV("-x"), "cmd: unknown option -x (see clunet cmd --help)", "unknown short");
    expect_error(ARGV("--dev", "a"), "cmd: unknown option --dev (see clunet cmd --help)",
                 "no abbreviations, even of one name");
    expect_error(ARGV("--fla"), "cmd: unknown option --fla (see clunet cmd --help)", "no abbreviations");
}

/* The top level stops at its command: next is the command's index. */
static void stop_at_command(void)
{
    char **lines[] = {ARGV("-q", "train", "-s", "64"), ARGV("-q", "--", "train", "-s", "64")};
    for (int k = 0; k < 2; k++) {
        int argc = 0;
        while (lines[k][argc])
            argc++;
        struct cu_err err = {0};
        struct cu_args a;
        cu_args_init(&a, NULL, argc, lines[k], opts, &err);
        a.stop_at_pos = 1;
        int q = cu_args_next(&a), pos = cu_args_next(&a), cmd = a.next, end = cu_args_next(&a);
        TU_CHECK(q == 'q' && pos == CU_ARG_POS && cmd == 2 + k && !strcmp(lines[k][cmd], "train") && end == 0,
                 "stops at the command%s (index %d)", k ? " after --" : "", cmd);
    }
}

static void value_parsers(void)
{
    struct cu_err err = {0};
    struct cu_args a;
    char *argv[] = {"cmd", "--rate", "", NULL};
    int iv = 7;
    double dv = 7;
    uint64_t uv = 7;
    const struct {
        const char *val;
        int kind; /* 0 int 16..64, 1 double (0, 1], 2 double [0, 1), 3 u64 */
        const char *msg; /* NULL: accepted */
    } cases[] = {
        {"16", 0, NULL},
        {"64", 0, NULL},
        {"15", 0, "cmd: --rate 15: expected an integer in 16..64"},
        {"65", 0, "cmd: --rate 65: expected an integer in 16..64"},
        {"3x", 0, "cmd: --rate 3x: expected an integer in 16..64"},
        {" 20", 0, "cmd: --rate  20: expected an integer in 16..64"},
        {"99999999999999999999", 0, "cmd: --rate 99999999999999999999: expected an integer in 16..64"},
        {"1", 1, NULL},
        {"1e-3", 1, NULL},
        {"0", 1, "cmd: --rate 0: expected a number in (0, 1]"},
        {"nan", 1, "cmd: --rate nan: expected a number in (0, 1]"},
        {"0", 2, NULL},
        {"1", 2, "cmd: --rate 1: expected a number in [0, 1)"},
        {"", 2, "cmd: --rate : expected a number in [0, 1)"},
        {"18446744073709551615", 3, NULL},
        {"-1", 3, "cmd: --rate -1: expected an integer in 0..18446744073709551615"},
        {"18446744073709551616", 3, "cmd: --rate 18446744073709551616: expected an integer in 0..18446744073709551615"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        argv[2] = (char *)cases[i].val;
        cu_err_clear(&err);
        cu_args_init(&a, "cmd", 3, argv, opts, &err);
        int key = cu_args_next(&a), rc = -2;
        if (key == O_RATE) {
            switch (cases[i].kind) {
            case 0: rc = cu_arg_int(&a, 16, 64, &iv); break;
            case 1: rc = cu_arg_double(&a, 0, 1, 1, 0, &dv); break;
            case 2: rc = cu_arg_double(&a, 0, 1, 0, 1, &dv); break;
            default: rc = cu_arg_u64(&a, &uv); break;
            }
        }
        if (cases[i].msg)
            TU_CHECK(rc == -1 && !strcmp(err.msg, cases[i].msg), "\"%s\" refused: \"%s\"", cases[i].val, err.msg);
        else
            TU_CHECK(rc == 0 && !err.status, "\"%s\" accepted (%s)", cases[i].val, err.msg);
    }
    TU_CHECK(iv == 64 && dv == 0 && uv == UINT64_MAX, "accepted values stored, refused ones left alone");
    long long ll = 5;
    TU_CHECK(cu_parse_ll("-9223372036854775808", INT64_MIN, 0, &ll) == 0 && ll == INT64_MIN, "INT64_MIN");
    TU_CHECK(cu_parse_ll("9223372036854775808", 0, INT64_MAX, &ll) == -1, "past INT64_MAX refused");
}

static const char *exe;

/* Runs "clunet ARGS" with stderr into the output; returns the exit code. */
static int run(const char *args, char *out, size_t size)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "ASAN_OPTIONS=allocator_may_return_null=1 CLUNET_DEVICE=ref '%s' %s 2>&1", exe, args);
    return tu_run(cmd, out, size);
}

static void commands(void)
{
    static char out[1 << 16];
    int rc = run("--version", out, sizeof out);
    TU_CHECK(rc == 0 && !strncmp(out, "clunet ", 7) && strstr(out, "(git ") && strstr(out, "libpng") &&
                 strstr(out, "CLBlast") && strstr(out, "OpenCL platforms found:"),
             "--version: version, git, libraries, platforms (rc %d): %s", rc, out);
    rc = run("--device", out, sizeof out);
    TU_CHECK(rc == 1 && !strcmp(out, "clunet: option --device needs a value\n"), "clunet --device: %s", out);
    rc = run("--device=ref --frob", out, sizeof out);
    TU_CHECK(rc == 1 && strstr(out, "unknown option --frob"), "global --device=V then an unknown flag: %s", out);

    /* Every command: -q and --quiet accepted (the error is the flag after
     * them), --help lists them, and --opt=V is read as --opt V. */
    static const char *const cmds[] = {"train", "synth", "predict", "eval", "bench", "devices"};
    static const char *const eq[][2] = {
        {"train -e=0", "train: -e 0: expected an integer in 1..1000000"},
        {"synth --count=0", "synth: --count 0: expected an integer in 1..1000000"},
        {"predict --threshold=2", "predict: --threshold 2: expected a number in [0, 1]"},
        {"eval --min-size=-1", "eval: --min-size -1: expected an integer in 0..1000000000"},
        {"bench --steps=0", "bench: --steps 0: expected an integer in 1..1000000"},
        {"devices --json=1", "devices: option --json takes no value"},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char args[256], want[256];
        snprintf(want, sizeof want, "clunet: %s: unknown option --frob (see clunet %s --help)\n", cmds[i], cmds[i]);
        snprintf(args, sizeof args, "%s -q --frob", cmds[i]);
        rc = run(args, out, sizeof out);
        TU_CHECK(rc == 1 && !strcmp(out, want), "%s: -q accepted: %s", args, out);
        snprintf(args, sizeof args, "%s --quiet --frob", cmds[i]);
        rc = run(args, out, sizeof out);
        TU_CHECK(rc == 1 && !strcmp(out, want), "%s: --quiet accepted: %s", args, out);
        snprintf(args, sizeof args, "-q %s --frob", cmds[i]);
        rc = run(args, out, sizeof out);
        TU_CHECK(rc == 1 && !strcmp(out, want), "%s: global -q: %s", args, out);
        snprintf(args, sizeof args, "%s --help", cmds[i]);
        rc = run(args, out, sizeof out);
        TU_CHECK(rc == 0 && strstr(out, "-q, --quiet"), "%s: documents -q, --quiet", args);
        snprintf(want, sizeof want, "clunet: %s\n", eq[i][1]);
        rc = run(eq[i][0], out, sizeof out);
        TU_CHECK(rc == 1 && !strcmp(out, want), "%s: \"%s\"", eq[i][0], out);
        char spaced[256];
        snprintf(spaced, sizeof spaced, "%s", eq[i][0]);
        char *e = strchr(spaced, '=');
        if (strstr(spaced, "--json"))
            continue;
        *e = ' ';
        rc = run(spaced, out, sizeof out);
        TU_CHECK(rc == 1 && !strcmp(out, want), "%s: the same as with '=': \"%s\"", spaced, out);
    }
    /* One exit-code table, printed by every --help; host memory exhausted
     * exits 3 like device memory (an allocation of 2^50 bytes fails on any
     * machine; ASan must return NULL instead of stopping). */
    rc = run("--help", out, sizeof out);
    int all = rc == 0;
    for (const struct cu_exit_code *c = cu_exit_codes; c->meaning; c++) {
        char line[64];
        snprintf(line, sizeof line, "\n  %-4d %.20s", c->code, c->meaning);
        all &= strstr(out, line) != NULL;
    }
    TU_CHECK(all && strstr(out, "143  terminated") && strstr(out, "130  interrupted"),
             "clunet --help lists every exit code, 130 and 143 included");
    static const char *const all_cmds[] = {"train", "synth", "predict", "eval", "bench", "devices", "import", "export"};
    for (size_t i = 0; i < sizeof all_cmds / sizeof all_cmds[0]; i++) {
        char args[64];
        snprintf(args, sizeof args, "%s --help", all_cmds[i]);
        rc = run(args, out, sizeof out);
        TU_CHECK(rc == 0 && strstr(out, "exit codes:\n  0    done") && strstr(out, "143  terminated"),
                 "%s: the exit-code table", args);
        snprintf(args, sizeof args, "%s -q --quiet --frob", all_cmds[i]);
        rc = run(args, out, sizeof out);
        TU_CHECK(rc == 1 && strstr(out, "unknown option --frob"), "%s: -q and --quiet accepted: %s", args, out);
    }
    rc = run("bench -s 16384 --batch 65536 --steps 1 --warmup 0 --no-layers --no-gemm --no-startup", out,
             sizeof out);
    int lines = 0; /* clunet's own: not the "==PID==WARNING" AddressSanitizer adds */
    for (const char *l = out; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l))
        lines += strncmp(l, "==", 2) != 0;
    TU_CHECK(rc == CU_EDEVICE && strstr(out, "clunet: ") && strstr(out, "host memory") && lines == 1,
             "out of host memory: exit 3 (%d), one line: %s", rc, out);
    rc = run("train --out", out, sizeof out);
    TU_CHECK(rc == 1 && !strcmp(out, "clunet: train: option --out needs a value\n"), "train --out: %s", out);
    rc = run("-q --help", out, sizeof out);
    TU_CHECK(rc == 0 && strstr(out, "-q, --quiet") && strstr(out, "--version"), "clunet --help lists -q, --version");
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return fprintf(stderr, "usage: test_cli_args CLUNET\n"), 1;
    exe = argv[1];
    parser_forms();
    stop_at_command();
    value_parsers();
    commands();
    return tu_finish();
}
