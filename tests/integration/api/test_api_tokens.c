/* SPDX-License-Identifier: MIT */
/* Credentials end to end: the AccessToken the listener signs, token providers, pre-issued tokens,
 * live key rotation across renewals, and redaction of secrets from logs and error texts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "harness.h"

#define KEY_A "a2V5LUEtc2Vjb25kYXJ5LWZvci1yb3RhdGlvbi10ZXN0cw=="
#define KEY_B "a2V5LUItcHJpbWFyeS1mb3Itcm90YXRpb24tdGVzdHMtLQ=="
#define PROVIDER_KEY "cHJvdmlkZXIta2V5LWZvci10aGUtdG9rZW4tdGVzdHMtLQ=="

static int teardown(void **state) {
  h_world_free(*state);
  *state = NULL;
  return 0;
}

/* The value of "name=" in a SharedAccessSignature token (up to '&'), or "" */
static void sas_field(const char *token, const char *name, char *out, size_t out_len) {
  out[0] = 0;
  size_t n = strlen(name);
  const char *p = strchr(token, ' ');
  for (p = p ? p + 1 : token; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
    if (!strncmp(p, name, n) && p[n] == '=') {
      size_t len = strcspn(p + n + 1, "&");
      snprintf(out, out_len, "%.*s", (int)len, p + n + 1);
      return;
    }
  }
}

static void percent_decode(const char *in, char *out, size_t out_len) {
  size_t o = 0;
  for (size_t i = 0; in[i] && o + 1 < out_len; i++) {
    if (in[i] == '%' && in[i + 1] && in[i + 2]) {
      char hex[3] = {in[i + 1], in[i + 2], 0};
      out[o++] = (char)strtol(hex, NULL, 16);
      i += 2;
    } else {
      out[o++] = in[i];
    }
  }
  out[o] = 0;
}

static void test_access_token_is_valid_sas(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_config(hl, "TokenValidity=600");
  char token[2048], v[600];
  int64_t now = (int64_t)time(NULL);
  h_listener_get(hl, "AccessToken", token, sizeof token);
  assert_true(!strncmp(token, "SharedAccessSignature sr=", 25));
  sas_field(token, "sr", v, sizeof v);
  char audience[600];
  percent_decode(v, audience, sizeof audience);
  assert_string_equal(audience, "http://localhost/" H_HC "/");
  sas_field(token, "skn", v, sizeof v);
  assert_string_equal(v, H_KEY_NAME);
  sas_field(token, "se", v, sizeof v);
  int64_t se = strtoll(v, NULL, 10);
  assert_true(se > now);
  assert_true(se >= now + 600 - 5 && se <= now + 600 + 5);
  sas_field(token, "sig", v, sizeof v);
  assert_true(strlen(v) >= 40);
  /* Signed with the key: the same as the public helper computes. */
  char *expect = NULL;
  assert_int_equal(azr_sas_token_for_entity("localhost", H_HC, H_KEY_NAME, H_KEY, se, &expect), AZR_OK);
  assert_string_equal(token, expect);
  azr_free(expect);
  /* And the relay takes it. */
  struct h_listener *other = h_listener_new(w, true);
  assert_int_equal(azr_listener_set_token(other->l, token), AZR_OK);
  assert_int_equal(azr_listener_set_key(other->l, H_KEY_NAME, "bm90LXRoZS1rZXk="), AZR_OK);
  h_listener_start_online(other);
  /* The secret settings read back empty. */
  h_listener_get(hl, "AccessKey", v, sizeof v);
  assert_string_equal(v, "");
  h_listener_get(other, "SasToken", v, sizeof v);
  assert_string_equal(v, "");
}

struct provider {
  int calls;
  int fail_from; /* 0 = never */
  int status;
  char audience[256];
  char token[1024];
};

static int provide(const char *audience, char *out, size_t out_len, int64_t *expiry_s, void *ud) {
  struct provider *p = ud;
  p->calls++;
  snprintf(p->audience, sizeof p->audience, "%s", audience);
  if (p->fail_from && p->calls >= p->fail_from) return p->status;
  int64_t se = (int64_t)time(NULL) + 300;
  char *tok = NULL;
  if (azr_sas_token_create(audience, "provider-rule", PROVIDER_KEY, se, &tok) != AZR_OK) return AZR_E_BAD_TOKEN;
  snprintf(out, out_len, "%s", tok);
  snprintf(p->token, sizeof p->token, "%s", tok);
  azr_free(tok);
  *expiry_s = se;
  return AZR_OK;
}

