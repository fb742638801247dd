/* SPDX-License-Identifier: MIT */
/* Clock reads live here (and in io/), never in proto/: protocol code receives times as arguments. */
#ifndef AZR_UTIL_CLOCK_H
#define AZR_UTIL_CLOCK_H

#include <stdint.h>

/* Milliseconds from an arbitrary fixed point (CLOCK_MONOTONIC). */
uint64_t azr__now_ms(void);
/* Seconds since 1970-01-01T00:00:00Z. */
int64_t azr__wall_s(void);
/* "yyyy-MM-ddTHH:mm:ss" in UTC for the given epoch seconds. */
void azr__format_utc(int64_t epoch_s, char out[20]);

#endif
