/* SPDX-License-Identifier: MIT */
/* The control channel's state machine and fail-fast rule, replayed against a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "azrelay/common.h"
#include "proto/control_policy.h"

#define MID 0x80000000u /* random value in the middle of the jitter window: the base delay */

static const struct azr__cc_policy defaults = {1000, 30000, 30000, 10000, true, false, false};

static void test_classify(void **state) {
  (void)state;
  assert_int_equal(azr__cc_classify(AZR_E_AUTH, 401), AZR__CC_FAIL_AUTH);
  assert_int_equal(azr__cc_classify(AZR_E_AUTH, 403), AZR__CC_FAIL_AUTH);
  assert_int_equal(azr__cc_classify(AZR_E_ENDPOINT_NOT_FOUND, 404), AZR__CC_FAIL_NOT_FOUND);
  assert_int_equal(azr__cc_classify(AZR_E_TLS_VERIFY, 0), AZR__CC_FAIL_CONFIG);
  assert_int_equal(azr__cc_classify(AZR_E_TLS_CREDENTIALS, 0), AZR__CC_FAIL_CONFIG);
  assert_int_equal(azr__cc_classify(AZR_E_HOST_NOT_FOUND, 0), AZR__CC_FAIL_CONFIG);
  assert_int_equal(azr__cc_classify(AZR_E_CONN_REFUSED, 0), AZR__CC_FAIL_TRANSIENT);
  assert_int_equal(azr__cc_classify(AZR_E_HTTP_STATUS, 503), AZR__CC_FAIL_TRANSIENT);
  assert_int_equal(azr__cc_classify(AZR_E_TIMEOUT, 0), AZR__CC_FAIL_TRANSIENT);
  assert_int_equal(azr__cc_classify(AZR_E_BAD_TOKEN, 0), AZR__CC_FAIL_TRANSIENT); /* a token provider's */
  assert_int_equal(azr__cc_classify(AZR_OK, 0), AZR__CC_FAIL_TRANSIENT);          /* a close frame */
}

/* Before the first open every mistake stops at once; a transient failure is retried with backoff. */
static void test_startup_fails_fast(void **state) {
  (void)state;
  static const enum azr__cc_failure fatal[] = {AZR__CC_FAIL_AUTH, AZR__CC_FAIL_NOT_FOUND, AZR__CC_FAIL_CONFIG};
  for (size_t i = 0; i < sizeof fatal / sizeof *fatal; i++) {
    struct azr__cc cc;
    azr__cc_start(&cc);
    assert_int_equal(cc.state, AZR__CC_CONNECTING);
    struct azr__cc_decision d = azr__cc_failed(&cc, &defaults, fatal[i], 1000, MID);
    assert_true(d.stop);
    assert_int_equal(cc.state, AZR__CC_STOPPED);
  }
  struct azr__cc cc;
  azr__cc_start(&cc);
  uint64_t now = 0;
  /* At the cap the window is [0.8 max, max]: its middle is 27 s. */
  static const uint32_t want[] = {0, 1000, 2000, 4000, 8000, 16000, 27000, 27000};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    struct azr__cc_decision d = azr__cc_failed(&cc, &defaults, AZR__CC_FAIL_TRANSIENT, now, MID);
    assert_false(d.stop);
    assert_int_equal(cc.state, AZR__CC_WAITING);
    assert_in_range(d.delay_ms, want[i] ? want[i] - 1 : 0, want[i] + 1);
    now += d.delay_ms;
    azr__cc_connecting(&cc);
    assert_int_equal(cc.state, AZR__CC_CONNECTING);
  }
}

static void test_startup_retry_when_asked(void **state) {
  (void)state;
  struct azr__cc_policy p = defaults;
  p.retry_on_startup_error = true;
  p.auth_error_delay_ms = 5000;
  struct azr__cc cc;
  azr__cc_start(&cc);
  struct azr__cc_decision d = azr__cc_failed(&cc, &p, AZR__CC_FAIL_NOT_FOUND, 0, MID);
  assert_false(d.stop);
  assert_int_equal(d.delay_ms, 5000); /* refusals wait at least AuthErrorRetryDelayMs */
  azr__cc_connecting(&cc);
  d = azr__cc_failed(&cc, &p, AZR__CC_FAIL_CONFIG, 5000, MID);
  assert_false(d.stop);
  assert_in_range(d.delay_ms, 999, 1001); /* certificate trouble: plain backoff */
  azr__cc_connecting(&cc);
  d = azr__cc_failed(&cc, &p, AZR__CC_FAIL_AUTH, 6000, MID);
  assert_false(d.stop);
  assert_int_equal(d.delay_ms, 5000);
}

