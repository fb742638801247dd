/* SPDX-License-Identifier: MIT */
/* Connection strings: accepted forms, every error with its message (never echoing a secret), formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "failmem.h"

#include "azrelay/common.h"
#include "proto/connstr.h"
#include "util/limits.h"

#define SECRET "S3cr3tK3yVa1ue+/abc="
#define PORTAL                                                                                                 \
  "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" \
  SECRET ";EntityPath=hyco"

static void test_portal_format(void **state) {
  (void)state;
  struct azr__connstr c;
  char err[128] = "x";
  assert_int_equal(azr__connstr_parse(NULL, PORTAL, &c, err, sizeof err), AZR_OK);
  assert_string_equal(err, "");
  assert_string_equal(c.endpoint, "sb://contoso.servicebus.windows.net/");
  assert_string_equal(c.host, "contoso.servicebus.windows.net");
  assert_int_equal(c.port, 0);
  assert_string_equal(c.key_name, "RootManageSharedAccessKey");
  assert_string_equal(c.key, SECRET); /* '=' padding kept: split at the first '=' */
  assert_null(c.sas);
  assert_string_equal(c.entity_path, "hyco");
  assert_false(c.use_development_emulator);
  azr__connstr_free(NULL, &c);
  assert_null(c.host);
  azr__connstr_free(NULL, &c); /* twice is harmless */
}

static void test_variants(void **state) {
  (void)state;
  struct azr__connstr c;
  /* Case-insensitive keys, any order, blanks, empty parts, trailing ';', port, other accepted keys. */
  const char *text = "  entitypath = /a/b/ ;;ENDPOINT=SB://Relay.Local:8443 ; sharedaccesskey=" SECRET
                     ";SharedAccessKeyName=k;OperationTimeout=00:01:00;Authentication=whatever;"
                     "usedevelopmentemulator=TRUE;\r\n";
  assert_int_equal(azr__connstr_parse(NULL, text, &c, NULL, 0), AZR_OK);
  assert_string_equal(c.endpoint, "SB://Relay.Local:8443");
  assert_string_equal(c.host, "relay.local");
  assert_int_equal(c.port, 8443);
  assert_string_equal(c.key, SECRET);
  assert_string_equal(c.key_name, "k");
  assert_string_equal(c.entity_path, "a/b");
  assert_true(c.use_development_emulator);
  azr__connstr_free(NULL, &c);

  /* IPv6, no EntityPath, UseDevelopmentEmulator=false, SAS credential. */
  text = "Endpoint=sb://[::1]:9000/;SharedAccessSignature=SharedAccessSignature sr=a&sig=b&se=1&skn=c;"
         "UseDevelopmentEmulator=false";
  assert_int_equal(azr__connstr_parse(NULL, text, &c, NULL, 0), AZR_OK);
  assert_string_equal(c.host, "::1");
  assert_int_equal(c.port, 9000);
  assert_string_equal(c.sas, "SharedAccessSignature sr=a&sig=b&se=1&skn=c");
  assert_null(c.key);
  assert_null(c.key_name);
  assert_null(c.entity_path);
  assert_false(c.use_development_emulator);
  azr__connstr_free(NULL, &c);

  /* A link-local IPv6 address keeps its zone. */
  assert_int_equal(azr__connstr_parse(NULL, "Endpoint=sb://[fe80::1%lo]/;SharedAccessKeyName=k;SharedAccessKey=v",
                                      &c, NULL, 0),
                   AZR_OK);
  assert_string_equal(c.host, "fe80::1%lo");
  azr__connstr_free(NULL, &c);

  /* Endpoint without trailing slash; empty EntityPath counts as none. */
  assert_int_equal(azr__connstr_parse(NULL, "Endpoint=sb://h;SharedAccessKeyName=k;SharedAccessKey=v;EntityPath=",
                                      &c, NULL, 0),
                   AZR_OK);
  assert_string_equal(c.host, "h");
  assert_null(c.entity_path);
  azr__connstr_free(NULL, &c);
}

