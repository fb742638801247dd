/* SPDX-License-Identifier: MIT */
/* TLS end to end against the emulator's generated certificate: verification failures and the
 * SSLServerAuthentication override, SSLStatus, the negotiated parameters, trusted CAs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static int teardown(void **state) {
  h_world_free(*state);
  *state = NULL;
  return 0;
}

/* The bulk-cipher bits a TLS 1.3 suite name implies. */
static int suite_bits(const char *suite) {
  if (h_contains(suite, "AES_128_")) return 128;
  if (h_contains(suite, "AES_256_") || h_contains(suite, "CHACHA20_")) return 256;
  fail_msg("unexpected cipher suite '%s'", suite);
  return 0;
}

/* SSLNegotiated* of the control channel (conn 0) or of a connection: the version, the suite and its
 * strength, the group and its strength, as named. */
static void expect_negotiated(struct h_listener *hl, azr_conn_id conn, const char *suite, const char *group,
                              int group_bits) {
  static const char *const names[] = {"SSLNegotiatedVersion", "SSLNegotiatedCipher", "SSLNegotiatedCipherSuite",
                                      "SSLNegotiatedCipherStrength", "SSLNegotiatedKeyExchange",
                                      "SSLNegotiatedKeyExchangeStrength"};
  char v[6][256];
  for (int i = 0; i < 6; i++) {
    char name[96];
    if (conn)
      snprintf(name, sizeof name, "%s[%llu]", names[i], (unsigned long long)conn);
    else
      snprintf(name, sizeof name, "%s", names[i]);
    h_listener_get(hl, name, v[i], sizeof v[i]);
  }
  assert_string_equal(v[0], "TLSv1.3");
  if (suite) assert_string_equal(v[1], suite);
  assert_true(!strncmp(v[1], "TLS_", 4));
  assert_string_equal(v[2], v[1]);
  char bits[16];
  snprintf(bits, sizeof bits, "%d", suite_bits(v[1]));
  assert_string_equal(v[3], bits);
  assert_string_equal(v[4], group);
  snprintf(bits, sizeof bits, "%d", group_bits);
  assert_string_equal(v[5], bits);
}

static void test_untrusted_certificate_refused(void **state) {
  struct h_world *w = *state = h_world_new(true, NULL);
  struct h_listener *hl = h_listener_new(w, false); /* system CAs only */
  h_listener_config(hl, "ReconnectDelayFirstMs=60000");
  assert_int_equal(azr_listener_start(hl->l), AZR_OK);
  H_WAIT(w, hl->n_disconnected > 0, 5000);
  assert_true(hl->n_ssl_auth >= 1);
  assert_string_not_equal(hl->ssl_auth_status, "OK");
  assert_false(hl->ssl_auth_accept_in);
  assert_string_equal(hl->ssl_auth_pem, azr_emulator_get_certificate_pem(w->em));
  assert_int_equal(hl->connected_status, AZR_E_TLS_VERIFY);
  assert_int_equal(hl->connected_http, 0);
  assert_int_equal(hl->n_online, 0);
  assert_true(h_contains(hl->ssl_status, "TLS handshake started"));
  /* Never online: an untrusted certificate ends listening (fail fast)... */
  assert_false(hl->disc_reconnect);
  assert_false(azr_listener_is_listening(hl->l));
  /* ...unless start-up errors are to be retried. */
  struct h_listener *patient = h_listener_new(w, false);
  h_listener_config(patient, "RetryOnStartupError=true");
  h_listener_config(patient, "ReconnectDelayFirstMs=60000");
  assert_int_equal(azr_listener_start(patient->l), AZR_OK);
  H_WAIT(w, patient->n_disconnected > 0, 5000);
  assert_int_equal(patient->connected_status, AZR_E_TLS_VERIFY);
  assert_true(patient->disc_reconnect);
  assert_true(azr_listener_is_listening(patient->l));
}

static void test_accept_override_and_negotiated(void **state) {
  struct h_world *w = *state = h_world_new(true, NULL);
  struct h_listener *hl = h_listener_new(w, false);
  hl->ssl_accept_override = 1;
  h_listener_start_online(hl);
  /* One event for the certificate, showing the failure the handler overrode. */
  assert_int_equal(hl->n_ssl_auth, 1);
  assert_string_not_equal(hl->ssl_auth_status, "OK");
  assert_false(hl->ssl_auth_accept_in);
  assert_true(h_contains(hl->ssl_status, "TLS handshake started (azrelay)\n"));
  assert_true(h_contains(hl->ssl_status, "TLS handshake done"));
  char v[8192];
  /* Our default offer leads with an X25519 key share, which the emulator (OpenSSL) takes. */
  expect_negotiated(hl, 0, NULL, "X25519", 256);
  h_listener_get(hl, "SSLNegotiatedCipher", v, sizeof v);
  char done[160];
  snprintf(done, sizeof done, "TLS handshake done: TLSv1.3, %.100s", v);
  assert_true(h_contains(hl->ssl_status, done));
  h_listener_get(hl, "SSLServerCertEncoded", v, sizeof v);
  assert_string_equal(v, azr_emulator_get_certificate_pem(w->em));
}

