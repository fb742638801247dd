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
  assert_true(h_contains(hl->ssl_status, "TLS handshake started\n"));
  assert_true(h_contains(hl->ssl_status, "TLS handshake done"));
  char v[8192];
  h_listener_get(hl, "SSLNegotiatedVersion", v, sizeof v);
  assert_string_equal(v, "TLSv1.3");
  h_listener_get(hl, "SSLNegotiatedCipher", v, sizeof v);
  assert_true(!strncmp(v, "TLS_", 4));
  assert_true(h_contains(hl->ssl_status, v));
  h_listener_get(hl, "SSLNegotiatedCipherSuite", v, sizeof v);
  assert_true(!strncmp(v, "TLS_", 4));
  h_listener_get(hl, "SSLNegotiatedCipherStrength", v, sizeof v);
  assert_true(atoi(v) >= 128);
  h_listener_get(hl, "SSLNegotiatedKeyExchange", v, sizeof v);
  assert_true(v[0] != 0);
  h_listener_get(hl, "SSLNegotiatedKeyExchangeStrength", v, sizeof v);
  assert_true(atoi(v) > 0);
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
  snprintf(name, sizeof name, "SSLNegotiatedVersion[%llu]", (unsigned long long)id);
  h_listener_get(hl, name, v, sizeof v);
  assert_string_equal(v, "TLSv1.3");
  snprintf(name, sizeof name, "SSLNegotiatedCipher[%llu]", (unsigned long long)id);
  h_listener_get(hl, name, v, sizeof v);
  assert_true(!strncmp(v, "TLS_", 4));
  snprintf(name, sizeof name, "SSLNegotiatedCipherStrength[%llu]", (unsigned long long)id);
  h_listener_get(hl, name, v, sizeof v);
  assert_true(atoi(v) >= 128);
  snprintf(name, sizeof name, "SSLNegotiatedCipherSuite[%llu]", (unsigned long long)id);
  h_listener_get(hl, name, v, sizeof v);
  assert_true(!strncmp(v, "TLS_", 4));
  snprintf(name, sizeof name, "SSLNegotiatedKeyExchange[%llu]", (unsigned long long)id);
  h_listener_get(hl, name, v, sizeof v);
  assert_true(v[0] != 0);
  snprintf(name, sizeof name, "SSLNegotiatedKeyExchangeStrength[%llu]", (unsigned long long)id);
  h_listener_get(hl, name, v, sizeof v);
  assert_true(atoi(v) > 0);
  snprintf(name, sizeof name, "SSLNegotiatedVersion[%llu]", (unsigned long long)(id + 99));
  assert_int_equal(azr_listener_get_config(hl->l, name, v, sizeof v), AZR_E_INVALID_CONN_ID);
  assert_int_equal(azr_conn_close(hl->l, id, 1000, "tls bye"), AZR_OK);
  H_WAIT(w, hc->n_close == 1, 3000);
  assert_int_equal(hc->close_code, 1000);
  assert_string_equal(hc->close_reason, "tls bye");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_untrusted_certificate_refused, teardown),
      cmocka_unit_test_teardown(test_accept_override_and_negotiated, teardown),
      cmocka_unit_test_teardown(test_trusted_ca_and_tls_connections, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