static void test_token_provider(void **state) {
  struct h_world *w = *state = h_world_prepare(false, NULL);
  assert_int_equal(azr_emulator_add_rule(w->em, "provider-rule", PROVIDER_KEY, NULL, AZR_RIGHT_LISTEN, H_HC), AZR_OK);
  h_world_start(w);
  /* The listener's own key is wrong: only the provider's tokens can work. */
  struct h_listener *hl = h_listener_new(w, true);
  assert_int_equal(azr_listener_set_key(hl->l, H_KEY_NAME, "d3Jvbmcta2V5"), AZR_OK);
  struct provider p = {0};
  assert_int_equal(azr_listener_set_token_provider(hl->l, provide, &p), AZR_OK);
  h_listener_start_online(hl);
  assert_true(p.calls >= 2); /* start checks, connect signs */
  assert_string_equal(p.audience, "http://localhost/" H_HC "/");
  char token[2048];
  h_listener_get(hl, "AccessToken", token, sizeof token);
  assert_string_equal(token, p.token);
  assert_true(h_contains(token, "skn=provider-rule"));

  /* A provider that fails the connect attempt: on_connected reports it, and we retry. */
  struct h_listener *bad = h_listener_new(w, true);
  struct provider q = {0, 2, AZR_E_BAD_TOKEN, "", ""};
  assert_int_equal(azr_listener_set_token_provider(bad->l, provide, &q), AZR_OK);
  assert_int_equal(azr_listener_start(bad->l), AZR_OK);
  H_WAIT(w, bad->n_disconnected > 0, 3000);
  assert_true(bad->n_connected >= 1); /* the first retry is immediate */
  assert_int_equal(bad->connected_status, AZR_E_BAD_TOKEN);
  assert_true(h_contains(bad->connected_desc, "token provider"));
  assert_int_equal(bad->connected_http, 0);
  assert_true(bad->disc_reconnect);
  assert_int_equal(bad->n_online, 0);
  assert_int_equal(azr_listener_stop(bad->l), AZR_OK);
  /* Failing already when starting: the start call says so. */
  struct provider r = {0, 1, AZR_E_AUTH, "", ""};
  assert_int_equal(azr_listener_set_token_provider(bad->l, provide, &r), AZR_OK);
  assert_int_equal(azr_listener_start(bad->l), AZR_E_AUTH);
  assert_true(h_contains(azr_listener_get_last_error(bad->l), "token provider"));
  assert_false(azr_listener_is_listening(bad->l));
}

static void test_pre_issued_token(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  int64_t se = (int64_t)time(NULL) + 3600;
  char *token = NULL, *forged = NULL;
  assert_int_equal(azr_sas_token_for_entity("localhost", H_HC, H_KEY_NAME, H_KEY, se, &token), AZR_OK);
  assert_int_equal(azr_sas_token_for_entity("localhost", H_HC, H_KEY_NAME, "Zm9yZ2Vk", se, &forged), AZR_OK);
  char ns[64];
  snprintf(ns, sizeof ns, "localhost:%u", azr_emulator_get_port(w->em));
  /* No key anywhere: only the token. */
  struct h_listener *hl = h_listener_new(w, true), *bad = h_listener_new(w, true);
  struct h_listener *ls[2] = {hl, bad};
  for (int i = 0; i < 2; i++) {
    h_listener_config(ls[i], "AccessKeyName=");
    h_listener_config(ls[i], "AccessKey=");
    assert_int_equal(azr_listener_set_namespace(ls[i]->l, ns), AZR_OK);
    assert_int_equal(azr_listener_set_hybrid_connection(ls[i]->l, H_HC), AZR_OK);
    h_listener_config(ls[i], "UseDevelopmentEmulator=true");
  }
  assert_int_equal(azr_listener_set_token(hl->l, token), AZR_OK);
  assert_int_equal(azr_listener_set_token(bad->l, forged), AZR_OK);
  h_listener_start_online(hl);
  char got[2048];
  h_listener_get(hl, "AccessToken", got, sizeof got);
  assert_string_equal(got, token);
  assert_int_equal(azr_listener_start(bad->l), AZR_OK);
  H_WAIT(w, bad->n_connected > 0, 3000);
  assert_int_equal(bad->connected_status, AZR_E_AUTH);
  assert_int_equal(bad->connected_http, 401);
  /* Without any credential the start is refused up front. */
  assert_int_equal(azr_listener_stop(bad->l), AZR_OK);
  h_listener_config(bad, "SasToken=");
  assert_int_equal(azr_listener_start(bad->l), AZR_E_INVALID_ARG);
  assert_true(h_contains(azr_listener_get_last_error(bad->l), "credentials"));
  azr_free(token);
  azr_free(forged);
}

