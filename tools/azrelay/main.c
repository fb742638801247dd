/* SPDX-License-Identifier: MIT */
/* azrelay: dispatches to one subcommand. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "azrelay.h"
#include "cli.h"

struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
};

static const struct command commands[] = {
    {"emulator", cmd_emulator, "run a local Azure Relay Hybrid Connections emulator"},
    {"listen", cmd_listen, "listen on a hybrid connection (echo, HTTP, forward)"},
    {"connect", cmd_connect, "connect to a hybrid connection as a sender"},
    {"request", cmd_request, "send one HTTP request through a hybrid connection"},
    {"token", cmd_token, "print a SAS token for a connection string"},
};

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "azrelay %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  return CLI_USAGE;
}

static void usage(FILE *out) {
  fprintf(out, "usage: azrelay <command> [options]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nazrelay <command> --help shows a command's options.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLI_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return CLI_OK;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("azrelay %s\n", azr_version());
    return CLI_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "azrelay: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return CLI_USAGE;
}
