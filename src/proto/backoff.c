/* SPDX-License-Identifier: MIT */
/* Reconnect backoff with jitter and the token renewal moment (see backoff.h for the rules). */
#include "proto/backoff.h"

/* Exponential base delay without overflow: first_ms doubled (attempt - 1) times, capped at max_ms. */
static uint32_t base_delay(unsigned attempt, uint32_t first_ms, uint32_t max_ms) {
  uint32_t cap = first_ms < max_ms ? max_ms : first_ms;
  uint64_t d = first_ms;
  for (unsigned i = 1; i < attempt && d < cap; i++) d *= 2;
  if (d > max_ms) d = max_ms;
  return (uint32_t)d;
}

uint32_t azr__backoff_delay_ms(unsigned attempt, uint32_t first_ms, uint32_t max_ms, uint32_t random_u32) {
  if (attempt == 0 || first_ms == 0 || max_ms == 0) return 0;
  uint32_t base = base_delay(attempt, first_ms, max_ms);
  uint32_t span = base / 5; /* 20% */
  uint64_t lo = (uint64_t)base - span;
  uint64_t hi = (uint64_t)base + span;
  if (hi > max_ms) hi = max_ms; /* base <= max_ms, so lo <= hi still */
  /* Scale the random value onto [0, hi - lo] by multiplication (no modulo bias worth noting). */
  uint64_t offset = ((uint64_t)random_u32 * (hi - lo + 1)) >> 32;
  return (uint32_t)(lo + offset);
}

int64_t azr__renew_at_s(int64_t issued_s, int64_t expiry_s, int threshold_s) {
  if (expiry_s <= issued_s) return issued_s;
  /* Differences of far-apart int64 values could overflow; no real token lives that long. */
  if (issued_s < 0 && expiry_s > INT64_MAX + issued_s) return issued_s + INT64_MAX / 2;
  int64_t lifetime = expiry_s - issued_s;
  int64_t threshold = threshold_s < 0 ? 0 : threshold_s;
  if (threshold >= lifetime) return issued_s + lifetime / 2 + lifetime % 2;
  return expiry_s - threshold;
}