/* The relay's own count of renewToken commands from the control channel with this tracking id. */
static int relay_renewals(const struct h_world *w, const char *tracking_id) {
  char needle[128];
  snprintf(needle, sizeof needle, "control channel %s renewed its token", tracking_id);
  int n = 0;
  for (const char *p = w->em_log; p && (p = strstr(p, needle)); p += strlen(needle)) n++;
  return n;
}

/* AutoRenewThreshold decides when the token is renewed, with values where "halfway" (what a
 * threshold as long as the lifetime gives) would renew at another time: a 600 s token with a
 * 598 s threshold is renewed after about 2 s (not 300), a 10 s token with a 3 s threshold after
 * about 7 s (not 5). Each renewal is counted where it lands, at the relay. */
static void test_renewal_threshold(void **state) {
  static const char *const settings[] = {"TokenGraceSeconds=0", "ClockSkewSeconds=1", NULL};
  struct h_world *w = *state = h_world_new(false, settings);
  w->capture_emulator_log = true;
  static const char *const ids[2] = {"6a1e0c52-0000-4000-8000-000000000001", "6a1e0c52-0000-4000-8000-000000000002"};
  struct h_listener *early = h_listener_new(w, true), *late = h_listener_new(w, true);
  h_listener_config(early, "TokenValidity=600");
  h_listener_config(early, "AutoRenewThreshold=598");
  h_listener_config(late, "TokenValidity=10");
  h_listener_config(late, "AutoRenewThreshold=3");
  struct h_listener *both[2] = {early, late};
  uint64_t online[2], first[2] = {0, 0};
  for (int i = 0; i < 2; i++) {
    char id[80];
    snprintf(id, sizeof id, "DiagnosticId=%s", ids[i]);
    h_listener_config(both[i], id);
    h_listener_start_online(both[i]);
    online[i] = h_now_ms();
  }
  /* Until the late one's first renewal has reached the relay (or clearly should have). */
  uint64_t deadline = online[1] + 7000 + 1500u * h_wait_scale();
  while (!first[1] && h_step(w, deadline)) {
    for (int i = 0; i < 2; i++)
      if (!first[i] && relay_renewals(w, ids[i]) > 0) first[i] = h_now_ms();
  }
  int early_renewals = relay_renewals(w, ids[0]);
  print_message("first renewals %lld ms and %lld ms after online; the 600 s token renewed %d times\n",
                first[0] ? (long long)(first[0] - online[0]) : -1LL, first[1] ? (long long)(first[1] - online[1]) : -1LL,
                early_renewals);
  if (!first[0] || first[0] - online[0] > 4000u * h_wait_scale())
    fail_msg("threshold 598 s of 600: no renewal within 4 s of going online");
  /* Renewed every ~2 s since, not once per 300 s. */
  assert_true(early_renewals >= 2);
  assert_int_equal(early->n_renewed, early_renewals);
  if (!first[1]) fail_msg("threshold 3 s of 10: no renewal within 8.5 s of going online");
  /* Whole seconds: 6 to 7 s after online, as the token was issued up to 1 s before. Halfway would be
   * at most 5 s. */
  if (first[1] - online[1] < 5500) fail_msg("threshold 3 s of 10: renewed %llu ms after going online, expected 6-7 s",
                                            (unsigned long long)(first[1] - online[1]));
  assert_int_equal(late->n_disconnected, 0);
  assert_int_equal(early->n_disconnected, 0);
}

