/* SPDX-License-Identifier: MIT */
/* azrelay token: prints a SAS token for a connection string. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "azrelay.h"
#include "cli.h"

#define DEFAULT_TTL_S 3600L
#define MAX_TTL_S 2147483647L

static void usage(FILE *out) {
  fprintf(out,
          "usage: azrelay token -c CONNECTION_STRING [--ttl SECONDS] [--entity PATH]\n"
          "\n"
          "Prints a SharedAccessSignature token on stdout.\n"
          "\n"
          "  -c, --connection-string S  Endpoint=sb://...;SharedAccessKeyName=...;SharedAccessKey=...[;EntityPath=...]\n"
          "                             (a connection string with SharedAccessSignature=... prints that token as is)\n"
          "  -t, --ttl SECONDS          lifetime of the token (default %ld)\n"
          "  -e, --entity PATH          hybrid connection the token is for (default: EntityPath; with neither,\n"
          "                             the token covers the whole namespace)\n"
          "  -h, --help                 show this help\n",
          DEFAULT_TTL_S);
}

static int parse_ttl(const char *s, long *out) {
  if (!s || *s < '0' || *s > '9') return -1;
  errno = 0;
  char *end;
  long v = strtol(s, &end, 10);
  if (errno || *end || v <= 0 || v > MAX_TTL_S) return -1;
  *out = v;
  return 0;
}

int cmd_token(int argc, char **argv) {
  static const struct option options[] = {{"connection-string", required_argument, NULL, 'c'},
                                          {"ttl", required_argument, NULL, 't'},
                                          {"entity", required_argument, NULL, 'e'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  const char *connstr = NULL, *entity = NULL;
  long ttl = DEFAULT_TTL_S;
  bool ttl_given = false;
  int opt;
  opterr = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, ":c:t:e:h", options, NULL)) != -1) {
    switch (opt) {
    case 'c':
      connstr = optarg;
      break;
    case 't':
      if (parse_ttl(optarg, &ttl)) return cli_usage_error("token", "--ttl needs a whole number of seconds, 1-%ld", MAX_TTL_S);
      ttl_given = true;
      break;
    case 'e':
      entity = optarg;
      break;
    case 'h':
      usage(stdout);
      return CLI_OK;
    case ':':
      return cli_usage_error("token", "option '%s' needs a value", argv[optind - 1]);
    default:
      return cli_usage_error("token", "unknown option '%s' (see azrelay token --help)", argv[optind - 1]);
    }
  }
  if (optind < argc) return cli_usage_error("token", "unexpected argument '%s'", argv[optind]);
  if (!connstr) return cli_usage_error("token", "missing -c CONNECTION_STRING (see azrelay token --help)");

  char err[256];
  azr_connection_string *cs = NULL;
  int rc = azr_connection_string_parse(connstr, &cs, err, sizeof err);
  if (rc) return cli_usage_error("token", "%s", err[0] ? err : azr_strerror(rc));

  if (cs->shared_access_signature) {
    if (ttl_given || entity)
      fprintf(stderr, "azrelay token: the connection string carries a SharedAccessSignature; "
                      "printing it unchanged (--ttl/--entity ignored)\n");
    printf("%s\n", cs->shared_access_signature);
    azr_connection_string_free(cs);
    return CLI_OK;
  }

  char *token = NULL;
  int64_t expiry = (int64_t)time(NULL) + ttl;
  rc = azr_sas_token_for_entity(cs->host, entity ? entity : cs->entity_path, cs->key_name, cs->key, expiry, &token);
  azr_connection_string_free(cs);
  if (rc) {
    fprintf(stderr, "azrelay token: cannot create the token: %s\n", azr_strerror(rc));
    return CLI_FAIL;
  }
  printf("%s\n", token);
  azr_free(token);
  return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}
