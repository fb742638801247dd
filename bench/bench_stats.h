/* SPDX-License-Identifier: MIT */
/* Process measurements shared by the benchmark drivers: CPU time, resident memory, clocks. */
#ifndef AZR_BENCH_STATS_H
#define AZR_BENCH_STATS_H

#include <stdint.h>

/** CPU time of this process so far (getrusage RUSAGE_SELF), in seconds. */
struct bench_cpu {
  double user_s;
  double sys_s;
};
void bench_cpu_now(struct bench_cpu *out);

/** Resident set size and its peak from /proc/self/status (VmRSS, VmHWM), in KiB; 0 when unknown. */
void bench_rss_kib(uint64_t *rss, uint64_t *peak);

/** Monotonic time in seconds. */
double bench_now_s(void);

/** Raises the soft limit on open files to the hard limit (1000 idle connections need it). */
void bench_raise_fd_limit(void);

/** Parses a byte count with an optional K or M suffix (KiB, MiB). Returns 0 on success. */
int bench_parse_size(const char *text, uint64_t *out);

#endif
