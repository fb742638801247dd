/* SPDX-License-Identifier: MIT */
/* Token creation for the listen and connect handshakes and for renewals. */
#include "config/token_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/sas.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/limits.h"

int azr__namespace_split(const char *ns, char *host, size_t host_len, uint16_t *port) {
  if (!ns || !*ns) return AZR_E_INVALID_ARG;
  const char *p = strstr(ns, "://");
  p = p ? p + 3 : ns;
  size_t n = strcspn(p, "/");
  char tmp[300];
  if (n == 0 || n >= sizeof tmp) return AZR_E_INVALID_ARG;
  memcpy(tmp, p, n);
  tmp[n] = 0;
  *port = 0;
  char *h = tmp, *colon;
  if (tmp[0] == '[') {
    char *rb = strchr(tmp, ']');
    if (!rb) return AZR_E_INVALID_ARG;
    *rb = 0;
    h = tmp + 1;
    colon = rb[1] == ':' ? rb + 1 : NULL;
  } else {
    colon = strrchr(tmp, ':');
    if (colon && strchr(tmp, ':') != colon) colon = NULL; /* bare IPv6 without brackets: no port */
  }
  if (colon) {
    *colon = 0;
    char *end;
    long v = strtol(colon + 1, &end, 10);
    if (*end || v <= 0 || v > 65535) return AZR_E_INVALID_ARG;
    *port = (uint16_t)v;
  }
  size_t hl = strlen(h);
  if (!hl || hl >= host_len) return AZR_E_INVALID_ARG;
  memcpy(host, h, hl + 1);
  return AZR_OK;
}

int azr__token_make(const struct azr__token_source *ts, const char *host, const char *entity, char *out,
                    size_t out_len, int64_t *expiry_s, char *err, size_t err_len) {
  const struct azr__listener_settings *set = ts->set;
  struct azr__buf aud;
  azr__buf_init(&aud, NULL, AZR_MAX_URL);
  int rc = azr__sas_audience(&aud, host, entity ? entity : "");
  int64_t now = azr__wall_s();
  if (rc) {
    snprintf(err, err_len, "cannot build the token audience");
  } else if (ts->fn) {
    *expiry_s = 0;
    out[0] = 0;
    rc = ts->fn(azr__buf_cstr(&aud), out, out_len, expiry_s, ts->ud);
    if (!rc && !out[0]) rc = AZR_E_BAD_TOKEN;
    if (rc) snprintf(err, err_len, "the token provider failed: %s", azr_strerror(rc));
    if (!rc && *expiry_s <= 0) *expiry_s = now + set->token_validity_s;
  } else if (set->sas_token && *set->sas_token) {
    size_t n = strlen(set->sas_token);
    if (n + 1 > out_len) {
      rc = AZR_E_TOO_BIG;
      snprintf(err, err_len, "the token is longer than %zu bytes", out_len - 1);
    } else {
      memcpy(out, set->sas_token, n + 1);
      struct azr__sas_fields f;
      *expiry_s = azr__sas_parse(azr__span_of(out), &f) == AZR_OK ? f.expiry_s : now + set->token_validity_s;
    }
  } else if (set->access_key_name && *set->access_key_name && set->access_key && *set->access_key) {
    struct azr__buf tok;
    azr__buf_init(&tok, NULL, AZR_MAX_TOKEN);
    *expiry_s = now + set->token_validity_s;
    rc = azr__sas_sign(&tok, azr__buf_cstr(&aud), set->access_key_name, set->access_key, *expiry_s, azr__hmac_sha256);
    if (!rc && tok.len + 1 > out_len) rc = AZR_E_TOO_BIG;
    if (!rc) memcpy(out, tok.data, tok.len + 1);
    else snprintf(err, err_len, "cannot sign a token: %s", azr_strerror(rc));
    azr__free_secret(NULL, azr__buf_steal(&tok));
  } else {
    snprintf(err, err_len, "no credentials: set AccessKeyName and AccessKey, a token, or a token provider");
    rc = AZR_E_INVALID_ARG;
  }
  azr__buf_free(&aud);
  return rc;
}
