/* SPDX-License-Identifier: MIT */
/* azrelay request (not implemented yet). */
#include <stdio.h>

#include "cli.h"

int cmd_request(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "azrelay request: not implemented yet\n");
  return CLI_FAIL;
}
