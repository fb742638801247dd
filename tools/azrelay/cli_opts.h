/* SPDX-License-Identifier: MIT */
/* Options every azrelay subcommand shares (--help, --version, -v/-q, --log-level, --log-format;
 * the connection string, TLS trust and proxy where they apply), one argument parser around them,
 * and applying them to a listener or client. */
#ifndef AZR_CLI_OPTS_H
#define AZR_CLI_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "azrelay.h"
#include "cli_log.h"
#include "proxy_url.h"

/* Which shared options a command takes. */
enum {
  CLI_USES_CONNSTR = 1,  /* -c, --connection-string-file, AZRELAY_CONNECTION_STRING */
  CLI_NEEDS_ENTITY = 2,  /* ... and it must name the hybrid connection (EntityPath) */
  CLI_USES_TLS = 4,      /* --cacert, --insecure */
  CLI_USES_PROXY = 8,    /* --proxy */
  CLI_LONG_RUNNING = 16  /* --log-format auto means timestamps */
};

struct cli_common {
  /* set by the command */
  const char *cmd;
  unsigned uses;
  void (*usage)(FILE *out);
  /* results */
  char *connstr;              /* owned; wiped by cli_common_free */
  const char *connstr_source; /* where it came from, for messages (never the value itself) */
  azr_connection_string *cs;  /* parsed */
  const char *cacert;
  bool insecure;
  bool proxy_given;
  const char *proxy_text; /* --proxy as given */
  struct proxy_url proxy;
  int verbosity;          /* 0 errors only, 1 default, 2 -v, 3 -vv */
  enum cli_log_format log_format;
  /* private */
  const char *connstr_arg, *connstr_file;
};

/* A command's own option: returns -1 to go on, or an exit code (after printing why). */
typedef int (*cli_option_fn)(void *ctx, int ch, char *arg);

/* Parses argv with the command's own short options (getopt letters, e.g. "H:d:") and long
 * options plus the shared ones, then resolves and checks the shared ones (connection string,
 * --cacert readable, logging set up). Returns -1 to go on (optind at the first operand), else
 * the exit code: CLI_OK after --help or --version, CLI_USAGE after a one-line message. */
int cli_parse(struct cli_common *c, int argc, char **argv, const char *own_short, const struct option *own_long,
              cli_option_fn on_option, void *ctx);

void cli_common_free(struct cli_common *c);

/* Applies the connection string, LogLevel, TLS trust, proxy (or the *_proxy environment) and
 * then the --set list to a listener or client. Returns CLI_OK or CLI_USAGE after a message. */
int cli_configure_listener(const struct cli_common *c, azr_listener *l, const char *const *sets, int nsets);
int cli_configure_client(const struct cli_common *c, azr_client *cl, const char *const *sets, int nsets);

/* Reads a small text file (only its first line when first_line; trailing blanks and newlines
 * cut) into a new string; NULL with errno. */
char *cli_read_small_file(const char *path, size_t max_len, bool first_line);

/* Parses a decimal in [lo, hi]; false for anything else. */
bool cli_parse_long(const char *text, long lo, long hi, long *out);

#endif
