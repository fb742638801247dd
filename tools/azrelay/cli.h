/* SPDX-License-Identifier: MIT */
/* Shared declarations of the azrelay command-line tool: one cmd_<verb>.c per subcommand. */
#ifndef AZR_CLI_H
#define AZR_CLI_H

#include <stdbool.h>

/* Exit codes: 0 success, 1 runtime failure (relay, network), 2 usage error. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Each subcommand gets argv starting at its own name (argv[0] = "token", ...). */
int cmd_token(int argc, char **argv);
int cmd_emulator(int argc, char **argv);
int cmd_listen(int argc, char **argv);
int cmd_request(int argc, char **argv);
int cmd_connect(int argc, char **argv);

/* Prints "azrelay <cmd>: <message>" to stderr and returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
