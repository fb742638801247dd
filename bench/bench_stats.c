/* SPDX-License-Identifier: MIT */
/* Process measurements shared by the benchmark drivers: CPU time, resident memory, clocks. */
#include "bench_stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double tv_seconds(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

void bench_cpu_now(struct bench_cpu *out) {
  struct rusage ru;
  memset(out, 0, sizeof *out);
  if (getrusage(RUSAGE_SELF, &ru) != 0) return;
  out->user_s = tv_seconds(ru.ru_utime);
  out->sys_s = tv_seconds(ru.ru_stime);
}

void bench_rss_kib(uint64_t *rss, uint64_t *peak) {
  *rss = 0;
  *peak = 0;
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    unsigned long long v;
    if (sscanf(line, "VmRSS: %llu", &v) == 1) *rss = v;
    else if (sscanf(line, "VmHWM: %llu", &v) == 1) *peak = v;
  }
  fclose(f);
}

double bench_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rl.rlim_cur = rl.rlim_max;
  (void)setrlimit(RLIMIT_NOFILE, &rl);
}

int bench_parse_size(const char *text, uint64_t *out) {
  if (!text || !*text || *text == '-') return -1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno || end == text) return -1;
  uint64_t scale = 1;
  if (*end == 'K' || *end == 'k') scale = 1024, end++;
  else if (*end == 'M' || *end == 'm') scale = 1024 * 1024, end++;
  if (*end) return -1;
  if (v > UINT64_MAX / scale) return -1;
  *out = (uint64_t)v * scale;
  return 0;
}
