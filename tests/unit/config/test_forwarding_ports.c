/* SPDX-License-Identifier: MIT */
/* ForwardingPorts ("name=host:port,...") parsing and the ForwardingMode / ForwardingPorts settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "azrelay/common.h"
#include "config/settings.h"

static struct azr__forwarding_port ports[8];
static char err[300];

static int parse(const char *text, size_t *count) {
  memset(ports, 0x5a, sizeof ports);
  return azr__settings_forwarding_ports_parse(text, ports, 8, count, err, sizeof err);
}

static void test_empty(void **state) {
  (void)state;
  size_t n = 99;
  assert_int_equal(parse("", &n), AZR_OK);
  assert_int_equal(n, 0);
  n = 99;
  assert_int_equal(parse("  \t ", &n), AZR_OK);
  assert_int_equal(n, 0);
  n = 99;
  assert_int_equal(parse(NULL, &n), AZR_OK);
  assert_int_equal(n, 0);
}

static void test_one_and_many(void **state) {
  (void)state;
  size_t n;
  assert_int_equal(parse("redis=127.0.0.1:6379", &n), AZR_OK);
  assert_int_equal(n, 1);
  assert_string_equal(ports[0].name, "redis");
  assert_string_equal(ports[0].host, "127.0.0.1");
  assert_int_equal(ports[0].port, 6379);

  assert_int_equal(parse(" a=db.example:1 ,\tB/c_d.e-f=localhost:65535,3389=[::1]:3389 ", &n), AZR_OK);
  assert_int_equal(n, 3);
  assert_string_equal(ports[0].name, "a");
  assert_string_equal(ports[0].host, "db.example");
  assert_int_equal(ports[0].port, 1);
  assert_string_equal(ports[1].name, "B/c_d.e-f");
  assert_string_equal(ports[1].host, "localhost");
  assert_int_equal(ports[1].port, 65535);
  assert_string_equal(ports[2].name, "3389");
  assert_string_equal(ports[2].host, "::1"); /* brackets removed */
  assert_int_equal(ports[2].port, 3389);

  /* An unbracketed IPv6 literal: the last colon separates the port. */
  assert_int_equal(parse("v6=fe80::1:80", &n), AZR_OK);
  assert_string_equal(ports[0].host, "fe80::1");
  assert_int_equal(ports[0].port, 80);
}

static void test_name_limits(void **state) {
  (void)state;
  char text[600];
  size_t n;
  memset(text, 'x', 255);
  snprintf(text + 255, sizeof text - 255, "=h:1");
  assert_int_equal(parse(text, &n), AZR_OK);
  assert_int_equal(strlen(ports[0].name), 255);
  memset(text, 'x', 256);
  snprintf(text + 256, sizeof text - 256, "=h:1");
  assert_int_equal(parse(text, &n), AZR_E_INVALID_ARG);
  assert_non_null(strstr(err, "255"));
}

