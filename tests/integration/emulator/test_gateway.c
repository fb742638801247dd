/* SPDX-License-Identifier: MIT */
/* Gateways (docs/EMULATOR.md): a sender that arrives at a gateway reaches the listener whose control
 * channel is at the home, the rendezvous goes to the gateway, and every refusal the home decides
 * reaches the sender as the home wrote it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define SECRET "GatewaySecret=test-gateway-secret-0123"

static const char *const home_settings[] = {SECRET, NULL};
static const char *const gateway_settings[] = {SECRET, NULL};

static int teardown(void **state) {
  h_world_free(*state);
  *state = NULL;
  return 0;
}

static struct h_world *world_with_gateway(const char *const *gw_settings) {
  struct h_world *w = h_world_new(false, home_settings);
  h_world_add_gateway(w, gw_settings);
  return w;
}

static struct h_client *client_at_gateway(struct h_world *w) {
  struct h_client *hc = h_client_new(w);
  assert_int_equal(azr_client_set_connection_string(hc->c, w->gateway_connstr), AZR_OK);
  return hc;
}

static struct h_listener *listener_at_home(struct h_world *w) {
  struct h_listener *hl = h_listener_new(w, true);
  hl->echo = true;
  h_listener_start_online(hl);
  return hl;
}

/* The accept command names the gateway's port, the rendezvous succeeds there (the home does not
 * know the id), and data flows both ways. */
static void test_sender_at_gateway_reaches_listener_at_home(void **state) {
  struct h_world *w = *state = world_with_gateway(gateway_settings);
  struct h_listener *hl = listener_at_home(w);
  struct h_client *hc = client_at_gateway(w);
  w->capture_emulator_log = true;
  h_connect_pair(hl, hc);
  char gateway_port[16];
  snprintf(gateway_port, sizeof gateway_port, ":%u/", azr_emulator_get_port(w->gateway));
  assert_true(h_contains(hl->req.rendezvous_address, gateway_port));
  /* The listener learns the sender's own address and port (which the gateway saw), not those of
   * the gateway's connection to the home. */
  assert_string_equal(hl->req.remote_address, "127.0.0.1");
  char sender_seen[96];
  snprintf(sender_seen, sizeof sender_seen, "from 127.0.0.1:%u for 'hc1' offered to the home", hl->req.remote_port);
  assert_true(h_contains(w->em_log, sender_seen));
  assert_false(h_contains(hl->req.connect_headers, "X-Azr-Gateway"));
  assert_int_equal(azr_client_send(hc->c, AZR_DATA_TEXT, "via the gateway", 15, true), AZR_OK);
  H_WAIT(w, hc->in.msgs == 1, 5000);
  assert_int_equal(hc->in.len, 15);
  assert_memory_equal(hc->in.bytes, "via the gateway", 15);
}

/* A sender cannot speak for a gateway: X-Azr-Gateway headers it sends are dropped by the gateway,
 * so the home sees only the gateway's own, and the listener none. */
static void test_sender_cannot_forge_gateway_headers(void **state) {
  struct h_world *w = *state = world_with_gateway(gateway_settings);
  struct h_listener *hl = listener_at_home(w);
  struct h_client *hc = client_at_gateway(w);
  assert_int_equal(azr_client_add_header(hc->c, "X-Azr-Gateway", "forged-secret-0123456789"), AZR_OK);
  assert_int_equal(azr_client_add_header(hc->c, "X-Azr-Gateway-Rendezvous", "127.0.0.1:1"), AZR_OK);
  h_connect_pair(hl, hc);
  char gateway_port[16];
  snprintf(gateway_port, sizeof gateway_port, ":%u/", azr_emulator_get_port(w->gateway));
  assert_true(h_contains(hl->req.rendezvous_address, gateway_port));
  assert_false(h_contains(hl->req.connect_headers, "X-Azr-Gateway"));
}

/* The listener's rejection is answered by the gateway, which holds the sender. */
static void test_rejection_reaches_the_sender(void **state) {
  struct h_world *w = *state = world_with_gateway(gateway_settings);
  struct h_listener *hl = listener_at_home(w);
  hl->policy = H_REJECT;
  hl->reject_status = 418;
  snprintf(hl->reject_desc, sizeof hl->reject_desc, "Not here");
  struct h_client *hc = client_at_gateway(w);
  assert_int_not_equal(h_client_connect(hc, "", NULL), AZR_OK);
  assert_int_equal(hc->open_http, 418);
  assert_true(h_contains(hc->open_desc, "Not here"));
}

/* No listener at the home: the home's 404 reaches the sender. */
static void test_no_listener(void **state) {
  struct h_world *w = *state = world_with_gateway(gateway_settings);
  struct h_client *hc = client_at_gateway(w);
  assert_int_not_equal(h_client_connect(hc, "", NULL), AZR_OK);
  assert_int_equal(hc->open_http, 404);
  assert_true(h_contains(hc->open_desc, "There are no listeners connected"));
}

