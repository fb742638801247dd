/* SPDX-License-Identifier: MIT */
/* azrelay: dispatches to one subcommand. */
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "azrelay.h"
#include "cli.h"

struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
};

static const struct command commands[] = {
    {"emulator", cmd_emulator, "run a local Azure Relay Hybrid Connections emulator"},
    {"listen", cmd_listen, "listen on a hybrid connection (echo, HTTP, forward to TCP)"},
    {"connect", cmd_connect, "connect to a hybrid connection as a sender (stdin/stdout, local TCP port)"},
    {"request", cmd_request, "send one HTTP request through a hybrid connection"},
    {"token", cmd_token, "print a SAS token for a connection string"},
};

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "azrelay %s: %s\n", cmd, msg);
  return CLI_USAGE;
}

int cli_print_version(void) {
  printf("azrelay %s\nlibazrelay %s, %s, libuv/%s\n", AZR_VERSION_STRING, azr_version(), curl_version(),
         uv_version_string());
  return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

static void usage(FILE *out) {
  fprintf(out, "usage: azrelay <command> [options]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out,
          "\n'azrelay <command> --help' shows a command's options; man azrelay has them all, with the\n"
          "exit codes. The connection string comes from -c, --connection-string-file or\n"
          "AZRELAY_CONNECTION_STRING.\n");
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
  if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) return cli_print_version();
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "azrelay: unknown command '%s' (commands: emulator, listen, connect, request, token; see azrelay --help)\n",
          argv[1]);
  return CLI_USAGE;
}
