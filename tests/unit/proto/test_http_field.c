/* SPDX-License-Identifier: MIT */
/* proto/http_field: names and values that could split an HTTP head are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/http_field.h"

#define NAME_OK(s) azr__http_field_name_ok(s, strlen(s))
#define VALUE_OK(s) azr__http_field_value_ok(s, strlen(s))

static void test_names(void **state) {
  (void)state;
  assert_true(NAME_OK("Content-Type"));
  assert_true(NAME_OK("x-custom_1.2!#$%&'*+^`|~"));
  assert_false(NAME_OK(""));
  assert_false(NAME_OK("Bad Name"));
  assert_false(NAME_OK("Name:"));
  assert_false(NAME_OK("X\r\nSet-Cookie"));
  assert_false(NAME_OK("caf\xc3\xa9"));
  assert_false(azr__http_field_name_ok("A\0B", 3));
  assert_false(azr__http_field_name_ok(NULL, 0));
}

static void test_values(void **state) {
  (void)state;
  assert_true(VALUE_OK(""));
  assert_true(VALUE_OK("text/plain; charset=utf-8"));
  assert_true(VALUE_OK("a\tb"));
  assert_true(VALUE_OK("caf\xc3\xa9"));
  assert_false(VALUE_OK("ok\r\nSet-Cookie: x=1"));
  assert_false(VALUE_OK("ok\nSet-Cookie: x=1"));
  assert_false(VALUE_OK("ok\r"));
  assert_false(VALUE_OK("del\x7f"));
  assert_false(azr__http_field_value_ok("a\0b", 3));
  assert_true(azr__http_field_value_ok(NULL, 0));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_names),
    cmocka_unit_test(test_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
