/* SPDX-License-Identifier: MIT */
/* Reconnect backoff and token renewal timing, simulated over days in microseconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/backoff.h"

/* A small deterministic generator so failures reproduce. */
static uint32_t next_random(uint64_t *state) {
  *state = *state * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(*state >> 32);
}

static void test_backoff_sequence(void **state) {
  (void)state;
  /* Middle of the jitter window: exactly the base. */
  uint32_t mid = 0x80000000u;
  assert_int_equal(azr__backoff_delay_ms(0, 1000, 30000, mid), 0);
  static const uint32_t want[] = {0, 1000, 2000, 4000, 8000, 16000};
  for (unsigned a = 1; a < 6; a++) {
    uint32_t d = azr__backoff_delay_ms(a, 1000, 30000, mid);
    assert_true(d >= want[a] - 1 && d <= want[a] + 1);
  }
  /* From attempt 6 the 32 s base is capped at 30 s, and jitter never goes above the cap. */
  for (unsigned a = 6; a < 100; a++) {
    assert_int_equal(azr__backoff_delay_ms(a, 1000, 30000, UINT32_MAX), 30000);
    assert_int_equal(azr__backoff_delay_ms(a, 1000, 30000, 0), 24000);
  }
  /* Extremes of the random value give the ends of the +-20% window. */
  assert_int_equal(azr__backoff_delay_ms(1, 1000, 30000, 0), 800);
  assert_int_equal(azr__backoff_delay_ms(1, 1000, 30000, UINT32_MAX), 1200);
  assert_int_equal(azr__backoff_delay_ms(3, 1000, 30000, 0), 3200);
  assert_int_equal(azr__backoff_delay_ms(3, 1000, 30000, UINT32_MAX), 4800);
}

static void test_backoff_edge_cases(void **state) {
  (void)state;
  /* Huge attempt counts do not overflow. */
  assert_int_equal(azr__backoff_delay_ms(UINT32_MAX, 1000, 30000, UINT32_MAX), 30000);
  assert_int_equal(azr__backoff_delay_ms(64, UINT32_MAX, UINT32_MAX, UINT32_MAX), UINT32_MAX);
  assert_true(azr__backoff_delay_ms(40, UINT32_MAX / 2, UINT32_MAX, UINT32_MAX) <= UINT32_MAX);
  /* max below first: max wins. */
  assert_int_equal(azr__backoff_delay_ms(1, 5000, 2000, UINT32_MAX), 2000);
  assert_true(azr__backoff_delay_ms(1, 5000, 2000, 0) >= 1600);
  /* Zero delays stay zero; tiny ones keep their bounds. */
  assert_int_equal(azr__backoff_delay_ms(5, 0, 30000, UINT32_MAX), 0);
  assert_int_equal(azr__backoff_delay_ms(5, 1000, 0, UINT32_MAX), 0);
  assert_int_equal(azr__backoff_delay_ms(1, 1, 1, UINT32_MAX), 1);
  assert_int_equal(azr__backoff_delay_ms(1, 4, 100, 0), 4); /* 20% of 4 rounds to 0 */
}

static void test_backoff_jitter_bounded_and_spread(void **state) {
  (void)state;
  uint64_t rng = 42;
  static const uint32_t firsts[] = {1, 7, 100, 1000, 5000, 60000};
  static const uint32_t maxes[] = {1, 10, 1000, 30000, 300000, 86400000};
  for (size_t f = 0; f < 6; f++) {
    for (size_t m = 0; m < 6; m++) {
      for (unsigned a = 1; a < 40; a++) {
        uint64_t base = firsts[f];
        for (unsigned i = 1; i < a && base < maxes[m]; i++) base *= 2;
        if (base > maxes[m]) base = maxes[m];
        uint32_t lo = UINT32_MAX, hi = 0;
        for (int k = 0; k < 2000; k++) {
          uint32_t d = azr__backoff_delay_ms(a, firsts[f], maxes[m], next_random(&rng));
          assert_true(d <= maxes[m]);
          assert_true(d >= base - base / 5);
          assert_true(d <= base + base / 5);
          if (d < lo) lo = d;
          if (d > hi) hi = d;
        }
        /* The jitter really spreads the delays (when the window is wider than a few ms). */
        if (base >= 1000) assert_true(hi - lo >= base / 10);
      }
    }
  }
}

static void test_renew_follows_threshold(void **state) {
  (void)state;
  /* The reference's rule: renew when the remaining validity reaches the threshold. */
  assert_int_equal(azr__renew_at_s(1000, 1000 + 3600, 300), 1000 + 3300);
  assert_int_equal(azr__renew_at_s(1000, 1000 + 3600, 100), 1000 + 3500);
  assert_int_equal(azr__renew_at_s(1000, 1000 + 20, 15), 1005);
  assert_int_equal(azr__renew_at_s(1000, 1000 + 3600, 0), 1000 + 3600);
  assert_int_equal(azr__renew_at_s(1000, 1000 + 3600, -5), 1000 + 3600);
  /* A threshold as long as the lifetime (or longer): halfway. */
  assert_int_equal(azr__renew_at_s(1000, 1000 + 300, 300), 1150);
  assert_int_equal(azr__renew_at_s(1000, 1000 + 20, 3600), 1010);
  assert_int_equal(azr__renew_at_s(1000, 1000 + 3, 300), 1002);
  assert_int_equal(azr__renew_at_s(1000, 1001, 300), 1001);
  /* Expired or unknown expiry: now. */
  assert_int_equal(azr__renew_at_s(1000, 1000, 300), 1000);
  assert_int_equal(azr__renew_at_s(1000, 0, 300), 1000);
  /* Extreme values do not overflow. */
  assert_true(azr__renew_at_s(INT64_MIN + 1, INT64_MAX, 300) > INT64_MIN + 1);
  assert_int_equal(azr__renew_at_s(0, INT64_MAX, 300), INT64_MAX - 300);
}

/* Renews back to back for simulated days under many validity/threshold pairs: never after expiry,
 * always later than the previous renewal, never earlier than the threshold allows. */
static void test_renew_simulated_days(void **state) {
  (void)state;
  uint64_t rng = 7;
  long renewals = 0;
  const int64_t days = 30 * 86400;
  for (int pair = 0; pair < 300; pair++) {
    int64_t validity = 1 + (int64_t)(next_random(&rng) % (pair < 100 ? 60 : 7200));
    int threshold = (int)(next_random(&rng) % 8000) - 100;
    int64_t now = 1700000000 + (int64_t)(next_random(&rng) % 100000);
    int64_t end = now + days;
    while (now < end) {
      int64_t expiry = now + validity;
      int64_t at = azr__renew_at_s(now, expiry, threshold);
      assert_true(at > now);
      assert_true(at <= expiry);
      if (threshold > 0 && threshold < validity) assert_int_equal(expiry - at, threshold);
      else if (threshold >= validity) assert_true(at - now >= validity / 2);
      /* The renewal may happen late (a busy loop): the next token starts then, up to expiry. */
      now = at + (int64_t)(next_random(&rng) % (uint64_t)(expiry - at + 1));
      renewals++;
    }
  }
  assert_true(renewals > 1000000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_backoff_sequence),          cmocka_unit_test(test_backoff_edge_cases),
      cmocka_unit_test(test_backoff_jitter_bounded_and_spread), cmocka_unit_test(test_renew_follows_threshold),
      cmocka_unit_test(test_renew_simulated_days),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