static void test_errors(void **state) {
  (void)state;
  static const struct {
    const char *text, *msg;
  } v[] = {
      {"", "missing Endpoint"},
      {"SharedAccessKeyName=k;SharedAccessKey=" SECRET, "missing Endpoint"},
      {"Endpoint=;SharedAccessKeyName=k;SharedAccessKey=" SECRET, "Endpoint is empty"},
      {"Endpoint=https://h/;SharedAccessKeyName=k;SharedAccessKey=" SECRET, "sb:// scheme"},
      {"Endpoint=h;SharedAccessKeyName=k;SharedAccessKey=" SECRET, "sb:// scheme"},
      {"Endpoint=sb://h:0/;SharedAccessKeyName=k;SharedAccessKey=" SECRET, "bad port"},
      {"Endpoint=sb://h:65536/;SharedAccessKeyName=k;SharedAccessKey=" SECRET, "bad port"},
      {"Endpoint=sb://h:x/;SharedAccessKeyName=k;SharedAccessKey=" SECRET, "bad port"},
      {"Endpoint=sb://h:/;SharedAccessKeyName=k;SharedAccessKey=" SECRET, "bad port"},
      {"Endpoint=sb://[::1/;SharedAccessKeyName=k;SharedAccessKey=" SECRET, "IPv6"},
      {"Endpoint=sb://[::1]x/;SharedAccessKeyName=k;SharedAccessKey=" SECRET, "IPv6"},
      {"Endpoint=sb://[e%1]/;SharedAccessKeyName=k;SharedAccessKey=" SECRET, "IPv6"},
      {"Endpoint=sb://[127.0.0.1]/;SharedAccessKeyName=k;SharedAccessKey=" SECRET, "IPv6"},
      {"Endpoint=sb://[::1%]/;SharedAccessKeyName=k;SharedAccessKey=" SECRET, "IPv6"},
      {"Endpoint=sb:///;SharedAccessKeyName=k;SharedAccessKey=" SECRET, "no host"},
      {"Endpoint=sb://a b/;SharedAccessKeyName=k;SharedAccessKey=" SECRET, "invalid character"},
      {"Endpoint=sb://h/hyco;SharedAccessKeyName=k;SharedAccessKey=" SECRET, "EntityPath"},
      {"Endpoint=sb://h/?x=1;SharedAccessKeyName=k;SharedAccessKey=" SECRET, "namespace address only"},
      {"Endpoint=sb://h/;SharedAccessKey=" SECRET, "SharedAccessKey given without SharedAccessKeyName"},
      {"Endpoint=sb://h/;SharedAccessKeyName=k", "SharedAccessKeyName given without SharedAccessKey"},
      {"Endpoint=sb://h/;EntityPath=x", "needs SharedAccessKeyName and SharedAccessKey, or SharedAccessSignature"},
      {"Endpoint=sb://h/;SharedAccessKeyName=k;SharedAccessKey=" SECRET
       ";SharedAccessSignature=SharedAccessSignature sr=a&sig=b&se=1&skn=c",
       "both"},
      {"Endpoint=sb://h/;SharedAccessKeyName=k;SharedAccessKey=" SECRET ";sharedaccesskey=" SECRET,
       "duplicate key 'SharedAccessKey'"},
      {"Endpoint=sb://h/;SharedAccessKeyName=k;SharedAccessKey=" SECRET ";SharedAcessKey=x", "unknown key 'SharedAcessKey'"},
      /* A key pasted on its own: split at its '=' padding it looks like Name=Value, and must not be echoed. */
      {"Endpoint=sb://h/;SharedAccessKeyName=k;SharedAccessKey=" SECRET ";" SECRET, "unknown key in part 4"},
      {"Endpoint=sb://h/;SharedAccessKeyName=k;SharedAccessKey=" SECRET ";S3cr3tNoPadding", "part 4 is not Name=Value"},
      {"Endpoint=sb://h/;SharedAccessKeyName=k;SharedAccessKey=" SECRET ";;S3cr3tLetters=x", "unknown key in part 5"},
      {"Endpoint=sb://h/;SharedAccessKeyName=k;SharedAccessKey=" SECRET ";=" SECRET, "no name"},
      {"Endpoint=sb://h/;SharedAccessKeyName=;SharedAccessKey=" SECRET, "SharedAccessKeyName is empty"},
      {"Endpoint=sb://h/;SharedAccessKeyName=k;SharedAccessKey=", "SharedAccessKey is empty"},
      {"Endpoint=sb://h/;SharedAccessSignature=" SECRET, "not a valid SAS token"},
      {"Endpoint=sb://h/;SharedAccessKeyName=k;SharedAccessKey=" SECRET ";UseDevelopmentEmulator=yes", "true or false"},
      {"Endpoint=sb://h/;SharedAccessKeyName=k;SharedAccessKey=" SECRET ";EntityPath=a?b", "EntityPath"},
      {"Endpoint=sb://h/;SharedAccessKeyName=k;SharedAccessKey=" SECRET ";EntityPath=a b", "EntityPath"},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    struct azr__connstr c;
    memset(&c, 0xab, sizeof c);
    char err[256];
    int rc = azr__connstr_parse(NULL, v[i].text, &c, err, sizeof err);
    if (rc != AZR_E_BAD_CONNSTR) fail_msg("#%zu accepted: %s", i, v[i].text);
    if (!strstr(err, v[i].msg)) fail_msg("#%zu message '%s' lacks '%s'", i, err, v[i].msg);
    if (strstr(err, "S3cr3t") || strstr(err, "sig=")) fail_msg("#%zu message leaks a secret: %s", i, err);
    assert_true(strncmp(err, "connection string: ", 19) == 0);
    assert_null(c.host); /* zeroed on failure */
    assert_null(c.key);
  }
}

