/* SPDX-License-Identifier: MIT */
/* `--proxy URL` (tools/azrelay/proxy_url.c): curl's syntax, and the listener settings it becomes,
 * read back from a real listener. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "azrelay.h"
#include "proxy_url.h"

static struct proxy_url p;
static char err[200];

static bool parse(const char *url) { return proxy_url_parse(url, &p, err, sizeof err); }

static void test_schemes_and_ports(void **state) {
  (void)state;
  static const struct {
    const char *url;
    enum proxy_kind kind;
    const char *host;
    unsigned port;
  } cases[] = {
      {"http://proxy.example:3128", PROXY_HTTP, "proxy.example", 3128},
      {"proxy.example", PROXY_HTTP, "proxy.example", 1080}, /* curl: no scheme is http, port 1080 */
      {"HTTPS://proxy.example/", PROXY_HTTPS, "proxy.example", 443},
      {"socks4://10.0.0.1", PROXY_SOCKS4, "10.0.0.1", 1080},
      {"socks4a://h:1", PROXY_SOCKS4A, "h", 1},
      {"socks5://[::1]:1085", PROXY_SOCKS5, "::1", 1085},
      {"socks5h://[2001:db8::2]", PROXY_SOCKS5H, "2001:db8::2", 1080},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_true(parse(cases[i].url));
    assert_int_equal(p.kind, cases[i].kind);
    assert_string_equal(p.host, cases[i].host);
    assert_int_equal(p.port, cases[i].port);
    assert_false(p.has_user);
  }
  assert_true(parse(""));
  assert_int_equal(p.kind, PROXY_NONE);
}

static void test_credentials(void **state) {
  (void)state;
  assert_true(parse("http://alice:s%40cr%3At%2F@proxy:8080"));
  assert_true(p.has_user);
  assert_string_equal(p.user, "alice");
  assert_string_equal(p.password, "s@cr:t/");
  assert_string_equal(p.host, "proxy");
  assert_int_equal(p.port, 8080);
  /* The last '@' ends the credentials; a user without a password. */
  assert_true(parse("socks5h://bob:p@ss@h"));
  assert_string_equal(p.password, "p@ss");
  assert_true(parse("socks4://carol@h"));
  assert_string_equal(p.user, "carol");
  assert_string_equal(p.password, "");
  proxy_url_clear(&p);
  assert_string_equal(p.password, "");
}

static void test_mistakes(void **state) {
  (void)state;
  const char *bad[] = {"ftp://h",   "http://",        "http://h:0",     "http://h:65536", "http://h:x",
                       "http://h:", "http://[::1",    "http://[::1]x",  "http://h/path",  "http://h?q",
                       "http://u:%zz@h", "http://u:%00@h", "http://@"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = 0;
    assert_false(parse(bad[i]));
    assert_true(err[0] != 0);
    assert_null(strstr(err, "zz")); /* the password is never quoted */
  }
}

/* Applies the settings to a listener and reads them back. */
static void apply(azr_listener *l, const struct proxy_url *u) {
  char setting[600];
  for (int i = 0; proxy_url_setting(u, i, setting, sizeof setting); i++)
    assert_int_equal(azr_listener_config(l, setting), AZR_OK);
}

static void expect_setting(azr_listener *l, const char *name, const char *want) {
  char got[300];
  assert_int_equal(azr_listener_get_config(l, name, got, sizeof got), AZR_OK);
  assert_string_equal(got, want);
}

static void test_settings(void **state) {
  (void)state;
  azr_listener *l;
  assert_int_equal(azr_listener_new(&l), AZR_OK);
  assert_int_equal(azr_listener_config(l, "ProxyAutoDetect=true"), AZR_OK);
  assert_true(parse("https://u:pw@proxy:8443"));
  apply(l, &p);
  expect_setting(l, "ProxyAutoDetect", "false");
  expect_setting(l, "ProxyServer", "proxy");
  expect_setting(l, "ProxyPort", "8443");
  expect_setting(l, "ProxySSL", "1");
  expect_setting(l, "ProxyUser", "u");
  expect_setting(l, "ProxyPassword", ""); /* secret: reads back empty */
  azr_listener_free(l);

  static const struct {
    const char *url, *type;
  } socks[] = {{"socks4://s:1081", "2"}, {"socks4a://s:1081", "10"}, {"socks5://s:1081", "3"}, {"socks5h://s:1081", "3"}};
  for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++) {
    assert_int_equal(azr_listener_new(&l), AZR_OK);
    assert_true(parse(socks[i].url));
    apply(l, &p);
    expect_setting(l, "FirewallType", socks[i].type);
    expect_setting(l, "FirewallHost", "s");
    expect_setting(l, "FirewallPort", "1081"); /* set after FirewallType, which resets it */
    expect_setting(l, "ProxyServer", "");
    azr_listener_free(l);
  }
  /* "" turns the environment's proxy off and sets nothing else. */
  assert_int_equal(azr_listener_new(&l), AZR_OK);
  assert_true(parse(""));
  apply(l, &p);
  expect_setting(l, "ProxyAutoDetect", "false");
  expect_setting(l, "FirewallType", "0");
  expect_setting(l, "ProxyServer", "");
  azr_listener_free(l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_schemes_and_ports),
      cmocka_unit_test(test_credentials),
      cmocka_unit_test(test_mistakes),
      cmocka_unit_test(test_settings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
