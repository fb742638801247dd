/* SPDX-License-Identifier: MIT */
/* SAS tokens: §3.2 vectors, parsing, and every verdict of the §3.6 authorization (incl. §3.3 audiences). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "azrelay/common.h"
#include "proto/sas.h"
#include "util/crypto.h"
#include "util/encoding.h"
#include "util/limits.h"

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY2 "c2Vjb25kYXJ5LWtleS1mb3ItdGVzdHMtb25seS0xMjM="
#define RULE "RootManageSharedAccessKey"
#define HOST "contoso.servicebus.windows.net"
#define NOW 1700000000

static const char dotnet_token[] =
    "SharedAccessSignature sr=http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco%2F&sig=hMMUYLCqSXRKhlOOm3ZYIuDPt1reQe2N0V"
    "vUQN%2Fjc2k%3D&se=1700000000&skn=RootManageSharedAccessKey";

/* base64(HMAC(KEY, raw_sr + "\n" + se)) as the verifier computes it. */
static void raw_sig(const char *key, const char *raw_sr, const char *se, char out[64]) {
  char msg[1024];
  snprintf(msg, sizeof msg, "%s\n%s", raw_sr, se);
  uint8_t mac[32];
  assert_int_equal(azr__hmac_sha256((const uint8_t *)key, strlen(key), (const uint8_t *)msg, strlen(msg), mac), 0);
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  assert_int_equal(azr__base64_encode(&b, mac, 32), AZR_OK);
  snprintf(out, 64, "%s", azr__buf_cstr(&b));
  azr__buf_free(&b);
}

/* A token over a raw (already encoded) sr, signed with key, sig percent-encoded. */
static char *make_token(const char *key, const char *raw_sr, long long se, const char *skn) {
  char se_text[32], sig[64];
  snprintf(se_text, sizeof se_text, "%lld", se);
  raw_sig(key, raw_sr, se_text, sig);
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  assert_int_equal(azr__buf_printf(&b, "SharedAccessSignature sr=%s&sig=", raw_sr), AZR_OK);
  assert_int_equal(azr__url_encode(&b, sig, strlen(sig)), AZR_OK);
  assert_int_equal(azr__buf_printf(&b, "&se=%s&skn=%s", se_text, skn), AZR_OK);
  return azr__buf_steal(&b);
}

static void test_vectors_3_2(void **state) {
  (void)state;
  static const struct {
    const char *sr, *sig;
  } v[] = {
      {"http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco%2F", "hMMUYLCqSXRKhlOOm3ZYIuDPt1reQe2N0VvUQN/jc2k="},
      {"http%3a%2f%2fcontoso.servicebus.windows.net%2fhyco%2f", "o/wHGiDWmtEk39qwbjnJ/NWMThPHaRVa5+r9b/GtBao="},
      {"http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco", "+MkbuZlQcESy1IKohN8Tbv29rANXrR8x9aAkOUG8oBY="},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    char sig[64];
    raw_sig(KEY, v[i].sr, "1700000000", sig);
    assert_string_equal(sig, v[i].sig);
  }
  /* The full .NET-style token of the first row, through the signer. */
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  assert_int_equal(azr__sas_sign(&b, "http://contoso.servicebus.windows.net/hyco/", RULE, KEY, 1700000000,
                                 azr__hmac_sha256),
                   AZR_OK);
  assert_string_equal(azr__buf_cstr(&b), dotnet_token);
  azr__buf_free(&b);
}

