/* SPDX-License-Identifier: MIT */
/* Base64, percent-encoding and hex. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "azrelay/common.h"
#include "util/encoding.h"

static void test_base64_roundtrip(void **state) {
  (void)state;
  static const struct {
    const char *plain, *b64;
  } v[] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
           {"foobar", "Zm9vYmFy"}};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    struct azr__buf b;
    azr__buf_init(&b, NULL, 0);
    assert_int_equal(azr__base64_encode(&b, (const uint8_t *)v[i].plain, strlen(v[i].plain)), AZR_OK);
    assert_string_equal(azr__buf_cstr(&b), v[i].b64);
    azr__buf_reset(&b);
    assert_int_equal(azr__base64_decode(&b, v[i].b64, strlen(v[i].b64)), AZR_OK);
    assert_int_equal(b.len, strlen(v[i].plain));
    assert_memory_equal(azr__buf_cstr(&b), v[i].plain, b.len);
    azr__buf_free(&b);
  }
}

static void test_base64_rejects_junk(void **state) {
  (void)state;
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  assert_int_equal(azr__base64_decode(&b, "Zm9v!", 5), AZR_E_PARSE);
  assert_int_equal(azr__base64_decode(&b, "Z", 1), AZR_E_PARSE);
  azr__buf_free(&b);
}

static void test_url_encode_decode(void **state) {
  (void)state;
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  const char *in = "http://contoso.servicebus.windows.net/hyco/ a+b=c~";
  assert_int_equal(azr__url_encode(&b, in, strlen(in)), AZR_OK);
  assert_string_equal(azr__buf_cstr(&b), "http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco%2F%20a%2Bb%3Dc~");
  struct azr__buf d;
  azr__buf_init(&d, NULL, 0);
  assert_int_equal(azr__url_decode(&d, (const char *)b.data, b.len, false), AZR_OK);
  assert_string_equal(azr__buf_cstr(&d), in);
  azr__buf_reset(&d);
  assert_int_equal(azr__url_decode(&d, "a+b%2b%2B", 9, true), AZR_OK);
  assert_string_equal(azr__buf_cstr(&d), "a b++");
  azr__buf_reset(&d);
  assert_int_equal(azr__url_decode(&d, "%2", 2, false), AZR_E_PARSE);
  assert_int_equal(azr__url_decode(&d, "%zz", 3, false), AZR_E_PARSE);
  azr__buf_free(&b);
  azr__buf_free(&d);
}

static void test_buf_cap(void **state) {
  (void)state;
  struct azr__buf b;
  azr__buf_init(&b, NULL, 10);
  assert_int_equal(azr__buf_append(&b, "0123456789", 10), AZR_OK);
  assert_int_equal(azr__buf_append(&b, "x", 1), AZR_E_TOO_BIG);
  assert_int_equal(b.len, 10);
  azr__buf_consume(&b, 4);
  assert_string_equal(azr__buf_cstr(&b), "456789");
  assert_int_equal(azr__buf_printf(&b, "%d", 1234), AZR_OK);
  assert_int_equal(azr__buf_printf(&b, "%d", 1), AZR_E_TOO_BIG);
  azr__buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_base64_roundtrip),
      cmocka_unit_test(test_base64_rejects_junk),
      cmocka_unit_test(test_url_encode_decode),
      cmocka_unit_test(test_buf_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
