/* SPDX-License-Identifier: MIT */
/* AllowedClients / BlockedClients matching: wildcards, exact IPv4/IPv6, CIDR blocks, edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "azrelay/common.h"
#include "proto/access_list.h"

#define YES(list, addr) assert_true(azr__access_list_match((list), (addr)))
#define NO(list, addr) assert_false(azr__access_list_match((list), (addr)))

static void test_star_and_empty(void **state) {
  (void)state;
  YES("*", "10.1.2.3");
  YES("*", "::1");
  YES("*", "anything at all");
  YES(" * ", "1.2.3.4");
  YES("10.0.0.1, *", "8.8.8.8");
  YES("*", NULL);
  NO("", "10.1.2.3");
  NO(NULL, "10.1.2.3");
  NO(" , ,", "10.1.2.3");
  NO("10.0.0.1", NULL);
  NO("10.0.0.1", "");
}

static void test_wildcards(void **state) {
  (void)state;
  YES("192.168.*", "192.168.1.20");
  NO("192.168.*", "192.169.1.20");
  YES("192.168.1.?", "192.168.1.7");
  NO("192.168.1.?", "192.168.1.70");
  YES("192.168.1.??", "192.168.1.70");
  YES("*.1.2.3", "10.1.2.3");
  YES("1*3", "123");
  YES("1*3", "13");
  NO("1*3", "134");
  YES("*a*b*c*", "xxaxxbxxcxx");
  NO("*a*b*c*", "xxaxxcxxbxx");
  YES("**", "");
  NO("?", "");
  YES("HOST.EXAMPLE.com", "host.example.COM"); /* host names: text, case-insensitive */
  YES("*.example.com", "relay.example.com");
  NO("*.example.com", "example.com");
  YES("fe80::*", "fe80::1");
  YES("FE80::*", "fe80::abcd");
  YES("[::1]", "::1");
  /* An IPv4-mapped address also matches IPv4 patterns. */
  YES("192.168.*", "::ffff:192.168.1.9");
  YES("192.168.*", "[::FFFF:192.168.1.9]");
  NO("10.*", "::ffff:192.168.1.9");
}

static void test_lists(void **state) {
  (void)state;
  const char *list = " 10.0.0.1 ,\t192.168.*,  ::1 ,host.local";
  YES(list, "10.0.0.1");
  YES(list, "192.168.44.2");
  YES(list, "::1");
  YES(list, "HOST.local");
  NO(list, "10.0.0.2");
  NO(list, "host.local.evil");
  NO(list, "2001:db8::1");
  /* Entries are whole: no substring matches across separators or within entries. */
  NO("10.0.0.1", "10.0.0.10");
  NO("10.0.0.10", "10.0.0.1");
  NO("10.0.0.1,", "10.0.0.");
  YES(",,10.0.0.1,,", "10.0.0.1");
}

static void test_exact_addresses(void **state) {
  (void)state;
  YES("::1", "0:0:0:0:0:0:0:1");
  YES("0:0::1", "::1");
  YES("2001:DB8::1", "2001:db8:0:0:0:0:0:1");
  NO("2001:db8::1", "2001:db8::2");
  YES("10.0.0.1", "::ffff:10.0.0.1");
  YES("::ffff:10.0.0.1", "10.0.0.1");
  YES("fe80::1", "fe80::1%eth0"); /* zones do not matter for addresses */
  YES("fe80::1", "[fe80::1]");
  NO("::1", "127.0.0.1");
  NO("127.0.0.1", "::1");
  NO("::", "0.0.0.0");
}