static void test_sign_appends_and_checks_args(void **state) {
  (void)state;
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  assert_int_equal(azr__buf_append_str(&b, "X:"), AZR_OK);
  assert_int_equal(azr__sas_sign(&b, "http://h/e/", "my rule", KEY, 5, azr__hmac_sha256), AZR_OK);
  assert_true(strncmp(azr__buf_cstr(&b), "X:SharedAccessSignature sr=http%3A%2F%2Fh%2Fe%2F&sig=", 53) == 0);
  assert_non_null(strstr(azr__buf_cstr(&b), "&se=5&skn=my%20rule"));
  size_t len = b.len;
  char long_key[AZR_MAX_SAS_KEY + 2];
  memset(long_key, 'k', sizeof long_key - 1);
  long_key[sizeof long_key - 1] = 0;
  assert_int_equal(azr__sas_sign(&b, "", RULE, KEY, 5, azr__hmac_sha256), AZR_E_INVALID_ARG);
  assert_int_equal(azr__sas_sign(&b, "http://h/", "", KEY, 5, azr__hmac_sha256), AZR_E_INVALID_ARG);
  assert_int_equal(azr__sas_sign(&b, "http://h/", RULE, "", 5, azr__hmac_sha256), AZR_E_INVALID_ARG);
  assert_int_equal(azr__sas_sign(&b, "http://h/", RULE, KEY, -1, azr__hmac_sha256), AZR_E_INVALID_ARG);
  assert_int_equal(azr__sas_sign(&b, "http://h/", RULE, long_key, 5, azr__hmac_sha256), AZR_E_INVALID_ARG);
  assert_int_equal(azr__sas_sign(&b, "http://h/", long_key, KEY, 5, azr__hmac_sha256), AZR_E_INVALID_ARG);
  assert_int_equal(azr__sas_sign(&b, "http://h/", RULE, KEY, 5, NULL), AZR_E_INVALID_ARG);
  long_key[AZR_MAX_SAS_KEY] = 0; /* exactly 256 is allowed */
  assert_int_equal(azr__sas_sign(&b, "http://h/", RULE, long_key, 5, azr__hmac_sha256), AZR_OK);
  assert_true(b.len > len);
  /* A buffer cap makes it fail and leaves the buffer as it was. */
  struct azr__buf small;
  azr__buf_init(&small, NULL, 40);
  assert_int_equal(azr__buf_append_str(&small, "keep"), AZR_OK);
  assert_int_equal(azr__sas_sign(&small, "http://h/", RULE, KEY, 5, azr__hmac_sha256), AZR_E_TOO_BIG);
  assert_string_equal(azr__buf_cstr(&small), "keep");
  azr__buf_free(&small);
  azr__buf_free(&b);
}

static void test_audience(void **state) {
  (void)state;
  static const struct {
    const char *host, *entity, *want;
  } v[] = {
      {"Contoso.ServiceBus.Windows.NET", "hyco", "http://contoso.servicebus.windows.net/hyco/"},
      {"contoso.servicebus.windows.net:443", "/hyco/", "http://contoso.servicebus.windows.net/hyco/"},
      {"localhost:8443", "a/B/c", "http://localhost/a/B/c/"},
      {"[::1]:8443", "hyco", "http://[::1]/hyco/"},
      {"h", NULL, "http://h/"},
      {"h", "", "http://h/"},
      {"h", "///", "http://h/"},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    struct azr__buf b;
    azr__buf_init(&b, NULL, 0);
    assert_int_equal(azr__sas_audience(&b, v[i].host, v[i].entity), AZR_OK);
    assert_string_equal(azr__buf_cstr(&b), v[i].want);
    azr__buf_free(&b);
  }
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  assert_int_equal(azr__sas_audience(&b, "", "x"), AZR_E_INVALID_ARG);
  assert_int_equal(azr__sas_audience(&b, ":443", "x"), AZR_E_INVALID_ARG);
  assert_int_equal(azr__sas_audience(&b, NULL, "x"), AZR_E_INVALID_ARG);
  azr__buf_free(&b);
}

static struct azr__span S(const char *s) { return azr__span_of(s); }

