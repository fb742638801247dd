/* SPDX-License-Identifier: MIT */
/* azrelay connect (not implemented yet). */
#include <stdio.h>

#include "cli.h"

int cmd_connect(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "azrelay connect: not implemented yet\n");
  return CLI_FAIL;
}