static void test_cidr(void **state) {
  (void)state;
  YES("10.0.0.0/8", "10.200.3.4");
  NO("10.0.0.0/8", "11.0.0.1");
  YES("10.1.2.3/8", "10.9.9.9"); /* host bits in the entry are ignored */
  YES("192.168.1.0/24", "192.168.1.255");
  NO("192.168.1.0/24", "192.168.2.0");
  YES("192.168.1.128/25", "192.168.1.200");
  NO("192.168.1.128/25", "192.168.1.127");
  YES("172.16.0.0/12", "172.31.255.255");
  NO("172.16.0.0/12", "172.32.0.0");
  YES("0.0.0.0/0", "8.8.8.8");
  NO("0.0.0.0/0", "::1"); /* families do not mix */
  YES("1.2.3.4/32", "1.2.3.4");
  NO("1.2.3.4/32", "1.2.3.5");
  YES("10.0.0.0/8", "::ffff:10.1.1.1");
  YES("fd00::/8", "fd12:3456::1");
  NO("fd00::/8", "fe80::1");
  YES("2001:db8::/32", "2001:DB8:ffff::1");
  NO("2001:db8::/32", "2001:db9::1");
  YES("2001:db8::/33", "2001:db8:7fff::1");
  NO("2001:db8::/33", "2001:db8:8000::1");
  YES("::/0", "::1");
  NO("::/0", "1.2.3.4");
  YES("::1/128", "::1");
  YES("::ffff:10.0.0.0/104", "10.3.3.3"); /* a mapped IPv4 block */
  NO("::ffff:10.0.0.0/104", "11.3.3.3");
  YES("fe80::/10", "fe80::1%eth0");
  /* Malformed blocks never match. */
  NO("10.0.0.0/33", "10.0.0.1");
  NO("10.0.0.0/", "10.0.0.1");
  NO("10.0.0.0/x", "10.0.0.1");
  NO("fd00::/129", "fd00::1");
  NO("10.0.0.0/8", "not-an-ip");
  NO("host/8", "10.0.0.1");
  NO("::ffff:10.0.0.0/95", "10.0.0.1");
}

static void test_check(void **state) {
  (void)state;
  char err[200];
  assert_int_equal(azr__access_list_check("*", err, sizeof err), AZR_OK);
  assert_int_equal(azr__access_list_check("", err, sizeof err), AZR_OK);
  assert_int_equal(azr__access_list_check(NULL, err, sizeof err), AZR_OK);
  assert_int_equal(azr__access_list_check("10.0.0.0/8, fd00::/8, 192.168.*, host.local, 10.*/8", err, sizeof err), AZR_OK);
  assert_int_equal(azr__access_list_check("10.0.0.1, 10.0.0.0/33", err, sizeof err), AZR_E_INVALID_ARG);
  assert_non_null(strstr(err, "'10.0.0.0/33'"));
  assert_int_equal(azr__access_list_check("fd00::/200", err, sizeof err), AZR_E_INVALID_ARG);
  assert_int_equal(azr__access_list_check("host/8", err, sizeof err), AZR_E_INVALID_ARG);
  assert_int_equal(azr__access_list_check("a,\x01", err, sizeof err), AZR_E_INVALID_ARG);
  assert_non_null(strstr(err, "entry 2"));
  assert_int_equal(azr__access_list_check("10.0.0.0/33", NULL, 0), AZR_E_INVALID_ARG);
}

/* Every prefix of a long list is handled without reading past its end (ASan watches). */
static void test_every_prefix(void **state) {
  (void)state;
  const char *full = "10.0.0.0/8, fd00::/8 ,192.168.?.*, [::1], host.example.com, ::ffff:1.2.3.4, *";
  size_t n = strlen(full);
  for (size_t i = 0; i <= n; i++) {
    char buf[128];
    memcpy(buf, full, i);
    buf[i] = 0;
    (void)azr__access_list_match(buf, "10.1.1.1");
    (void)azr__access_list_match(buf, "fd00::1");
    (void)azr__access_list_match(buf, buf);
    (void)azr__access_list_check(buf, NULL, 0);
  }
  YES(full, "203.0.113.9");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_star_and_empty), cmocka_unit_test(test_wildcards), cmocka_unit_test(test_lists),
      cmocka_unit_test(test_exact_addresses), cmocka_unit_test(test_cidr),     cmocka_unit_test(test_check),
      cmocka_unit_test(test_every_prefix),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
