/* SPDX-License-Identifier: MIT */
/* azrelay listen (not implemented yet). */
#include <stdio.h>

#include "cli.h"

int cmd_listen(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "azrelay listen: not implemented yet\n");
  return CLI_FAIL;
}
