/* SPDX-License-Identifier: MIT */
/* azrelay token: prints a SAS token for a connection string. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "azrelay.h"
#include "cli.h"
#include "cli_log.h"
#include "cli_opts.h"

#define DEFAULT_TTL_S 3600L
#define MAX_TTL_S 2147483647L

static void usage(FILE *out) {
  fprintf(out,
          "usage: azrelay token [-c CONNSTR] [--ttl SECONDS] [--entity PATH]\n"
          "\n"
          "Prints a SharedAccessSignature token on stdout (a connection string with\n"
          "SharedAccessSignature=... prints that token as is).\n"
          "\n"
          "  -c, --connection-string S  (or --connection-string-file FILE, or AZRELAY_CONNECTION_STRING)\n"
          "  -t, --ttl SECONDS          lifetime of the token (default %ld)\n"
          "  -e, --entity PATH          hybrid connection the token is for (default: EntityPath; with neither,\n"
          "                             the token covers the whole namespace)\n"
          "  -v, --verbose, -q, --quiet, --log-level N, --log-format F, -h, --help, --version\n"
          "Exit codes: 0 printed, 1 failure, 2 usage (see man azrelay).\n",
          DEFAULT_TTL_S);
}

struct token_opts {
  struct cli_common common;
  const char *entity;
  long ttl;
  bool ttl_given;
};

static int parse_option(void *ctx, int ch, char *arg) {
  struct token_opts *o = ctx;
  switch (ch) {
  case 't':
    if (!cli_parse_long(arg, 1, MAX_TTL_S, &o->ttl))
      return cli_usage_error("token", "--ttl needs a whole number of seconds, 1-%ld (got '%s')", MAX_TTL_S, arg);
    o->ttl_given = true;
    break;
  case 'e': o->entity = arg; break;
  }
  return -1;
}

int cmd_token(int argc, char **argv) {
  static const struct option options[] = {{"ttl", required_argument, NULL, 't'},
                                          {"entity", required_argument, NULL, 'e'},
                                          {NULL, 0, NULL, 0}};
  struct token_opts o = {.ttl = DEFAULT_TTL_S};
  o.common = (struct cli_common){.cmd = "token", .usage = usage, .uses = CLI_USES_CONNSTR};
  int rc = cli_parse(&o.common, argc, argv, "t:e:", options, parse_option, &o);
  if (rc == -1 && optind < argc) rc = cli_usage_error("token", "unexpected argument '%s'", argv[optind]);
  if (rc != -1) {
    cli_common_free(&o.common);
    return rc;
  }
  const azr_connection_string *cs = o.common.cs;
  if (cs->shared_access_signature) {
    if (o.ttl_given || o.entity)
      cli_log(CLI_WARN, "the connection string carries a SharedAccessSignature; printing it unchanged "
                        "(--ttl/--entity ignored)");
    printf("%s\n", cs->shared_access_signature);
    cli_common_free(&o.common);
    return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
  }
  char *token = NULL;
  int64_t expiry = (int64_t)time(NULL) + o.ttl;
  rc = azr_sas_token_for_entity(cs->host, o.entity ? o.entity : cs->entity_path, cs->key_name, cs->key, expiry, &token);
  cli_common_free(&o.common);
  if (rc) {
    cli_log(CLI_ERROR, "cannot create the token: %s", azr_strerror(rc));
    return rc == AZR_E_INVALID_ARG ? CLI_USAGE : CLI_FAIL;
  }
  printf("%s\n", token);
  azr_free(token);
  return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}