/* Once online: 401/403 retried (keys rotate) unless RetryOnAuthError=false; 404 stops unless
 * RetryOnNotFound=true; certificate and DNS trouble are retried. */
static void test_after_online(void **state) {
  (void)state;
  struct {
    enum azr__cc_failure why;
    bool retry_auth, retry_not_found, stop;
  } cases[] = {
      {AZR__CC_FAIL_AUTH, true, false, false},     {AZR__CC_FAIL_AUTH, false, false, true},
      {AZR__CC_FAIL_NOT_FOUND, true, false, true}, {AZR__CC_FAIL_NOT_FOUND, true, true, false},
      {AZR__CC_FAIL_CONFIG, false, false, false},  {AZR__CC_FAIL_TRANSIENT, false, false, false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    struct azr__cc_policy p = defaults;
    p.retry_on_auth_error = cases[i].retry_auth;
    p.retry_on_not_found = cases[i].retry_not_found;
    struct azr__cc cc;
    azr__cc_start(&cc);
    azr__cc_opened(&cc, 0);
    assert_int_equal(cc.state, AZR__CC_ONLINE);
    struct azr__cc_decision d = azr__cc_failed(&cc, &p, cases[i].why, 60000, MID);
    assert_int_equal(d.stop, cases[i].stop);
    assert_int_equal(cc.state, cases[i].stop ? AZR__CC_STOPPED : AZR__CC_WAITING);
    /* Also on a later attempt (not online in between): the rule depends on the past, not the last state. */
    if (!cases[i].stop) {
      azr__cc_connecting(&cc);
      d = azr__cc_failed(&cc, &p, cases[i].why, 120000, MID);
      assert_false(d.stop);
    }
  }
}

/* A session that stayed up resets the backoff (the next retry is immediate); one the relay closes at
 * once does not, so a recycle loop backs off. */
static void test_healthy_session_resets_backoff(void **state) {
  (void)state;
  struct azr__cc cc;
  azr__cc_start(&cc);
  uint64_t now = 0;
  uint32_t last = 0;
  for (int i = 0; i < 6; i++) {
    azr__cc_opened(&cc, now);
    now += 500; /* closed after half a second, every time */
    struct azr__cc_decision d = azr__cc_failed(&cc, &defaults, AZR__CC_FAIL_TRANSIENT, now, MID);
    assert_false(d.stop);
    if (i > 1) assert_true(d.delay_ms > last);
    last = d.delay_ms;
    now += d.delay_ms;
    azr__cc_connecting(&cc);
  }
  assert_true(last >= 16000 - 1);
  azr__cc_opened(&cc, now);
  now += 10000; /* healthy */
  struct azr__cc_decision d = azr__cc_failed(&cc, &defaults, AZR__CC_FAIL_TRANSIENT, now, MID);
  assert_int_equal(d.delay_ms, 0);
  /* A day of hourly relay restarts: every reconnect immediate, never stopped. */
  for (int h = 0; h < 24; h++) {
    azr__cc_connecting(&cc);
    azr__cc_opened(&cc, now);
    now += 3600u * 1000u;
    d = azr__cc_failed(&cc, &defaults, AZR__CC_FAIL_TRANSIENT, now, MID);
    assert_false(d.stop);
    assert_int_equal(d.delay_ms, 0);
  }
}

static void test_stop(void **state) {
  (void)state;
  struct azr__cc cc;
  azr__cc_start(&cc);
  azr__cc_opened(&cc, 5);
  azr__cc_stop(&cc);
  assert_int_equal(cc.state, AZR__CC_STOPPED);
  azr__cc_connecting(&cc); /* a stale timer does not revive it */
  assert_int_equal(cc.state, AZR__CC_STOPPED);
  azr__cc_start(&cc); /* a new start forgets the past */
  assert_false(cc.ever_online);
  assert_int_equal(cc.attempt, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_classify),
      cmocka_unit_test(test_startup_fails_fast),
      cmocka_unit_test(test_startup_retry_when_asked),
      cmocka_unit_test(test_after_online),
      cmocka_unit_test(test_healthy_session_resets_backoff),
      cmocka_unit_test(test_stop),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