static void test_limits(void **state) {
  (void)state;
  struct azr__connstr c;
  char err[256];
  char key[AZR_MAX_SAS_KEY + 2];
  memset(key, 'K', sizeof key - 1);
  key[sizeof key - 1] = 0;
  char text[1024];
  snprintf(text, sizeof text, "Endpoint=sb://h/;SharedAccessKeyName=k;SharedAccessKey=%s", key);
  assert_int_equal(azr__connstr_parse(NULL, text, &c, err, sizeof err), AZR_E_BAD_CONNSTR);
  assert_non_null(strstr(err, "SharedAccessKey is longer than 256"));
  assert_null(strstr(err, "KKKK"));
  snprintf(text, sizeof text, "Endpoint=sb://h/;SharedAccessKeyName=%s;SharedAccessKey=v", key);
  assert_int_equal(azr__connstr_parse(NULL, text, &c, err, sizeof err), AZR_E_BAD_CONNSTR);
  assert_non_null(strstr(err, "SharedAccessKeyName is longer than 256"));
  key[AZR_MAX_SAS_KEY] = 0; /* exactly 256 */
  snprintf(text, sizeof text, "Endpoint=sb://h/;SharedAccessKeyName=%s;SharedAccessKey=%s", key, key);
  assert_int_equal(azr__connstr_parse(NULL, text, &c, err, sizeof err), AZR_OK);
  azr__connstr_free(NULL, &c);

  /* Longer than AZR_MAX_CONNSTR (even if only blanks make it long). */
  size_t n = AZR_MAX_CONNSTR + 1;
  char *big = malloc(n + 1);
  memset(big, ' ', n);
  memcpy(big, PORTAL, strlen(PORTAL));
  big[n] = 0;
  assert_int_equal(azr__connstr_parse(NULL, big, &c, err, sizeof err), AZR_E_BAD_CONNSTR);
  assert_non_null(strstr(err, "longer than"));
  big[n - 1] = 0; /* exactly the limit is fine */
  assert_int_equal(azr__connstr_parse(NULL, big, &c, err, sizeof err), AZR_OK);
  azr__connstr_free(NULL, &c);
  free(big);

  /* NULL text, tiny and absent error buffers. */
  assert_int_equal(azr__connstr_parse(NULL, NULL, &c, err, sizeof err), AZR_E_BAD_CONNSTR);
  char tiny[8];
  assert_int_equal(azr__connstr_parse(NULL, "x=y", &c, tiny, sizeof tiny), AZR_E_BAD_CONNSTR);
  assert_int_equal(strlen(tiny), sizeof tiny - 1);
  assert_int_equal(azr__connstr_parse(NULL, "x=y", &c, NULL, 0), AZR_E_BAD_CONNSTR);
  /* Unknown names that do not look like key names (control characters, digits, too long) are not quoted. */
  assert_int_equal(azr__connstr_parse(NULL, "Endpoint=sb://h/;\x01\x02" "qrs=1", &c, err, sizeof err), AZR_E_BAD_CONNSTR);
  assert_string_equal(err, "connection string: unknown key in part 2");
  assert_int_equal(azr__connstr_parse(NULL, "abcdefghijklmnopqrstuvwxyzabcdefg=1", &c, err, sizeof err),
                   AZR_E_BAD_CONNSTR);
  assert_string_equal(err, "connection string: unknown key in part 1");
  assert_int_equal(azr__connstr_parse(NULL, "abcdefghijklmnopqrstuvwxyzabcdef=1", &c, err, sizeof err),
                   AZR_E_BAD_CONNSTR);
  assert_string_equal(err, "connection string: unknown key 'abcdefghijklmnopqrstuvwxyzabcdef'");
}