/* A gateway whose secret differs is refused by the home (421), and no listener hears of it. */
static void test_wrong_secret_is_refused(void **state) {
  static const char *const wrong[] = {"GatewaySecret=not-the-home-secret-4567", NULL};
  struct h_world *w = *state = world_with_gateway(wrong);
  struct h_listener *hl = listener_at_home(w);
  struct h_client *hc = client_at_gateway(w);
  assert_int_not_equal(h_client_connect(hc, "", NULL), AZR_OK);
  assert_int_equal(hc->open_http, 421);
  assert_true(h_contains(hc->open_desc, "GatewaySecret"));
  assert_int_equal(hl->n_request, 0);
}

/* A port nothing listens on (bound, then closed). */
static uint16_t closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  socklen_t len = sizeof a;
  assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  close(fd);
  return ntohs(a.sin_port);
}

/* The home cannot be reached: the sender hears 502 at once, not an accept timeout. */
static void test_home_unreachable(void **state) {
  char home[64];
  snprintf(home, sizeof home, "HomeAddress=127.0.0.1:%u", closed_port());
  const char *const settings[] = {SECRET, home, NULL};
  struct h_world *w = *state = world_with_gateway(settings);
  struct h_client *hc = client_at_gateway(w);
  uint64_t t0 = h_now_ms();
  assert_int_not_equal(h_client_connect(hc, "", NULL), AZR_OK);
  assert_int_equal(hc->open_http, 502);
  assert_true(h_contains(hc->open_desc, "could not reach"));
  assert_true(h_now_ms() - t0 < 5000);
}

/* Listeners belong to the home: a gateway refuses them with a reason. */
static void test_gateway_refuses_listeners(void **state) {
  struct h_world *w = *state = world_with_gateway(gateway_settings);
  struct h_listener *hl = h_listener_new(w, true);
  assert_int_equal(azr_listener_set_connection_string(hl->l, w->gateway_connstr), AZR_OK);
  assert_int_equal(azr_listener_start(hl->l), AZR_OK);
  H_WAIT(w, hl->n_connected > 0, 5000);
  assert_int_equal(hl->connected_http, 404);
  assert_true(h_contains(hl->connected_desc, "gateway"));
}

/* A gateway needs a usable HomeAddress and the secret; the secret is never echoed. */
static void test_gateway_settings_are_checked(void **state) {
  (void)state;
  azr_emulator *em;
  azr_emulator_options o;
  memset(&o, 0, sizeof o);
  o.plain = true;
  assert_int_equal(azr_emulator_new(&em, &o, sizeof o), AZR_OK);
  assert_int_equal(azr_emulator_config(em, "GatewaySecret=short"), AZR_E_INVALID_ARG);
  assert_false(h_contains(azr_emulator_get_last_error(em), "short"));
  assert_int_equal(azr_emulator_config(em, "GatewaySecret=has spaces in it 0123"), AZR_E_INVALID_ARG);
  assert_int_equal(azr_emulator_config(em, "HomeAddress=127.0.0.1:1"), AZR_OK);
  assert_int_equal(azr_emulator_start(em), AZR_E_INVALID_ARG);
  assert_true(h_contains(azr_emulator_get_last_error(em), "GatewaySecret"));
  assert_int_equal(azr_emulator_config(em, "GatewaySecret=long-enough-secret-0123"), AZR_OK);
  assert_int_equal(azr_emulator_config(em, "HomeAddress=127.0.0.1"), AZR_OK);
  assert_int_equal(azr_emulator_start(em), AZR_E_INVALID_ARG);
  assert_true(h_contains(azr_emulator_get_last_error(em), "HOST:PORT"));
  assert_int_equal(azr_emulator_config(em, "HomeAddress=127.0.0.1:2"), AZR_OK);
  assert_int_equal(azr_emulator_start(em), AZR_OK);
  assert_int_equal(azr_emulator_config(em, "HomeAddress=127.0.0.1:3"), AZR_E_BAD_STATE);
  azr_emulator_free(em);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_sender_at_gateway_reaches_listener_at_home, teardown),
      cmocka_unit_test_teardown(test_sender_cannot_forge_gateway_headers, teardown),
      cmocka_unit_test_teardown(test_rejection_reaches_the_sender, teardown),
      cmocka_unit_test_teardown(test_no_listener, teardown),
      cmocka_unit_test_teardown(test_wrong_secret_is_refused, teardown),
      cmocka_unit_test_teardown(test_home_unreachable, teardown),
      cmocka_unit_test_teardown(test_gateway_refuses_listeners, teardown),
      cmocka_unit_test(test_gateway_settings_are_checked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