static void test_live_key_rotation(void **state) {
  static const char *const settings[] = {"TokenGraceSeconds=0", "ClockSkewSeconds=1", NULL};
  struct h_world *w = *state = h_world_prepare(false, settings);
  assert_int_equal(azr_emulator_add_rule(w->em, "rot", KEY_B, KEY_A, AZR_RIGHT_LISTEN | AZR_RIGHT_SEND, NULL), AZR_OK);
  h_world_start(w);
  struct h_listener *hl = h_listener_new(w, true);
  assert_int_equal(azr_listener_set_key(hl->l, "rot", KEY_A), AZR_OK);
  h_listener_config(hl, "TokenValidity=4");
  h_listener_config(hl, "AutoRenewThreshold=2");
  h_listener_config(hl, "ReconnectDelayFirstMs=5000");
  h_listener_start_online(hl);
  /* Rotate to the primary while listening: renewals sign with it from now on. */
  assert_int_equal(azr_listener_set_key(hl->l, "rot", KEY_B), AZR_OK);
  char token[2048], *expect = NULL, se[32];
  h_listener_get(hl, "AccessToken", token, sizeof token);
  sas_field(token, "se", se, sizeof se);
  assert_int_equal(azr_sas_token_for_entity("localhost", H_HC, "rot", KEY_B, strtoll(se, NULL, 10), &expect), AZR_OK);
  assert_string_equal(token, expect);
  azr_free(expect);
  /* More than two token lifetimes: the relay (no grace) would have closed an unrenewed channel. */
  h_pump_for(w, 8500);
  assert_int_equal(hl->n_disconnected, 0);
  assert_true(hl->n_renewed >= 3);
  assert_true(azr_listener_is_connected(hl->l));
  /* A key the relay does not know: the next renewal is refused and the relay closes with 1008. */
  assert_int_equal(azr_listener_set_key(hl->l, "rot", "bm90LWEta2V5"), AZR_OK);
  H_WAIT(w, hl->n_disconnected == 1, 4000);
  assert_int_equal(hl->disc_close, 1008);
}

/* A provider for an emulator whose clock runs `speed` times faster: tokens are signed for that
 * clock, and their expiry is reported to the listener in real seconds, so it renews in time. */
struct fast_provider {
  azr_emulator *em;
  int64_t speed, lifetime_s; /* lifetime in emulator seconds */
  int calls;
};

static int provide_fast(const char *audience, char *out, size_t out_len, int64_t *expiry_s, void *ud) {
  struct fast_provider *p = ud;
  p->calls++;
  char *tok = NULL;
  int64_t se = azr_emulator_get_clock_s(p->em) + p->lifetime_s;
  if (azr_sas_token_create(audience, H_KEY_NAME, H_KEY, se, &tok) != AZR_OK) return AZR_E_BAD_TOKEN;
  snprintf(out, out_len, "%s", tok);
  azr_free(tok);
  *expiry_s = (int64_t)time(NULL) + p->lifetime_s / p->speed;
  return AZR_OK;
}

/* A day of token lifetimes in 20 s (ClockSpeed 4320, 4-hour tokens, the control channel recycled
 * every 6 s): the listener renews across reconnects and is never closed for an expired token,
 * while a listener that cannot renew is closed with 1008 within one token lifetime. */
