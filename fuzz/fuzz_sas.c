/* SPDX-License-Identifier: MIT */
/* Fuzzes SAS token parsing and authorization (§3.6) with the input as a token, and a sign -> authorize
 * round trip with the input split into host, entity, key name and key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "azrelay/common.h"
#include "proto/sas.h"
#include "util/crypto.h"
#include "util/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct azr__sas_rule rules[] = {
    {"RootManageSharedAccessKey", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", NULL, AZR__RIGHT_MANAGE, NULL},
    {"listen", "a", "b", AZR__RIGHT_LISTEN, "hyco"},
    {"send", "k", NULL, AZR__RIGHT_SEND, NULL},
};
static const char *const hosts[] = {"contoso.servicebus.windows.net", "localhost:8443"};

static void check_token(const uint8_t *data, size_t size) {
  struct azr__span token = {(const char *)data, size};
  struct azr__sas_fields f;
  int prc = azr__sas_parse(token, &f);
  if (prc != AZR_OK && prc != AZR_E_BAD_TOKEN) abort();
  if (prc == AZR_OK && (f.expiry_s < 0 || !f.sr.len || !f.sig.len || !f.se.len || !f.skn.len)) abort();
  static const char *const entities[] = {"hyco", "a/b", ""};
  for (size_t e = 0; e < 3; e++) {
    struct azr__sas_check c = {rules, 3, hosts, 2, entities[e], (unsigned)(size % 8), 1700000000, 30, azr__hmac_sha256};
    int64_t exp = -1;
    const struct azr__sas_rule *r = NULL;
    enum azr__sas_verdict v = azr__sas_authorize(&c, token, &exp, &r);
    if (prc != AZR_OK && v != AZR__SAS_MISSING && v != AZR__SAS_MALFORMED) abort();
    if (prc == AZR_OK && v == AZR__SAS_MISSING) abort();
    if (v == AZR__SAS_OK && (!r || exp != f.expiry_s)) abort();
    if (!azr__sas_verdict_text(v, c.needed_right)) abort();
  }
}

static bool plain(const char *s, bool slash) {
  for (; *s; s++) {
    char ch = *s;
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || (slash && ch == '/')))
      return false;
  }
  return true;
}

/* "host\nentity\nkey_name\nkey": a token signed for them is accepted for that entity whenever the
 * inputs are well-formed. */
static void check_sign_authorize(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return;
  memcpy(text, data, size);
  text[size] = 0;
  char *parts[4] = {0};
  char *p = text;
  for (int i = 0; i < 4 && p; i++) {
    parts[i] = p;
    p = i < 3 ? strchr(p, '\n') : NULL;
    if (p) *p++ = 0;
  }
  if (!parts[3] || memchr(data, 0, size)) goto out;
  struct azr__buf aud, tok;
  azr__buf_init(&aud, NULL, AZR_MAX_URL);
  azr__buf_init(&tok, NULL, AZR_MAX_TOKEN);
  int rc = azr__sas_audience(&aud, parts[0], parts[1]);
  if (rc == AZR_OK) rc = azr__sas_sign(&tok, azr__buf_cstr(&aud), parts[2], parts[3], 1700003600, azr__hmac_sha256);
  if (rc == AZR_OK) {
    struct azr__sas_rule rule = {parts[2], "wrong", parts[3], AZR__RIGHT_LISTEN, parts[1]};
    const char *host = parts[0];
    struct azr__sas_check c = {&rule, 1, &host, 1, parts[1], AZR__RIGHT_LISTEN, 1700000000, 0, azr__hmac_sha256};
    enum azr__sas_verdict v = azr__sas_authorize(&c, (struct azr__span){(const char *)tok.data, tok.len}, NULL, NULL);
    bool well_formed = *parts[0] && plain(parts[0], false) && plain(parts[1], true);
    if (well_formed && v != AZR__SAS_OK) abort();
    /* Another key never verifies. */
    rule.secondary_key = "other";
    if (strcmp(parts[3], "other") && strcmp(parts[3], "wrong") &&
        azr__sas_authorize(&c, (struct azr__span){(const char *)tok.data, tok.len}, NULL, NULL) == AZR__SAS_OK)
      abort();
  } else if (rc != AZR_E_INVALID_ARG && rc != AZR_E_TOO_BIG) {
    abort();
  }
  azr__buf_free(&aud);
  azr__buf_free(&tok);
out:
  free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_token(data, size);
  check_sign_authorize(data, size);
  return 0;
}
