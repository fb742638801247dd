/* SPDX-License-Identifier: MIT */
/* azrelay emulator (not implemented yet). */
#include <stdio.h>

#include "cli.h"

int cmd_emulator(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "azrelay emulator: not implemented yet\n");
  return CLI_FAIL;
}
