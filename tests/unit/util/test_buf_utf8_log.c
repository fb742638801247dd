/* SPDX-License-Identifier: MIT */
/* UTF-8 validation, secret redaction, status strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "azrelay/common.h"
#include "util/log.h"
#include "util/utf8.h"

static void test_utf8_valid_and_invalid(void **state) {
  (void)state;
  static const char *good[] = {"", "plain ascii text longer than eight bytes", "\xc3\xa9", "\xe2\x82\xac",
                               "\xf0\x9f\x98\x80", "\xed\x9f\xbf", "\xf4\x8f\xbf\xbf"};
  static const char *bad[] = {"\x80", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                              "\xf5\x80\x80\x80", "\xff", "\xc3", "abc\xe2\x82"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    assert_true(azr__utf8_valid((const uint8_t *)good[i], strlen(good[i])));
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_false(azr__utf8_valid((const uint8_t *)bad[i], strlen(bad[i])));
}

static void test_utf8_split_feed(void **state) {
  (void)state;
  const char *s = "h\xc3\xa9llo \xf0\x9f\x98\x80 w\xe2\x82\xacrld";
  size_t n = strlen(s);
  for (size_t cut = 0; cut <= n; cut++) {
    struct azr__utf8 v = AZR__UTF8_INIT;
    assert_true(azr__utf8_feed(&v, (const uint8_t *)s, cut));
    assert_true(azr__utf8_feed(&v, (const uint8_t *)s + cut, n - cut));
    assert_true(azr__utf8_complete(&v));
  }
}

static void test_redact(void **state) {
  (void)state;
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  assert_int_equal(azr__redact(&b, "token SharedAccessSignature sr=http%3A%2F%2Fx&sig=SECRET%3D&se=1&skn=rule"),
                   AZR_OK);
  assert_null(strstr(azr__buf_cstr(&b), "SECRET"));
  assert_non_null(strstr(azr__buf_cstr(&b), "skn=rule"));
  assert_int_equal(azr__redact(&b, "Endpoint=sb://h/;SharedAccessKeyName=k;SharedAccessKey=SECRET;EntityPath=e"),
                   AZR_OK);
  assert_null(strstr(azr__buf_cstr(&b), "SECRET"));
  assert_non_null(strstr(azr__buf_cstr(&b), "EntityPath=e"));
  assert_int_equal(azr__redact(&b, "GET /$hc/x?sb-hc-action=listen&sb-hc-token=SECRET&sb-hc-id=1"), AZR_OK);
  assert_null(strstr(azr__buf_cstr(&b), "SECRET"));
  assert_non_null(strstr(azr__buf_cstr(&b), "sb-hc-id=1"));
  assert_int_equal(azr__redact(&b, "ServiceBusAuthorization: SECRET\r\nHost: x"), AZR_OK);
  assert_null(strstr(azr__buf_cstr(&b), "SECRET"));
  assert_int_equal(azr__redact(&b, "{\"renewToken\":{\"token\":\"SECRET\"}}"), AZR_OK);
  assert_null(strstr(azr__buf_cstr(&b), "SECRET"));
  azr__buf_free(&b);
}

static void test_status_strings(void **state) {
  (void)state;
  assert_string_equal(azr_status_name(AZR_E_WOULDBLOCK), "AZR_E_WOULDBLOCK");
  assert_int_equal(AZR_E_WOULDBLOCK, 10035);
  assert_int_equal(AZR_E_INVALID_CONN_ID, 126);
  assert_string_equal(azr_status_name(-77), "AZR_E_UNKNOWN");
  assert_non_null(azr_strerror(-77));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_utf8_valid_and_invalid),
      cmocka_unit_test(test_utf8_split_feed),
      cmocka_unit_test(test_redact),
      cmocka_unit_test(test_status_strings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