static void test_day_of_renewals(void **state) {
  static const char *const settings[] = {"ClockSpeed=4320", "DropListenersAfterMs=6000", NULL};
  struct h_world *w = *state = h_world_new(false, settings);
  struct h_listener *hl = h_listener_new(w, true);
  struct fast_provider p = {w->em, 4320, 4 * 3600, 0};
  assert_int_equal(azr_listener_set_token_provider(hl->l, provide_fast, &p), AZR_OK);
  h_listener_config(hl, "ReconnectDelayFirstMs=100");
  h_listener_config(hl, "ReconnectDelayMaxMs=500");
  h_listener_start_online(hl);
  int64_t emu_start = azr_emulator_get_clock_s(w->em);

  /* The control: a fixed token for the fast clock, which the listener can only resend. */
  struct h_listener *stale = h_listener_new(w, true);
  char *fixed = NULL;
  assert_int_equal(azr_sas_token_for_entity("localhost", H_HC, H_KEY_NAME, H_KEY, emu_start + 4 * 3600, &fixed),
                   AZR_OK);
  assert_int_equal(azr_listener_set_token(stale->l, fixed), AZR_OK);
  h_listener_config(stale, "ReconnectDelayFirstMs=60000");
  h_listener_start_online(stale);
  azr_free(fixed);

  int seen_disc = 0, drops = 0;
  uint64_t end = h_now_ms() + 20000;
  while (h_now_ms() < end) {
    h_pump_for(w, 200);
    if (hl->n_disconnected > seen_disc) { /* only the relay's recycling may close it */
      seen_disc = hl->n_disconnected;
      if (hl->disc_close != 1011) fail_msg("control channel closed with %d: %s", hl->disc_close, hl->disc_desc);
      drops++;
    }
  }
  int64_t emu_hours = (azr_emulator_get_clock_s(w->em) - emu_start) / 3600;
  print_message("emulator clock advanced %lld h; %d renewals, %d recycles, %d tokens issued\n", (long long)emu_hours,
                hl->n_renewed, drops, p.calls);
  assert_true(emu_hours >= 23);
  assert_true(drops >= 2);
  assert_true(hl->n_renewed >= 4);
  assert_true(p.calls >= hl->n_renewed + drops);
  H_WAIT(w, azr_listener_is_connected(hl->l), 3000);
  /* The stale listener was closed by the relay for its expired token. */
  assert_true(stale->n_disconnected >= 1);
  assert_int_equal(stale->disc_close_first, 1008);
  assert_false(azr_listener_is_connected(stale->l));
  /* Still serving: a sender gets through. */
  struct h_client *hc = h_client_new(w);
  struct fast_provider cp = {w->em, 4320, 4 * 3600, 0};
  assert_int_equal(azr_client_set_token_provider(hc->c, provide_fast, &cp), AZR_OK);
  (void)h_connect_pair(hl, hc);
}

/* True when a captured text leaks: the key, a signature, or an unredacted sig= value. */
static void assert_no_secret(const char *what, const char *text, char sigs[][128], size_t nsigs) {
  if (!text) return;
  if (strstr(text, H_KEY) || strstr(text, "QXpSZWxheUFwaVRlc3RLZXkt")) fail_msg("%s contains the key", what);
  for (size_t i = 0; i < nsigs; i++)
    if (strstr(text, sigs[i])) fail_msg("%s contains a token signature (%s)", what, sigs[i]);
  for (const char *p = text; *p; p++) {
    if (!strncasecmp(p, "sig=", 4) && p[4] && p[4] != '*' && p[4] != '&') fail_msg("%s: unredacted '%.40s'", what, p);
    if (!strncasecmp(p, "sig%3d", 6) && p[6] && p[6] != '*' && p[6] != '&') fail_msg("%s: unredacted '%.40s'", what, p);
  }
}

