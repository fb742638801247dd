/* SPDX-License-Identifier: MIT */
/* Token checks for listen, connect, renewToken and HTTP requests (§3.4-§3.6). */
#include <stdio.h>
#include <string.h>

#include "emulator/emulator_internal.h"
#include "util/crypto.h"
#include "util/limits.h"

static int check(azr_emulator *em, struct azr__span token, const char *request_host, const struct emu_entity *entity,
                 unsigned right, int64_t *expiry_s, char *msg, size_t msg_len) {
  if (token.len == 0) {
    snprintf(msg, msg_len, "MissingToken: The authorization header was not found.");
    return 401;
  }
  if (token.len > AZR_MAX_TOKEN) {
    snprintf(msg, msg_len, "MalformedToken: The token is too long.");
    return 401;
  }
  struct azr__sas_rule stack_rules[16];
  struct azr__sas_rule *rules = em->rule_count <= 16 ? stack_rules : azr__calloc(em->mem, em->rule_count, sizeof *rules);
  if (!rules) {
    snprintf(msg, msg_len, "Out of memory.");
    return 500;
  }
  for (size_t i = 0; i < em->rule_count; i++) {
    rules[i].name = em->rules[i].name;
    rules[i].primary_key = em->rules[i].primary_key;
    rules[i].secondary_key = em->rules[i].secondary_key;
    rules[i].rights = em->rules[i].rights;
    rules[i].entity = em->rules[i].entity;
  }
  /* The namespace answers to its configured name and to whatever host the client dialled (the
   * emulator is reached as localhost, 127.0.0.1, ...). */
  const char *hosts[3] = {em->namespace_host, request_host ? request_host : "localhost", "localhost"};
  struct azr__sas_check c = {.rules = rules,
                             .rule_count = em->rule_count,
                             .namespace_hosts = hosts,
                             .host_count = 3,
                             .entity_path = entity->path,
                             .needed_right = right,
                             .now_s = emu_now_s(em),
                             .clock_skew_s = em->settings.clock_skew_s,
                             .hmac = azr__hmac_sha256};
  int64_t exp = 0;
  enum azr__sas_verdict v = azr__sas_authorize(&c, token, &exp, NULL);
  if (rules != stack_rules) azr__free(em->mem, rules);
  if (v != AZR__SAS_OK) {
    snprintf(msg, msg_len, "%s", azr__sas_verdict_text(v, right));
    return v == AZR__SAS_MISSING_RIGHT ? em->settings.missing_right_status : 401;
  }
  if (em->settings.token_max_ttl_s > 0 && exp > c.now_s + em->settings.token_max_ttl_s)
    exp = c.now_s + em->settings.token_max_ttl_s;
  if (expiry_s) *expiry_s = exp;
  return 0;
}

static void host_without_port(const struct azr__http_head *head, char *out, size_t out_len) {
  out[0] = 0;
  const struct azr__http_header *h = azr__http_head_find(head, "Host");
  if (!h) return;
  struct azr__span v = h->value;
  size_t n = v.len;
  if (n && v.ptr[0] == '[') {
    const char *end = memchr(v.ptr, ']', n);
    if (end) {
      snprintf(out, out_len, "%.*s", (int)(end - v.ptr - 1), v.ptr + 1);
      return;
    }
  }
  const char *colon = memchr(v.ptr, ':', n);
  if (colon) n = (size_t)(colon - v.ptr);
  snprintf(out, out_len, "%.*s", (int)n, v.ptr);
}

int emu_authorize(azr_emulator *em, const struct azr__http_head *head, const struct azr__hc_target *target,
                  const struct emu_entity *entity, unsigned right, bool http_mode, int64_t *expiry_s, char *msg,
                  size_t msg_len) {
  struct azr__buf tok;
  azr__buf_init(&tok, em->mem, AZR_MAX_TOKEN + 1);
  struct azr__span token = {"", 0};
  /* Evaluation order of §3.4: query, ServiceBusAuthorization, then (HTTP) Authorization. */
  if (target->has_token) {
    if (azr__hc_target_token(target, &tok) != AZR_OK) {
      azr__buf_free(&tok);
      snprintf(msg, msg_len, "MalformedToken: The sb-hc-token query parameter is not correctly encoded.");
      return 401;
    }
    token = (struct azr__span){(const char *)tok.data, tok.len};
  } else {
    const struct azr__http_header *h = azr__http_head_find(head, "ServiceBusAuthorization");
    if (!h && http_mode) h = azr__http_head_find(head, "Authorization");
    if (h) token = h->value;
  }
  char host[256];
  host_without_port(head, host, sizeof host);
  int status = check(em, token, host, entity, right, expiry_s, msg, msg_len);
  azr__buf_free(&tok);
  return status;
}

int emu_authorize_token(azr_emulator *em, const char *token, const struct emu_entity *entity, unsigned right,
                        int64_t *expiry_s, char *msg, size_t msg_len) {
  return check(em, azr__span_of(token), NULL, entity, right, expiry_s, msg, msg_len);
}