/* Every prefix, in an exactly-sized block: no crash, no leak, and only complete-enough prefixes parse. */
static void test_every_prefix(void **state) {
  (void)state;
  size_t len = strlen(PORTAL);
  size_t key_end = strlen(PORTAL) - strlen(";EntityPath=hyco");
  for (size_t i = 0; i <= len; i++) {
    char *p = malloc(i + 1);
    memcpy(p, PORTAL, i);
    p[i] = 0;
    struct azr__connstr c;
    int rc = azr__connstr_parse(NULL, p, &c, NULL, 0);
    /* Complete once the key has a value; a cut inside the name "EntityPath" is a part without '='. */
    size_t key_value_start = key_end - strlen(SECRET);
    bool ok = i > key_value_start && (i <= key_end + 1 || i >= key_end + strlen(";EntityPath="));
    if (rc != (ok ? AZR_OK : AZR_E_BAD_CONNSTR)) fail_msg("prefix %zu: rc %d", i, rc);
    azr__connstr_free(NULL, &c);
    free(p);
  }
}

static void test_format(void **state) {
  (void)state;
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  assert_int_equal(azr__connstr_format(&b, "contoso.servicebus.windows.net", 0, "RootManageSharedAccessKey", SECRET,
                                       "hyco", false),
                   AZR_OK);
  assert_string_equal(azr__buf_cstr(&b), PORTAL);
  azr__buf_reset(&b);
  assert_int_equal(azr__connstr_format(&b, "::1", 8443, "k", "v", NULL, true), AZR_OK);
  assert_string_equal(azr__buf_cstr(&b), "Endpoint=sb://[::1]:8443/;SharedAccessKeyName=k;SharedAccessKey=v;"
                                         "UseDevelopmentEmulator=true");
  /* Round trip. */
  struct azr__connstr c;
  assert_int_equal(azr__connstr_parse(NULL, azr__buf_cstr(&b), &c, NULL, 0), AZR_OK);
  assert_string_equal(c.host, "::1");
  assert_int_equal(c.port, 8443);
  assert_true(c.use_development_emulator);
  azr__connstr_free(NULL, &c);
  azr__buf_reset(&b);
  assert_int_equal(azr__connstr_format(&b, "h", 0, "k", "a;b", NULL, false), AZR_E_INVALID_ARG);
  assert_int_equal(azr__connstr_format(&b, "h", 0, "k", "v", "e;x", false), AZR_E_INVALID_ARG);
  assert_int_equal(azr__connstr_format(&b, "", 0, "k", "v", NULL, false), AZR_E_INVALID_ARG);
  assert_int_equal(azr__connstr_format(&b, "h", 0, NULL, "v", NULL, false), AZR_E_INVALID_ARG);
  assert_int_equal(azr__connstr_format(&b, "h", 0, "k", "", NULL, false), AZR_E_INVALID_ARG);
  assert_int_equal(b.len, 0);
  struct azr__buf small;
  azr__buf_init(&small, NULL, 30);
  assert_int_equal(azr__connstr_format(&small, "h", 0, "k", "v", NULL, false), AZR_E_TOO_BIG);
  assert_int_equal(small.len, 0);
  azr__buf_free(&small);
  azr__buf_free(&b);
}

/* Counting allocator that fails the n-th allocation. */

static void test_failmalloc(void **state) {
  (void)state;
  for (int n = 0; n < 20; n++) {
    struct failmem f = {n, 0};
    struct azr__mem mem = failmem_allocator(&f);
    struct azr__connstr c;
    int rc = azr__connstr_parse(&mem, PORTAL, &c, NULL, 0);
    assert_true(rc == AZR_OK || rc == AZR_E_NOMEM);
    if (rc == AZR_E_NOMEM) assert_null(c.host);
    azr__connstr_free(&mem, &c);
    assert_int_equal(f.live, 0);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_portal_format), cmocka_unit_test(test_variants),     cmocka_unit_test(test_errors),
      cmocka_unit_test(test_limits),        cmocka_unit_test(test_every_prefix), cmocka_unit_test(test_format),
      cmocka_unit_test(test_failmalloc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