static void test_parse(void **state) {
  (void)state;
  struct azr__sas_fields f;
  assert_int_equal(azr__sas_parse(S(dotnet_token), &f), AZR_OK);
  assert_true(azr__span_eq(f.sr, "http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco%2F"));
  assert_true(azr__span_eq(f.sig, "hMMUYLCqSXRKhlOOm3ZYIuDPt1reQe2N0VvUQN%2Fjc2k%3D"));
  assert_true(azr__span_eq(f.se, "1700000000"));
  assert_true(azr__span_eq(f.skn, RULE));
  assert_int_equal(f.expiry_s, 1700000000);

  /* Any order, case-insensitive prefix and names, unknown fields ignored, empty segments skipped. */
  assert_int_equal(azr__sas_parse(S("sharedaccesssignature SIG=a&SE=12&x=y&&SKN=k&Sr=u"), &f), AZR_OK);
  assert_true(azr__span_eq(f.sr, "u") && azr__span_eq(f.sig, "a") && azr__span_eq(f.skn, "k"));
  assert_int_equal(f.expiry_s, 12);

  static const char *const bad[] = {
      "",
      "SharedAccessSignature",
      "SharedAccessSignature ",
      "SharedAccessSignaturesr=a&sig=b&se=1&skn=c",     /* no blank after the prefix */
      "Bearer sr=a&sig=b&se=1&skn=c",                   /* wrong prefix */
      "SharedAccessSignature sig=b&se=1&skn=c",         /* sr missing */
      "SharedAccessSignature sr=a&se=1&skn=c",          /* sig missing */
      "SharedAccessSignature sr=a&sig=b&skn=c",         /* se missing */
      "SharedAccessSignature sr=a&sig=b&se=1",          /* skn missing */
      "SharedAccessSignature sr=&sig=b&se=1&skn=c",     /* empty value */
      "SharedAccessSignature sr=a&sig=b&se=1&skn=c&sr=d", /* duplicate */
      "SharedAccessSignature sr=a&sig=b&se=-1&skn=c",   /* negative expiry */
      "SharedAccessSignature sr=a&sig=b&se=1x&skn=c",   /* junk expiry */
      "SharedAccessSignature sr=a&sig=b&se=99999999999999999999&skn=c", /* overflow */
      "SharedAccessSignature sr=a&sig=b&se=1&skn=c&junk", /* field without '=' */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (azr__sas_parse(S(bad[i]), &f) != AZR_E_BAD_TOKEN) fail_msg("accepted: %s", bad[i]);
  }
  /* Over AZR_MAX_TOKEN. */
  size_t n = AZR_MAX_TOKEN + 10;
  char *big = malloc(n + 1);
  memset(big, 'a', n);
  memcpy(big, "SharedAccessSignature sr=", 25);
  memcpy(big + n - 20, "&sig=b&se=1&skn=c", 17);
  big[n - 3] = 0;
  assert_int_equal(azr__sas_parse(S(big), &f), AZR_E_BAD_TOKEN);
  free(big);
}

/* Each prefix of a valid token, in an exactly-sized heap block (ASan catches over-reads). */
static void test_parse_every_prefix(void **state) {
  (void)state;
  size_t len = strlen(dotnet_token);
  size_t skn_start = (size_t)(strstr(dotnet_token, "&skn=") - dotnet_token) + 5;
  for (size_t i = 0; i <= len; i++) {
    char *p = malloc(i ? i : 1);
    memcpy(p, dotnet_token, i);
    struct azr__sas_fields f;
    int rc = azr__sas_parse((struct azr__span){p, i}, &f);
    assert_int_equal(rc, i > skn_start ? AZR_OK : AZR_E_BAD_TOKEN);
    free(p);
  }
}

static const struct azr__sas_rule rules[] = {
    {RULE, KEY, NULL, AZR__RIGHT_MANAGE, NULL},
    {"listen-only", KEY, KEY2, AZR__RIGHT_LISTEN, NULL},
    {"send-only", KEY, NULL, AZR__RIGHT_SEND, NULL},
    {"hyco-listen", KEY2, NULL, AZR__RIGHT_LISTEN, "/hyco/"},
    {"other-listen", KEY, NULL, AZR__RIGHT_LISTEN, "other"},
};
static const char *const hosts[] = {"localhost", "Contoso.servicebus.windows.net:443"};

static struct azr__sas_check check_for(const char *entity, unsigned right) {
  struct azr__sas_check c = {rules, sizeof rules / sizeof rules[0], hosts, 2, entity, right, NOW, 0, azr__hmac_sha256};
  return c;
}

static enum azr__sas_verdict authorize(const struct azr__sas_check *c, const char *token) {
  int64_t exp = -1;
  const struct azr__sas_rule *r = (const void *)1;
  enum azr__sas_verdict v = azr__sas_authorize(c, S(token), &exp, &r);
  if (v == AZR__SAS_OK) assert_non_null(r);
  if (v != AZR__SAS_OK && (v <= AZR__SAS_UNKNOWN_RULE || v == AZR__SAS_BAD_SIGNATURE)) assert_null(r);
  return v;
}

static enum azr__sas_verdict verdict(const char *key, const char *raw_sr, long long se, const char *skn,
                                     const char *entity, unsigned right) {
  char *t = make_token(key, raw_sr, se, skn);
  struct azr__sas_check c = check_for(entity, right);
  enum azr__sas_verdict v = authorize(&c, t);
  free(t);
  return v;
}

#define ENC_HYCO "http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco%2F"
#define LATER (NOW + 3600)

