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

/* forms[] with "%s" replaced by name (a literal format would need one test per form). */
static void fill(char *out, size_t cap, const char *form, const char *name) {
  const char *at = strstr(form, "%s");
  size_t before = (size_t)(at - form), n = strlen(name);
  assert_true(before + n + strlen(at + 2) < cap);
  memcpy(out, form, before);
  memcpy(out + before, name, n);
  strcpy(out + before + n, at + 2);
}

/* Every secret name in every form a log line can carry it: headers (also in a head joined with
 * "; "), JSON members (also escaped inside a JSON string), query and connection-string values. */
static void test_redact_every_form(void **state) {
  (void)state;
  static const char *const names[] = {"Authorization", "Proxy-Authorization", "ServiceBusAuthorization", "Cookie",
                                      "Set-Cookie", "sb-hc-token", "sig", "SharedAccessKey",
                                      "SharedAccessSignature", "token", "key", "password"};
  static const char *const forms[] = {
      "%s: Bearer SECRET-1",
      "GET / HTTP/1.1; Host: x; %s: Basic SECRET-2; Accept: */*",
      "{\"%s\":\"SECRET-3\",\"Host\":\"x\"}",
      "{\"%s\" : \"SECRET \\\"4\\\" x\"}",
      "\"{\\\"%s\\\":\\\"SECRET-5\\\"}\"",
      "https://h/p?a=1&%s=SECRET-6&b=2",
      "Endpoint=sb://h/;%s=SECRET-7;EntityPath=e",
      "x?%s%3DSECRET-8&y=1",
  };
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  char line[512];
  for (size_t n = 0; n < sizeof names / sizeof *names; n++) {
    for (size_t f = 0; f < sizeof forms / sizeof *forms; f++) {
      fill(line, sizeof line, forms[f], names[n]);
      assert_int_equal(azr__redact(&b, line), AZR_OK);
      if (strstr(azr__buf_cstr(&b), "SECRET")) fail_msg("leaked: %s -> %s", line, azr__buf_cstr(&b));
    }
  }
  /* Upper and lower case alike; what surrounds a secret stays. */
  assert_int_equal(azr__redact(&b, "GET /; host: x; AUTHORIZATION: SECRET; Accept: */*"), AZR_OK);
  assert_string_equal(azr__buf_cstr(&b), "GET /; host: x; AUTHORIZATION: ***; Accept: */*");
  assert_int_equal(azr__redact(&b, "Cookie: a=SECRET; b=SECRET2; Host: x"), AZR_OK);
  assert_string_equal(azr__buf_cstr(&b), "Cookie: ***; Host: x");
  assert_int_equal(azr__redact(&b, "{\"Authorization\":\"Bearer \\\"SECRET\\\"\",\"x\":1}"), AZR_OK);
  assert_string_equal(azr__buf_cstr(&b), "{\"Authorization\":\"***\",\"x\":1}");
  assert_int_equal(azr__redact(&b, "SharedAccessSignature sr=a&sig=SECRET&se=1&skn=rule"), AZR_OK);
  assert_string_equal(azr__buf_cstr(&b), "SharedAccessSignature sr=a&sig=***&se=1&skn=rule");
  /* Names inside other words, and names without a value, are left alone. */
  assert_int_equal(azr__redact(&b, "keyboard monkey=1 tokens: 3 signal=2 the key was wrong"), AZR_OK);
  assert_string_equal(azr__buf_cstr(&b), "keyboard monkey=1 tokens: 3 signal=2 the key was wrong");
  assert_int_equal(azr__redact(&b, "{\"token\":5,\"key\":null}"), AZR_OK);
  assert_string_equal(azr__buf_cstr(&b), "{\"token\":5,\"key\":null}");
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
      cmocka_unit_test(test_redact_every_form),
      cmocka_unit_test(test_status_strings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
