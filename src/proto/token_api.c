/* SPDX-License-Identifier: MIT */
/* Public token and connection-string functions (include/azrelay/token.h) over proto/sas and proto/connstr. */
#include "azrelay/token.h"

#include <string.h>

#include "proto/connstr.h"
#include "proto/sas.h"
#include "util/crypto.h"
#include "util/limits.h"
#include "util/mem.h"

/* The public struct first, so the pointer handed out is also the pointer to free. */
struct connstr_holder {
  azr_connection_string pub;
  struct azr__connstr parsed;
};

int azr_connection_string_parse(const char *text, azr_connection_string **out, char *err, size_t err_len) {
  if (err && err_len) err[0] = 0;
  if (out) *out = NULL;
  if (!text || !out) return AZR_E_INVALID_ARG;
  const struct azr__mem *mem = azr__mem_default();
  struct connstr_holder *h = azr__calloc(mem, 1, sizeof *h);
  if (!h) return AZR_E_NOMEM;
  int rc = azr__connstr_parse(mem, text, &h->parsed, err, err_len);
  if (rc) {
    azr__free(mem, h);
    return rc;
  }
  h->pub.endpoint = h->parsed.endpoint;
  h->pub.host = h->parsed.host;
  h->pub.port = h->parsed.port;
  h->pub.key_name = h->parsed.key_name;
  h->pub.key = h->parsed.key;
  h->pub.shared_access_signature = h->parsed.sas;
  h->pub.entity_path = h->parsed.entity_path;
  h->pub.use_development_emulator = h->parsed.use_development_emulator;
  *out = &h->pub;
  return AZR_OK;
}

void azr_connection_string_free(azr_connection_string *cs) {
  if (!cs) return;
  struct connstr_holder *h = (struct connstr_holder *)cs;
  azr__connstr_free(azr__mem_default(), &h->parsed);
  azr__free(azr__mem_default(), h);
}

static int sign(struct azr__buf *audience, const char *key_name, const char *key, int64_t expiry_s, char **out_token) {
  struct azr__buf token;
  azr__buf_init(&token, azr__mem_default(), AZR_MAX_TOKEN);
  int rc = azr__sas_sign(&token, azr__buf_cstr(audience), key_name, key, expiry_s, azr__hmac_sha256);
  if (rc == AZR_E_TOO_BIG) rc = AZR_E_INVALID_ARG; /* only an absurd audience gets there */
  if (!rc) *out_token = azr__buf_steal(&token);
  azr__buf_free(&token);
  return rc;
}

int azr_sas_token_create(const char *resource_uri, const char *key_name, const char *key, int64_t expiry_s,
                         char **out_token) {
  if (out_token) *out_token = NULL;
  if (!resource_uri || !*resource_uri || !out_token) return AZR_E_INVALID_ARG;
  struct azr__buf audience;
  azr__buf_init(&audience, azr__mem_default(), AZR_MAX_URL);
  int rc = azr__buf_append_str(&audience, resource_uri);
  if (rc == AZR_E_TOO_BIG) rc = AZR_E_INVALID_ARG;
  if (!rc) rc = sign(&audience, key_name, key, expiry_s, out_token);
  azr__buf_free(&audience);
  return rc;
}

int azr_sas_token_for_entity(const char *host, const char *entity_path, const char *key_name, const char *key,
                             int64_t expiry_s, char **out_token) {
  if (out_token) *out_token = NULL;
  if (!host || !out_token) return AZR_E_INVALID_ARG;
  struct azr__buf audience;
  azr__buf_init(&audience, azr__mem_default(), AZR_MAX_URL);
  int rc = azr__sas_audience(&audience, host, entity_path);
  if (rc == AZR_E_TOO_BIG) rc = AZR_E_INVALID_ARG;
  if (!rc) rc = sign(&audience, key_name, key, expiry_s, out_token);
  azr__buf_free(&audience);
  return rc;
}

void azr_free(void *p) { azr__free(azr__mem_default(), p); }
