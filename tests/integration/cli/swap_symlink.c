/* SPDX-License-Identifier: MIT */
/* Test helper for cli_http_dir_symlink_race: swaps DIR/NAME between a regular file and a symbolic
 * link to TARGET as fast as it can, for SECONDS, with atomic renames (NAME always exists). This is
 * what an attacker with write access to a served folder does to win a check-then-open race.
 * Prints the number of swaps on exit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: swap_symlink DIR/NAME TARGET SECONDS\n");
    return 2;
  }
  const char *name = argv[1], *target = argv[2];
  double seconds = atof(argv[3]);
  char file_tmp[4096], link_tmp[4096];
  snprintf(file_tmp, sizeof file_tmp, "%s.swap-file", name);
  snprintf(link_tmp, sizeof link_tmp, "%s.swap-link", name);
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  unsigned long swaps = 0;
  for (;;) {
    FILE *f = fopen(file_tmp, "w");
    if (!f || fputs("public\n", f) < 0 || fclose(f) != 0 || rename(file_tmp, name) != 0) {
      perror("swap_symlink: file");
      return 1;
    }
    if (symlink(target, link_tmp) != 0 || rename(link_tmp, name) != 0) {
      perror("swap_symlink: link");
      return 1;
    }
    swaps += 2;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9 >= seconds) break;
  }
  printf("%lu\n", swaps);
  return 0;
}