static void test_authorize_ok_and_outputs(void **state) {
  (void)state;
  struct azr__sas_check c = check_for("hyco", AZR__RIGHT_LISTEN);
  c.now_s = 1700000000 - 60;
  int64_t exp = 0;
  const struct azr__sas_rule *r = NULL;
  assert_int_equal(azr__sas_authorize(&c, S(dotnet_token), &exp, &r), AZR__SAS_OK);
  assert_int_equal(exp, 1700000000);
  assert_ptr_equal(r, &rules[0]);
  /* Outputs are optional. */
  assert_int_equal(azr__sas_authorize(&c, S(dotnet_token), NULL, NULL), AZR__SAS_OK);
}

static void test_authorize_missing_and_malformed(void **state) {
  (void)state;
  struct azr__sas_check c = check_for("hyco", AZR__RIGHT_LISTEN);
  assert_int_equal(authorize(&c, ""), AZR__SAS_MISSING);
  assert_int_equal(azr__sas_authorize(&c, (struct azr__span){NULL, 0}, NULL, NULL), AZR__SAS_MISSING);
  assert_int_equal(authorize(&c, "  "), AZR__SAS_MISSING);
  assert_int_equal(authorize(&c, "Bearer eyJhbGciOi.x.y"), AZR__SAS_MALFORMED);
  assert_int_equal(authorize(&c, "SharedAccessSignature sr=a&se=1&skn=b"), AZR__SAS_MALFORMED);
  assert_int_equal(authorize(&c, "SharedAccessSignature sr=a%2&sig=b&se=1&skn=c"), AZR__SAS_MALFORMED);
  assert_int_equal(authorize(&c, "SharedAccessSignature sr=a%zz&sig=b&se=1&skn=c"), AZR__SAS_MALFORMED);
  assert_int_equal(authorize(&c, "SharedAccessSignature sr=a&sig=b%2&se=1&skn=" RULE), AZR__SAS_MALFORMED);
  assert_int_equal(authorize(&c, "SharedAccessSignature sr=a&sig=b&se=1&skn=Root%G1"), AZR__SAS_MALFORMED);
  /* An over-long sig is simply wrong, a bad escape after the length limit still malformed. */
  char t[600];
  snprintf(t, sizeof t, "SharedAccessSignature sr=%s&sig=%0200d&se=1800000000&skn=%s", ENC_HYCO, 0, RULE);
  assert_int_equal(authorize(&c, t), AZR__SAS_BAD_SIGNATURE);
  snprintf(t, sizeof t, "SharedAccessSignature sr=%s&sig=%0200d%%&se=1800000000&skn=%s", ENC_HYCO, 0, RULE);
  assert_int_equal(authorize(&c, t), AZR__SAS_MALFORMED);
}

