/* cli.h: the sub-commands of the clunet binary. Each parses its own flags
 * (argv[0] is the command name), runs, prints its one error line through
 * cu_cli_report, and returns the process exit code (status.h values; 130
 * after SIGINT). main.c only dispatches. */
#ifndef CLUNET_CLI_H
#define CLUNET_CLI_H

#include <stdio.h>

#include "clunet/status.h"

/* Prints "clunet: <msg>" on stderr when err holds a failure; returns the
 * exit code for it (0 when none). In a group of several MPI ranks, after a
 * failure that cu_comm_agree gave every rank only rank 0 prints it (one
 * line, "rank R: ..." when rank R failed); a failure of rank R > 0 alone
 * prints "clunet: rank R: <msg>" there. */
int cu_cli_report(const struct cu_err *err);

/* The exit-code table (status.h) as every --help prints it. */
void cu_cli_exit_codes(FILE *f);

struct cu_comm;
/* The process group main.c joined (comm.h); NULL = single process. The
 * train command hands it to clunet_train. */
void cu_cli_set_comm(struct cu_comm *c);
struct cu_comm *cu_cli_comm(void);

/* The global -q/--quiet (clunet -q COMMAND): every command starts quiet,
 * as with its own -q. */
void cu_cli_set_quiet(int q);
int cu_cli_quiet(void);

/* The device the user chose for this run: the global --device (main.c;
 * `clunet devices --device` too), else CLUNET_DEVICE, else NULL (the
 * default device). Commands pass it to the library; nothing travels
 * through the environment. */
void cu_cli_set_device(const char *spec);
const char *cu_cli_device(void);

int cu_cmd_devices(int argc, char **argv);
int cu_cmd_forward(int argc, char **argv);
int cu_cmd_synth(int argc, char **argv);
int cu_cmd_train(int argc, char **argv);
int cu_cmd_predict(int argc, char **argv);
int cu_cmd_eval(int argc, char **argv);
int cu_cmd_bench(int argc, char **argv);
int cu_cmd_convert(int argc, char **argv);
int cu_cmd_models(int argc, char **argv);
int cu_cmd_import(int argc, char **argv);
int cu_cmd_export(int argc, char **argv);

#endif
