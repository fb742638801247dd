/* SPDX-License-Identifier: MIT */
/* Token checks for listen, connect, renewToken and HTTP requests (§3.4-§3.6). */
#include <stdio.h>
#include <string.h>

#include "emulator/emulator_internal.h"
#include "util/crypto.h"
#include "util/limits.h"

#define MAX_ALIASES 16

static int check(azr_emulator *em, struct azr__span token, const struct emu_entity *entity, unsigned right,
                 int64_t *expiry_s, char *msg, size_t msg_len) {
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
  /* A token names the namespace it is for, and only configured names count (the namespace host and
   * NamespaceAliases): the Host header is the client's to choose, so trusting it would let any
   * audience pass (§3.6 step 6). listen, connect, HTTP and renewToken all check the same way. */
  const char *hosts[1 + MAX_ALIASES];
  char aliases[sizeof em->settings.namespace_aliases];
  size_t host_count = 0;
  hosts[host_count++] = em->namespace_host;
  memcpy(aliases, em->settings.namespace_aliases, sizeof aliases);
  for (char *save = NULL, *a = strtok_r(aliases, ",", &save); a && host_count < 1 + MAX_ALIASES;
       a = strtok_r(NULL, ",", &save))
    hosts[host_count++] = a;
  struct azr__sas_check c = {.rules = rules,
                             .rule_count = em->rule_count,
                             .namespace_hosts = hosts,
                             .host_count = host_count,
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
  int status = check(em, token, entity, right, expiry_s, msg, msg_len);
  azr__buf_free(&tok);
  return status;
}

int emu_authorize_token(azr_emulator *em, const char *token, const struct emu_entity *entity, unsigned right,
                        int64_t *expiry_s, char *msg, size_t msg_len) {
  return check(em, azr__span_of(token), entity, right, expiry_s, msg, msg_len);
}
