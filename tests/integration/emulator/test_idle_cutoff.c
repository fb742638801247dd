/* SPDX-License-Identifier: MIT */
/* The emulator's idle cut-off (IdleTimeoutMs, docs/EMULATOR.md) against our listener and client:
 * a listener that keeps its control channel alive (AzureRelayKeepAliveTime) stays in routing past
 * the cut-off; one that does not is silently cut (it still believes it is online, senders get 404);
 * data on an accepted connection left silent is lost without either side being told.
 *
 * Built twice: test_emulator_idle runs what the listener supports today; with AZR_IDLE_KEEPALIVE,
 * test_emulator_idle_keepalive checks that an accepted connection kept alive by WebSocket frames
 * survives the cut-off too (keep-alive on accepted connections is the listener's part: enable that
 * test once it lands). */
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define CUT_MS 1500
#define PAST_CUT_MS (CUT_MS + 2000)

static const char *const cutoff[] = {"IdleTimeoutMs=1500", NULL};

static int teardown(void **state) {
  h_world_free(*state);
  *state = NULL;
  return 0;
}

static struct h_listener *online_listener(struct h_world *w, const char *keepalive) {
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_config(hl, keepalive);
  hl->echo = true;
  h_listener_start_online(hl);
  return hl;
}

/* Sends text from the client and waits for the listener's echo. */
static void echo_round_trip(struct h_world *w, struct h_listener *hl, struct h_client *hc, const char *text) {
  int before = hc->in.msgs;
  size_t at = hc->in.len;
  int in_before = hl->in.msgs;
  assert_int_equal(azr_client_send(hc->c, AZR_DATA_TEXT, text, strlen(text), true), AZR_OK);
  H_WAIT(w, hc->in.msgs == before + 1, 5000);
  assert_int_equal(hl->in.msgs, in_before + 1);
  assert_int_equal(hc->in.len - at, strlen(text));
  assert_memory_equal(hc->in.bytes + at, text, strlen(text));
}

#ifndef AZR_IDLE_KEEPALIVE

/* The listener's keep-alive (a WebSocket frame when the control channel has been quiet for
 * AzureRelayKeepAliveTime) keeps it in routing past the cut-off. */
static void test_keepalive_keeps_the_listener_in_routing(void **state) {
  struct h_world *w = *state = h_world_new(false, cutoff);
  struct h_listener *hl = online_listener(w, "AzureRelayKeepAliveTime=1");
  h_pump_for(w, PAST_CUT_MS);
  assert_int_equal(hl->n_disconnected, 0);
  struct h_client *hc = h_client_new(w);
  h_connect_pair(hl, hc);
  echo_round_trip(w, hl, hc, "after the idle period");
}

/* Without keep-alive the cut-off black-holes the control channel: the listener hears nothing (no
 * close, it stays Online), while the relay no longer routes to it. */
static void test_without_keepalive_the_listener_is_cut_silently(void **state) {
  struct h_world *w = *state = h_world_new(false, cutoff);
  struct h_listener *hl = online_listener(w, "AzureRelayKeepAliveTime=0");
  h_pump_for(w, PAST_CUT_MS);
  struct h_client *hc = h_client_new(w);
  assert_int_not_equal(h_client_connect(hc, "", NULL), AZR_OK);
  assert_int_equal(hc->open_http, 404);
  assert_true(h_contains(hc->open_desc, "There are no listeners connected"));
  assert_int_equal(hl->n_request, 0);
  assert_int_equal(hl->n_disconnected, 0);
  assert_int_equal(azr_listener_get_state(hl->l), AZR_STATE_ONLINE);
}

/* An accepted connection left silent past the cut-off loses what is sent on it, both ways, and
 * neither end is told. (The control channel is kept alive, so only the connection is cut.) */
static void test_silent_connection_loses_data(void **state) {
  struct h_world *w = *state = h_world_new(false, cutoff);
  struct h_listener *hl = online_listener(w, "AzureRelayKeepAliveTime=1");
  hl->echo = false;
  struct h_client *hc = h_client_new(w);
  azr_conn_id id = h_connect_pair(hl, hc);
  h_pump_for(w, PAST_CUT_MS);
  assert_int_equal(azr_client_send(hc->c, AZR_DATA_TEXT, "lost", 4, true), AZR_OK);
  assert_int_equal(azr_conn_send_fragment(hl->l, id, AZR_DATA_TEXT, "lost too", 8, true), AZR_OK);
  h_pump_for(w, 1500);
  assert_int_equal(hl->in.msgs, 0);
  assert_int_equal(hc->in.msgs, 0);
  assert_int_equal(hl->n_conn_disc, 0);
  assert_int_equal(hc->n_close, 0);
  assert_int_equal(hl->n_disconnected, 0);
}

#else

/* Keep-alive on every socket: the control channel and an accepted connection both outlive the
 * cut-off (the client keeps its own leg alive the same way). */
static void test_keepalive_keeps_an_accepted_connection(void **state) {
  struct h_world *w = *state = h_world_new(false, cutoff);
  struct h_listener *hl = online_listener(w, "AzureRelayKeepAliveTime=1");
  struct h_client *hc = h_client_new(w);
  assert_int_equal(azr_client_config(hc->c, "AzureRelayKeepAliveTime=1"), AZR_OK);
  h_connect_pair(hl, hc);
  h_pump_for(w, PAST_CUT_MS);
  echo_round_trip(w, hl, hc, "kept alive");
  assert_int_equal(hl->n_disconnected, 0);
}

#endif

int main(void) {
  const struct CMUnitTest tests[] = {
#ifndef AZR_IDLE_KEEPALIVE
      cmocka_unit_test_teardown(test_keepalive_keeps_the_listener_in_routing, teardown),
      cmocka_unit_test_teardown(test_without_keepalive_the_listener_is_cut_silently, teardown),
      cmocka_unit_test_teardown(test_silent_connection_loses_data, teardown),
#else
      cmocka_unit_test_teardown(test_keepalive_keeps_an_accepted_connection, teardown),
#endif
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
