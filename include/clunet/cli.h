/* cli.h: the sub-commands of the clunet binary. Each parses its own flags
 * (argv[0] is the command name), runs, prints its one error line through
 * cu_cli_report, and returns the process exit code (status.h values; 130
 * after SIGINT). main.c only dispatches. */
#ifndef CLUNET_CLI_H
#define CLUNET_CLI_H

#include "clunet/status.h"

/* Prints "clunet: <msg>" on stderr when err holds a failure; returns the
 * exit code for it (0 when none). */
int cu_cli_report(const struct cu_err *err);

int cu_cmd_devices(int argc, char **argv);
int cu_cmd_forward(int argc, char **argv);
int cu_cmd_synth(int argc, char **argv);
int cu_cmd_train(int argc, char **argv);
int cu_cmd_predict(int argc, char **argv);
int cu_cmd_eval(int argc, char **argv);
int cu_cmd_bench(int argc, char **argv);

#endif