static void test_authorize_rule_lookup(void **state) {
  (void)state;
  assert_int_equal(verdict(KEY, ENC_HYCO, LATER, "nobody", "hyco", AZR__RIGHT_LISTEN), AZR__SAS_UNKNOWN_RULE);
  /* Names are case-insensitive and percent-decoded (.NET encodes skn, Node does not). */
  assert_int_equal(verdict(KEY, ENC_HYCO, LATER, "rootmanagesharedaccesskey", "hyco", AZR__RIGHT_LISTEN), AZR__SAS_OK);
  assert_int_equal(verdict(KEY, ENC_HYCO, LATER, "%52ootManageSharedAccessKey", "hyco", AZR__RIGHT_LISTEN), AZR__SAS_OK);
  assert_int_equal(verdict(KEY, ENC_HYCO, LATER, "listen%2Donly", "hyco", AZR__RIGHT_LISTEN), AZR__SAS_OK);
  /* Entity rules apply only to their entity (leading/trailing '/' and case ignored). */
  assert_int_equal(verdict(KEY2, ENC_HYCO, LATER, "hyco-listen", "HYCO", AZR__RIGHT_LISTEN), AZR__SAS_OK);
  assert_int_equal(verdict(KEY, ENC_HYCO, LATER, "other-listen", "hyco", AZR__RIGHT_LISTEN), AZR__SAS_UNKNOWN_RULE);
  char long_name[300];
  memset(long_name, 'n', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = 0;
  assert_int_equal(verdict(KEY, ENC_HYCO, LATER, long_name, "hyco", AZR__RIGHT_LISTEN), AZR__SAS_UNKNOWN_RULE);
  /* No rules at all. */
  char *t = make_token(KEY, ENC_HYCO, LATER, RULE);
  struct azr__sas_check c = check_for("hyco", AZR__RIGHT_LISTEN);
  c.rule_count = 0;
  assert_int_equal(authorize(&c, t), AZR__SAS_UNKNOWN_RULE);
  free(t);
}

static void test_authorize_signature(void **state) {
  (void)state;
  /* Wrong key. */
  assert_int_equal(verdict(KEY2, ENC_HYCO, LATER, RULE, "hyco", AZR__RIGHT_LISTEN), AZR__SAS_BAD_SIGNATURE);
  /* Secondary key verifies too. */
  assert_int_equal(verdict(KEY2, ENC_HYCO, LATER, "listen-only", "hyco", AZR__RIGHT_LISTEN), AZR__SAS_OK);
  struct azr__sas_check c = check_for("hyco", AZR__RIGHT_LISTEN);
  c.now_s = 1600000000;
  /* Altered se, altered sr, altered sig, sig not base64, sig of the wrong length. */
  static const char *const bad[] = {
      "SharedAccessSignature sr=" ENC_HYCO "&sig=hMMUYLCqSXRKhlOOm3ZYIuDPt1reQe2N0VvUQN%2Fjc2k%3D&se=1700000001&skn=" RULE,
      "SharedAccessSignature sr=http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco2%2F&sig=hMMUYLCqSXRKhlOOm3ZYIuDPt1reQe2N0VvUQN%2Fjc2k%3D&se=1700000000&skn=" RULE,
      "SharedAccessSignature sr=" ENC_HYCO "&sig=hMMUYLCqSXRKhlOOm3ZYIuDPt1reQe2N0VvUQN%2Fjc2l%3D&se=1700000000&skn=" RULE,
      "SharedAccessSignature sr=" ENC_HYCO "&sig=hMMUYLCqSXRKhlOOm3ZYIuDPt1reQe2N0VvUQN!jc2k%3D&se=1700000000&skn=" RULE,
      "SharedAccessSignature sr=" ENC_HYCO "&sig=aGVsbG8%3D&se=1700000000&skn=" RULE,
      /* The sr must be hashed as sent: the same URI with lower-case hex is a different message. */
      "SharedAccessSignature sr=http%3a%2f%2fcontoso.servicebus.windows.net%2fhyco%2f&sig=hMMUYLCqSXRKhlOOm3ZYIuDPt1reQe2N0VvUQN%2Fjc2k%3D&se=1700000000&skn=" RULE,
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (authorize(&c, bad[i]) != AZR__SAS_BAD_SIGNATURE) fail_msg("accepted #%zu", i);
  }
  /* Every single-bit change of the 32 signature bytes is caught (the whole MAC is compared). */
  for (size_t bit = 0; bit < 256; bit++) {
    struct azr__buf raw, enc, tok;
    azr__buf_init(&raw, NULL, 0);
    azr__buf_init(&enc, NULL, 0);
    azr__buf_init(&tok, NULL, 0);
    assert_int_equal(azr__base64_decode(&raw, "hMMUYLCqSXRKhlOOm3ZYIuDPt1reQe2N0VvUQN/jc2k=", 44), AZR_OK);
    assert_int_equal(raw.len, 32);
    raw.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    assert_int_equal(azr__base64_encode(&enc, raw.data, raw.len), AZR_OK);
    assert_int_equal(azr__buf_printf(&tok, "SharedAccessSignature sr=%s&sig=", ENC_HYCO), AZR_OK);
    assert_int_equal(azr__url_encode(&tok, (const char *)enc.data, enc.len), AZR_OK);
    assert_int_equal(azr__buf_append_str(&tok, "&se=1700000000&skn=" RULE), AZR_OK);
    if (authorize(&c, azr__buf_cstr(&tok)) != AZR__SAS_BAD_SIGNATURE) fail_msg("bit %zu flip accepted", bit);
    azr__buf_free(&raw);
    azr__buf_free(&enc);
    azr__buf_free(&tok);
  }
  /* '+' in sig is base64, not a space; unpadded and Python-style un-encoded '/' are fine. */
  char sig[64];
  raw_sig(KEY, "http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco", "1700000000", sig);
  assert_string_equal(sig, "+MkbuZlQcESy1IKohN8Tbv29rANXrR8x9aAkOUG8oBY=");
  assert_int_equal(authorize(&c, "SharedAccessSignature sr=http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco&sig=+MkbuZlQcESy1IKohN8Tbv29rANXrR8x9aAkOUG8oBY=&se=1700000000&skn=" RULE),
                   AZR__SAS_OK);
  assert_int_equal(authorize(&c, "SharedAccessSignature sr=" ENC_HYCO "&sig=hMMUYLCqSXRKhlOOm3ZYIuDPt1reQe2N0VvUQN/jc2k&se=1700000000&skn=" RULE),
                   AZR__SAS_OK);
  /* A check without an HMAC function verifies nothing. */
  c.hmac = NULL;
  assert_int_equal(authorize(&c, dotnet_token), AZR__SAS_BAD_SIGNATURE);
}

static void test_authorize_expiry(void **state) {
  (void)state;
  struct azr__sas_check c = check_for("hyco", AZR__RIGHT_LISTEN);
  c.now_s = 1700000000 - 1;
  assert_int_equal(authorize(&c, dotnet_token), AZR__SAS_OK);
  c.now_s = 1700000000; /* se <= now: expired */
  assert_int_equal(authorize(&c, dotnet_token), AZR__SAS_EXPIRED);
  c.clock_skew_s = 30;
  c.now_s = 1700000000 + 29;
  assert_int_equal(authorize(&c, dotnet_token), AZR__SAS_OK);
  c.now_s = 1700000000 + 30;
  assert_int_equal(authorize(&c, dotnet_token), AZR__SAS_EXPIRED);
  c.clock_skew_s = -5; /* negative skew counts as none */
  c.now_s = 1700000000;
  assert_int_equal(authorize(&c, dotnet_token), AZR__SAS_EXPIRED);
  c.clock_skew_s = INT64_MAX; /* no overflow */
  c.now_s = INT64_MIN + 5;
  assert_int_equal(authorize(&c, dotnet_token), AZR__SAS_OK);
  /* Expiry is checked after the signature: an expired token with a bad signature is a bad signature. */
  c.clock_skew_s = 0;
  c.now_s = NOW + 10;
  assert_int_equal(verdict(KEY2, ENC_HYCO, NOW, RULE, "hyco", AZR__RIGHT_LISTEN), AZR__SAS_BAD_SIGNATURE);
}

static void test_authorize_audience_styles(void **state) {
  (void)state;
  static const struct {
    const char *raw_sr, *entity;
    enum azr__sas_verdict want;
  } v[] = {
      /* .NET: http://host/entity/, upper-case hex */
      {ENC_HYCO, "hyco", AZR__SAS_OK},
      /* old .NET Framework / PHP: lower-case hex */
      {"http%3a%2f%2fcontoso.servicebus.windows.net%2fhyco%2f", "hyco", AZR__SAS_OK},
      /* PHP: whole URI lower-cased, entity spelled in upper case */
      {"http%3a%2f%2fcontoso.servicebus.windows.net%2fhyco%2f", "HyCo", AZR__SAS_OK},
      /* Node from createRelayListenUri: port 443 kept, no trailing slash */
      {"http%3A%2F%2Fcontoso.servicebus.windows.net%3A443%2Fhyco", "hyco", AZR__SAS_OK},
      /* Node from createRelayHttpsUri / Python quote(safe='') */
      {"http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco", "hyco", AZR__SAS_OK},
      /* Java listener: the sb:// address as given; Java's doubled trailing slash */
      {"sb%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco", "hyco", AZR__SAS_OK},
      {"sb%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco%2F%2F", "hyco", AZR__SAS_OK},
      /* Java sender: namespace-wide sb://host */
      {"sb%3A%2F%2Fcontoso.servicebus.windows.net", "hyco", AZR__SAS_OK},
      /* .NET HTTP tests: https, wss; host case; form-encoded '+' would be a space (not in hosts) */
      {"https%3A%2F%2FCONTOSO.servicebus.windows.net%2Fhyco%2F", "hyco", AZR__SAS_OK},
      {"wss%3A%2F%2Fcontoso.servicebus.windows.net%3A8443%2Fhyco%2F", "hyco", AZR__SAS_OK},
      /* namespace root grants every entity; a prefix token grants the entities below it */
      {"http%3A%2F%2Fcontoso.servicebus.windows.net%2F", "a/b/c", AZR__SAS_OK},
      {"http%3A%2F%2Fcontoso.servicebus.windows.net%2Fa%2F", "a/b", AZR__SAS_OK},
      {"http%3A%2F%2Fcontoso.servicebus.windows.net%2Fa%2Fb%2F", "/a/b/", AZR__SAS_OK},
      /* query and fragment of the audience are ignored; userinfo is dropped */
      {"http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco%3Fx%3D1", "hyco", AZR__SAS_OK},
      {"http%3A%2F%2Fu%40contoso.servicebus.windows.net%2Fhyco", "hyco", AZR__SAS_OK},
      /* second namespace host */
      {"http%3A%2F%2Flocalhost%3A9000%2Fhyco%2F", "hyco", AZR__SAS_OK},
      /* wrong audiences */
      {"http%3A%2F%2Fcontoso.servicebus.windows.net%2Fother%2F", "hyco", AZR__SAS_WRONG_AUDIENCE},
      {"http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhy%2F", "hyco", AZR__SAS_WRONG_AUDIENCE},
      {"http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco%2Fsub%2F", "hyco", AZR__SAS_WRONG_AUDIENCE},
      {"http%3A%2F%2Fcontoso.servicebus.windows.net%2Fa%2Fb%2F", "a", AZR__SAS_WRONG_AUDIENCE},
      {"http%3A%2F%2Fevil.example%2Fhyco%2F", "hyco", AZR__SAS_WRONG_AUDIENCE},
      {"http%3A%2F%2Fcontoso.servicebus.windows.net.evil%2Fhyco%2F", "hyco", AZR__SAS_WRONG_AUDIENCE},
      {"contoso.servicebus.windows.net%2Fhyco", "hyco", AZR__SAS_WRONG_AUDIENCE},  /* not absolute */
      {"contoso.servicebus.windows.net", "hyco", AZR__SAS_WRONG_AUDIENCE},
      {"http%3A%2Fcontoso.servicebus.windows.net%2Fhyco", "hyco", AZR__SAS_WRONG_AUDIENCE},
      {"%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco", "hyco", AZR__SAS_WRONG_AUDIENCE},
      {"1http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco", "hyco", AZR__SAS_WRONG_AUDIENCE},
      {"http%3A%2F%2F%2Fhyco", "hyco", AZR__SAS_WRONG_AUDIENCE},
      {"http%3A%2F%2F%3A443%2Fhyco", "hyco", AZR__SAS_WRONG_AUDIENCE},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    enum azr__sas_verdict got = verdict(KEY, v[i].raw_sr, LATER, RULE, v[i].entity, AZR__RIGHT_LISTEN);
    if (got != v[i].want) fail_msg("#%zu %s for %s: got %d want %d", i, v[i].raw_sr, v[i].entity, got, v[i].want);
  }
  /* No namespace hosts: nothing matches. */
  char *t = make_token(KEY, ENC_HYCO, LATER, RULE);
  struct azr__sas_check c = check_for("hyco", AZR__RIGHT_LISTEN);
  c.host_count = 0;
  assert_int_equal(authorize(&c, t), AZR__SAS_WRONG_AUDIENCE);
  free(t);
  /* IPv6 hosts with and without port. */
  static const char *const v6[] = {"[::1]"};
  c.namespace_hosts = v6;
  c.host_count = 1;
  t = make_token(KEY, "http%3A%2F%2F%5B%3A%3A1%5D%3A8443%2Fhyco%2F", LATER, RULE);
  assert_int_equal(authorize(&c, t), AZR__SAS_OK);
  free(t);
}

static void test_authorize_rights(void **state) {
  (void)state;
  assert_int_equal(verdict(KEY, ENC_HYCO, LATER, "send-only", "hyco", AZR__RIGHT_LISTEN), AZR__SAS_MISSING_RIGHT);
  assert_int_equal(verdict(KEY, ENC_HYCO, LATER, "send-only", "hyco", AZR__RIGHT_SEND), AZR__SAS_OK);
  assert_int_equal(verdict(KEY, ENC_HYCO, LATER, "listen-only", "hyco", AZR__RIGHT_SEND), AZR__SAS_MISSING_RIGHT);
  assert_int_equal(verdict(KEY, ENC_HYCO, LATER, "listen-only", "hyco", AZR__RIGHT_MANAGE), AZR__SAS_MISSING_RIGHT);
  assert_int_equal(verdict(KEY, ENC_HYCO, LATER, "listen-only", "hyco", 0), AZR__SAS_OK);
  /* Manage implies Listen and Send. */
  assert_int_equal(verdict(KEY, ENC_HYCO, LATER, RULE, "hyco", AZR__RIGHT_LISTEN), AZR__SAS_OK);
  assert_int_equal(verdict(KEY, ENC_HYCO, LATER, RULE, "hyco", AZR__RIGHT_SEND), AZR__SAS_OK);
  assert_int_equal(verdict(KEY, ENC_HYCO, LATER, RULE, "hyco", AZR__RIGHT_LISTEN | AZR__RIGHT_SEND), AZR__SAS_OK);
  /* Audience is checked before rights. */
  assert_int_equal(verdict(KEY, "http%3A%2F%2Fx%2Fhyco", LATER, "send-only", "hyco", AZR__RIGHT_LISTEN),
                   AZR__SAS_WRONG_AUDIENCE);
}

static void test_sign_then_authorize(void **state) {
  (void)state;
  /* The signer's output is accepted by the verifier for the same entity, with audience from azr__sas_audience. */
  struct azr__buf aud, tok;
  azr__buf_init(&aud, NULL, 0);
  azr__buf_init(&tok, NULL, 0);
  assert_int_equal(azr__sas_audience(&aud, "LOCALHOST:8443", "/a/b"), AZR_OK);
  assert_int_equal(azr__sas_sign(&tok, azr__buf_cstr(&aud), "listen-only", KEY2, LATER, azr__hmac_sha256), AZR_OK);
  struct azr__sas_check c = check_for("a/b", AZR__RIGHT_LISTEN);
  assert_int_equal(authorize(&c, azr__buf_cstr(&tok)), AZR__SAS_OK);
  c.entity_path = "a/bc";
  assert_int_equal(authorize(&c, azr__buf_cstr(&tok)), AZR__SAS_WRONG_AUDIENCE);
  azr__buf_free(&aud);
  azr__buf_free(&tok);
}

static void test_verdict_texts(void **state) {
  (void)state;
  assert_string_equal(azr__sas_verdict_text(AZR__SAS_BAD_SIGNATURE, 0), "The token has an invalid signature.");
  assert_string_equal(azr__sas_verdict_text(AZR__SAS_EXPIRED, 0), "ExpiredToken: The token is expired.");
  assert_string_equal(azr__sas_verdict_text(AZR__SAS_WRONG_AUDIENCE, 0),
                      "InvalidAudience: The authorization header contains a token with a wrong audience.");
  assert_string_equal(azr__sas_verdict_text(AZR__SAS_MISSING_RIGHT, AZR__RIGHT_LISTEN),
                      "Unauthorized access. 'Listen' claim(s) are required to perform this operation.");
  assert_string_equal(azr__sas_verdict_text(AZR__SAS_MISSING_RIGHT, AZR__RIGHT_SEND),
                      "Unauthorized access. 'Send' claim(s) are required to perform this operation.");
  assert_string_equal(azr__sas_verdict_text(AZR__SAS_MISSING_RIGHT, AZR__RIGHT_MANAGE),
                      "Unauthorized access. 'Manage' claim(s) are required to perform this operation.");
  assert_true(strncmp(azr__sas_verdict_text(AZR__SAS_MALFORMED, 0), "MalformedToken: ", 16) == 0);
  /* All distinct and non-empty. */
  for (int a = AZR__SAS_OK; a <= AZR__SAS_MISSING_RIGHT; a++) {
    assert_true(strlen(azr__sas_verdict_text((enum azr__sas_verdict)a, AZR__RIGHT_LISTEN)) > 5);
    for (int b = a + 1; b <= AZR__SAS_MISSING_RIGHT; b++)
      assert_string_not_equal(azr__sas_verdict_text((enum azr__sas_verdict)a, AZR__RIGHT_LISTEN),
                              azr__sas_verdict_text((enum azr__sas_verdict)b, AZR__RIGHT_LISTEN));
  }
  assert_non_null(azr__sas_verdict_text((enum azr__sas_verdict)99, 0));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vectors_3_2),
      cmocka_unit_test(test_sign_appends_and_checks_args),
      cmocka_unit_test(test_audience),
      cmocka_unit_test(test_parse),
      cmocka_unit_test(test_parse_every_prefix),
      cmocka_unit_test(test_authorize_ok_and_outputs),
      cmocka_unit_test(test_authorize_missing_and_malformed),
      cmocka_unit_test(test_authorize_rule_lookup),
      cmocka_unit_test(test_authorize_signature),
      cmocka_unit_test(test_authorize_expiry),
      cmocka_unit_test(test_authorize_audience_styles),
      cmocka_unit_test(test_authorize_rights),
      cmocka_unit_test(test_sign_then_authorize),
      cmocka_unit_test(test_verdict_texts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
