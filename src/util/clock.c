/* SPDX-License-Identifier: MIT */
/* Monotonic and wall clocks. */
#include "util/clock.h"

#include <stdio.h>
#include <time.h>

uint64_t azr__now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t azr__wall_s(void) { return (int64_t)time(NULL); }

void azr__format_utc(int64_t epoch_s, char out[20]) {
  time_t t = (time_t)epoch_s;
  struct tm tm;
  gmtime_r(&t, &tm);
  if (strftime(out, 20, "%Y-%m-%dT%H:%M:%S", &tm) == 0) out[0] = '\0';
}
