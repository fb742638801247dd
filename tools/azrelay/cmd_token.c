/* SPDX-License-Identifier: MIT */
/* azrelay token (not implemented yet). */
#include <stdio.h>

#include "cli.h"

int cmd_token(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "azrelay token: not implemented yet\n");
  return CLI_FAIL;
}
