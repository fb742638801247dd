/* SPDX-License-Identifier: MIT */
/* Shared declarations of the azrelay command-line tool: one cmd_<verb>.c per subcommand. */
#ifndef AZR_CLI_H
#define AZR_CLI_H

#include <stdbool.h>

/* Exit codes, the same for every subcommand (docs/man/azrelay.1 "EXIT STATUS", README). A script
 * can tell a mistake it must fix (2-4, 7) from a condition that may pass (5, 8-10). */
enum {
  CLI_OK = 0,          /* success; a long-running command stopped by SIGINT/SIGTERM */
  CLI_FAIL = 1,        /* anything not below: local I/O, out of memory, internal error */
  CLI_USAGE = 2,       /* bad command line, connection string, setting or unreadable file */
  CLI_AUTH = 3,        /* the relay refused the credentials (HTTP 401/403) */
  CLI_NOT_FOUND = 4,   /* the hybrid connection does not exist (HTTP 404), or was deleted */
  CLI_NO_LISTENER = 5, /* no listener is online for the hybrid connection */
  CLI_REFUSED = 6,     /* the listener refused the connection, or answered with 4xx/5xx */
  CLI_TLS = 7,         /* the relay's certificate did not verify; TLS files unusable */
  CLI_NETWORK = 8,     /* the relay (or proxy) could not be reached or failed before opening */
  CLI_CLOSED = 9,      /* an open connection ended abnormally (close code not 1000) */
  CLI_TIMEOUT = 10     /* --max-time elapsed */
};

/* Each subcommand gets argv starting at its own name (argv[0] = "token", ...). */
int cmd_token(int argc, char **argv);
int cmd_emulator(int argc, char **argv);
int cmd_listen(int argc, char **argv);
int cmd_request(int argc, char **argv);
int cmd_connect(int argc, char **argv);

/* Prints "azrelay <cmd>: <message>" to stderr and returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "azrelay 1.2.3" and the versions of the libraries it runs on, on stdout; returns CLI_OK. */
int cli_print_version(void);

#endif