static void test_trusted_ca_and_tls_connections(void **state) {
  struct h_world *w = *state = h_world_new(true, NULL);
  /* The certificate as a CA file ... */
  struct h_listener *hl = h_listener_new(w, true);
  hl->echo = true;
  h_listener_start_online(hl);
  assert_string_equal(hl->ssl_auth_status, "OK");
  assert_true(hl->ssl_auth_accept_in);
  /* ... and as PEM text. */
  struct h_listener *pem = h_listener_new(w, false);
  char setting[8192];
  snprintf(setting, sizeof setting, "SSLServerCACerts=%s", azr_emulator_get_certificate_pem(w->em));
  h_listener_config(pem, setting);
  h_listener_start_online(pem);
  assert_string_equal(pem->ssl_auth_status, "OK");
  assert_int_equal(azr_listener_stop(pem->l), AZR_OK);
  H_WAIT(w, pem->n_disconnected == 1, 3000);
  /* Senders and rendezvous over TLS: echo through the relay. */
  struct h_client *hc = h_client_new(w);
  azr_conn_id id = h_connect_pair(hl, hc);
  assert_true(h_contains(hl->req.rendezvous_address, "wss://"));
  static unsigned char buf[200000];
  h_pattern(buf, sizeof buf, 0);
  assert_int_equal(azr_client_send(hc->c, AZR_DATA_BINARY, buf, sizeof buf, true), AZR_OK);
  H_WAIT(w, hc->in.msgs == 1, 5000);
  assert_int_equal(hc->in.len, sizeof buf);
  assert_true(h_pattern_ok(hc->in.bytes, hc->in.len, 0));
  /* The connection's own TLS details. */
  char name[64], v[256];
  expect_negotiated(hl, id, NULL, "X25519", 256);
  snprintf(name, sizeof name, "SSLNegotiatedVersion[%llu]", (unsigned long long)(id + 99));
  assert_int_equal(azr_listener_get_config(hl->l, name, v, sizeof v), AZR_E_INVALID_CONN_ID);
  assert_int_equal(azr_conn_close(hl->l, id, 1000, "tls bye"), AZR_OK);
  H_WAIT(w, hc->n_close == 1, 3000);
  assert_int_equal(hc->close_code, 1000);
  assert_string_equal(hc->close_reason, "tls bye");
}

/* What the listener offers decides what is negotiated, and the getters report exactly that: one
 * group and one suite each, on the control channel and on an accepted connection. */
static void test_negotiated_follows_offer(void **state) {
  struct h_world *w = *state = h_world_new(true, NULL);
  static const struct {
    const char *groups, *suites, *suite, *group;
    int group_bits;
  } offers[] = {
      {"P-256", "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", "prime256v1", 256},
      {"P-384", "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", "secp384r1", 384},
      {"P-521", "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", "secp521r1", 521},
  };
  for (size_t i = 0; i < sizeof offers / sizeof offers[0]; i++) {
    struct h_listener *hl = h_listener_new(w, true);
    hl->echo = true;
    char set[128];
    snprintf(set, sizeof set, "TLS13SupportedGroups=%s", offers[i].groups);
    h_listener_config(hl, set);
    snprintf(set, sizeof set, "SSLEnabledCipherSuites=%s", offers[i].suites);
    h_listener_config(hl, set);
    h_listener_start_online(hl);
    expect_negotiated(hl, 0, offers[i].suite, offers[i].group, offers[i].group_bits);
    struct h_client *hc = h_client_new(w);
    azr_conn_id id = h_connect_pair(hl, hc);
    expect_negotiated(hl, id, offers[i].suite, offers[i].group, offers[i].group_bits);
    h_client_free(hc);
    h_listener_free(hl);
  }
}

static void clear_proxy_environment(void) {
  static const char *const names[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                      "all_proxy",  "ALL_PROXY",  "no_proxy",    "NO_PROXY"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unsetenv(names[i]);
}

static int teardown_environment(void **state) {
  clear_proxy_environment();
  return teardown(state);
}

/* ProxyAutoDetect (the CLI's default) keeps our handshake unless the environment names a proxy for
 * wss:// (https_proxy, all_proxy): only then must libcurl see the real URL. http_proxy does not
 * apply to wss://, so it must not catch the plain connection our handshake runs on either. */
static void test_proxy_auto_detect_keeps_our_handshake(void **state) {
  clear_proxy_environment();
  struct h_world *w = *state = h_world_new(true, NULL);
  struct h_listener *ours = h_listener_new(w, true);
  h_listener_config(ours, "ProxyAutoDetect=true");
  setenv("http_proxy", "http://127.0.0.1:1", 1); /* nothing listens there */
  h_listener_start_online(ours);
  assert_true(h_contains(ours->ssl_status, "TLS handshake started (azrelay)\n"));
  assert_false(h_contains(ours->ssl_status, "(libcurl)"));
  /* https_proxy set but bypassed by no_proxy: libcurl decides, so it runs the handshake. */
  setenv("https_proxy", "http://127.0.0.1:1", 1);
  setenv("no_proxy", "127.0.0.1,localhost", 1);
  struct h_listener *curls = h_listener_new(w, true);
  h_listener_config(curls, "ProxyAutoDetect=true");
  h_listener_start_online(curls);
  assert_true(h_contains(curls->ssl_status, "TLS handshake started (libcurl)\n"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_untrusted_certificate_refused, teardown),
      cmocka_unit_test_teardown(test_accept_override_and_negotiated, teardown),
      cmocka_unit_test_teardown(test_trusted_ca_and_tls_connections, teardown),
      cmocka_unit_test_teardown(test_negotiated_follows_offer, teardown),
      cmocka_unit_test_teardown(test_proxy_auto_detect_keeps_our_handshake, teardown_environment),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