static void test_log_redaction(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  w->capture_emulator_log = true;
  int64_t t0 = (int64_t)time(NULL);
  struct h_listener *hl = h_listener_new(w, true);
  hl->capture_log = true;
  hl->echo = true;
  h_listener_config(hl, "LogLevel=3");
  h_listener_config(hl, "TokenValidity=4");
  h_listener_config(hl, "AutoRenewThreshold=2");
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  hc->capture_log = true;
  assert_int_equal(azr_client_config(hc->c, "LogLevel=3"), AZR_OK);
  h_connect_pair(hl, hc);
  for (int i = 0; i < 5; i++) assert_int_equal(azr_client_send(hc->c, AZR_DATA_TEXT, "echo me", 7, true), AZR_OK);
  H_WAIT(w, hc->in.msgs == 5, 3000);
  H_WAIT(w, hl->n_renewed >= 1, 5000);
  char token[2048];
  h_listener_get(hl, "AccessToken", token, sizeof token);
  /* Failures: an unknown rule with the real key, then an unknown hybrid connection. */
  struct h_listener *bad = h_listener_new(w, true);
  bad->capture_log = true;
  h_listener_config(bad, "LogLevel=3");
  assert_int_equal(azr_listener_set_key(bad->l, "NoSuchRule", H_KEY), AZR_OK);
  assert_int_equal(azr_listener_start(bad->l), AZR_OK);
  H_WAIT(w, bad->n_connected == 1, 3000);
  assert_int_equal(bad->connected_http, 401);
  char last1[600];
  snprintf(last1, sizeof last1, "%s", azr_listener_get_last_error(bad->l));
  assert_int_equal(azr_listener_stop(bad->l), AZR_OK);
  assert_int_equal(azr_listener_set_key(bad->l, H_KEY_NAME, H_KEY), AZR_OK);
  h_listener_config(bad, "HybridConnection=nosuch");
  assert_int_equal(azr_listener_start(bad->l), AZR_OK);
  H_WAIT(w, bad->n_connected == 2, 3000);
  assert_int_equal(bad->connected_http, 404);
  assert_true(hl->n_log >= 5);
  assert_true(bad->n_log > 0);
  int64_t t1 = (int64_t)time(NULL);
  /* Every signature these tokens could have carried: the listeners' (4 s) and the client's (3600 s). */
  static char sigs[400][128];
  size_t nsigs = 0;
  for (int64_t se = t0 - 2; se <= t1 + 3602 && nsigs + 2 <= sizeof sigs / sizeof sigs[0]; se++) {
    if (se > t1 + 6 && se < t0 + 3598) se = t0 + 3598;
    char *tok = NULL, sig[128];
    assert_int_equal(azr_sas_token_for_entity("localhost", H_HC, H_KEY_NAME, H_KEY, se, &tok), AZR_OK);
    sas_field(tok, "sig", sig, sizeof sig);
    azr_free(tok);
    snprintf(sigs[nsigs++], sizeof sigs[0], "%.20s", sig);
    percent_decode(sig, sigs[nsigs], sizeof sigs[0]);
    sigs[nsigs++][20] = 0;
  }
  char sig[128];
  sas_field(token, "sig", sig, sizeof sig);
  sig[20] = 0;
  assert_true(strlen(sig) == 20);
  bool covered = false; /* the candidates include the signatures actually used */
  for (size_t i = 0; i < nsigs; i++) covered |= !strcmp(sigs[i], sig);
  assert_true(covered);
  assert_no_secret("listener log", hl->log, sigs, nsigs);
  assert_no_secret("failing listener log", bad->log, sigs, nsigs);
  assert_no_secret("client log", hc->log, sigs, nsigs);
  assert_no_secret("emulator log", w->em_log, sigs, nsigs);
  assert_no_secret("last error (401)", last1, sigs, nsigs);
  assert_no_secret("last error (404)", azr_listener_get_last_error(bad->l), sigs, nsigs);
  assert_no_secret("on_connected text", bad->connected_desc, sigs, nsigs);
  /* The log did describe the steps (so the check had something to look at). */
  assert_true(h_contains(hl->log, "3 control command: {\"accept\""));
  assert_true(h_contains(hl->log, "TokenRenewed"));
  /* Verbose: the upgrade request and response; debug: each frame. */
  assert_true(h_contains(hl->log, "2 control handshake request: GET /$hc/" H_HC "?sb-hc-action=listen"));
  assert_true(h_contains(hl->log, "; ServiceBusAuthorization: ***"));
  assert_true(h_contains(hl->log, "2 rendezvous connection 1: handshake response: HTTP/1.1 101 Switching Protocols; Upgrade: websocket"));
  assert_true(h_contains(hl->log, "3 rendezvous connection 1: received 7 bytes, end of frame, end of message"));
  assert_true(h_contains(hl->log, "3 rendezvous connection 1: sent a text frame of 7 bytes, end of message"));
  assert_true(h_contains(w->em_log, "renewed its token"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_access_token_is_valid_sas, teardown),
      cmocka_unit_test_teardown(test_token_provider, teardown),
      cmocka_unit_test_teardown(test_pre_issued_token, teardown),
      cmocka_unit_test_teardown(test_renewal_threshold, teardown),
      cmocka_unit_test_teardown(test_live_key_rotation, teardown),
      cmocka_unit_test_teardown(test_log_redaction, teardown),
      cmocka_unit_test_teardown(test_day_of_renewals, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