static void test_bad_items(void **state) {
  (void)state;
  static const struct {
    const char *text, *why;
  } bad[] = {
      {"redis", "name=host:port"},
      {"=h:1", "empty"},
      {"r!=h:1", "outside"},
      {"caf\xc3\xa9=h:1", "outside"},
      {"a b=h:1", "outside"},
      {"a=h", "host:port"},
      {"a=:1", "host:port"},
      {"a=[]:1", "host:port"},
      {"a=h:", "TCP port"},
      {"a=h:0", "TCP port"},
      {"a=h:65536", "TCP port"},
      {"a=h:99999999999999999999", "TCP port"},
      {"a=h:12x", "TCP port"},
      {"a=h:-1", "TCP port"},
      {"a=h:+1", "TCP port"},
      {"a=h x:1", "bad host"},
      {"a=[::1:5", "bad host"},
      {"a=h=i:5", "bad host"},
      {"a=h:1,,b=h:2", "empty item"},
      {"a=h:1,", "empty item"},
      {",a=h:1", "empty item"},
      {"a=h:1,a=h:2", "twice"},
      {"a=h:1,b=h:2,c=h:3,d=h:4,e=h:5,f=h:6,g=h:7,h=h:8,i=h:9", "more than 8"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t n = 77;
    err[0] = 0;
    if (parse(bad[i].text, &n) != AZR_E_INVALID_ARG) fail_msg("'%s' was accepted", bad[i].text);
    if (!strstr(err, bad[i].why)) fail_msg("'%s': error '%s' lacks '%s'", bad[i].text, err, bad[i].why);
    assert_int_equal(n, 0); /* nothing is reported as parsed */
  }
}

static void test_arguments(void **state) {
  (void)state;
  size_t n;
  assert_int_equal(azr__settings_forwarding_ports_parse("a=h:1", ports, 8, NULL, err, sizeof err), AZR_E_INVALID_ARG);
  assert_int_equal(azr__settings_forwarding_ports_parse("a=h:1", NULL, 8, &n, err, sizeof err), AZR_E_INVALID_ARG);
  /* No error buffer is fine. */
  assert_int_equal(azr__settings_forwarding_ports_parse("a", ports, 8, &n, NULL, 0), AZR_E_INVALID_ARG);
  assert_int_equal(azr__settings_forwarding_ports_parse("a=h:2", ports, 1, &n, NULL, 0), AZR_OK);
  assert_int_equal(ports[0].port, 2);
  /* cap 0 takes nothing but the empty list. */
  assert_int_equal(azr__settings_forwarding_ports_parse("", NULL, 0, &n, err, sizeof err), AZR_OK);
  assert_int_equal(azr__settings_forwarding_ports_parse("a=h:1", NULL, 0, &n, err, sizeof err), AZR_E_INVALID_ARG);
}

static int set(struct azr__listener_settings *s, const char *name, const char *value) {
  err[0] = 0;
  struct azr__settings_context ctx = {true}; /* both may change while listening */
  return azr__settings_set(NULL, s, &ctx, name, strlen(name), value, err, sizeof err);
}

static void test_settings(void **state) {
  (void)state;
  struct azr__listener_settings s;
  azr__settings_init(&s);
  assert_int_equal(s.forwarding_mode, AZR__FORWARDING_RAW);
  assert_null(s.forwarding_ports);
  assert_int_equal(set(&s, "forwardingmode", "1"), AZR_OK);
  assert_int_equal(s.forwarding_mode, AZR__FORWARDING_AZBRIDGE);
  assert_int_equal(set(&s, "ForwardingMode", "2"), AZR_E_INVALID_ARG);
  assert_non_null(strstr(err, "ForwardingMode"));
  assert_int_equal(s.forwarding_mode, AZR__FORWARDING_AZBRIDGE);
  assert_int_equal(set(&s, "ForwardingPorts", "redis=127.0.0.1:6379,web=[::1]:80"), AZR_OK);
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  assert_int_equal(azr__settings_get(&s, "ForwardingPorts", &b), AZR_OK);
  assert_string_equal(azr__buf_cstr(&b), "redis=127.0.0.1:6379,web=[::1]:80");
  azr__buf_free(&b);
  size_t n;
  assert_int_equal(azr__settings_forwarding_ports_parse(s.forwarding_ports, ports, 8, &n, err, sizeof err), AZR_OK);
  assert_int_equal(n, 2);
  assert_string_equal(ports[1].host, "::1");
  /* Line breaks are not part of a one-line list. */
  assert_int_equal(set(&s, "ForwardingPorts", "a=h:1\nb=h:2"), AZR_E_INVALID_ARG);
  azr__settings_free(NULL, &s);
  assert_null(s.forwarding_ports);
  assert_int_equal(s.forwarding_mode, AZR__FORWARDING_RAW);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty),       cmocka_unit_test(test_one_and_many), cmocka_unit_test(test_name_limits),
      cmocka_unit_test(test_bad_items),   cmocka_unit_test(test_arguments),    cmocka_unit_test(test_settings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
