/* SPDX-License-Identifier: MIT */
/* Listener lifecycle end to end: start/status/headers, stop and shutdown, loop misuse inside
 * callbacks, refusals (401, 404) and the reconnect policy, relay-side drops, keep-alive.
 * (Application loops, azrelay/uv.h: test_api_uv_loop.) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

static int teardown(void **state) {
  h_world_free(*state);
  *state = NULL;
  return 0;
}

static void test_start_status_headers(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  assert_false(azr_listener_is_listening(hl->l));
  assert_int_equal(azr_listener_get_state(hl->l), AZR_STATE_STOPPED);
  assert_int_equal(azr_listener_start(hl->l), AZR_OK);
  /* Callbacks only run from the loop: nothing yet, but the state says we are on our way. */
  assert_int_equal(hl->n_status, 0);
  assert_true(azr_listener_is_listening(hl->l));
  assert_int_equal(azr_listener_start(hl->l), AZR_E_ALREADY_LISTENING);
  H_WAIT(w, hl->n_connected > 0, 5000);
  assert_int_equal(hl->connected_status, 0);
  assert_string_equal(hl->connected_desc, "OK");
  int connecting = h_listener_status_index(hl, "Connecting"), online = h_listener_status_index(hl, "Online");
  assert_int_equal(connecting, 0);
  assert_true(online > connecting);
  /* The 101 response's headers were reported one by one. */
  assert_true(hl->n_header >= 3);
  assert_true(h_contains(hl->headers, "Sec-WebSocket-Accept: "));
  assert_true(h_icontains(hl->headers, "upgrade: websocket"));
  assert_true(azr_listener_is_listening(hl->l));
  assert_true(azr_listener_is_connected(hl->l));
  assert_int_equal(azr_listener_get_state(hl->l), AZR_STATE_ONLINE);
  char v[64];
  h_listener_get(hl, "Listening", v, sizeof v);
  assert_string_equal(v, "true");
  h_listener_get(hl, "Connected", v, sizeof v);
  assert_string_equal(v, "true");
  assert_int_equal(azr_listener_start(hl->l), AZR_E_ALREADY_LISTENING);
  assert_true(h_contains(azr_listener_get_last_error(hl->l), "already"));
  assert_int_equal(hl->n_disconnected, 0);
  assert_int_equal(hl->n_error, 0);
}

static void test_stop_keeps_connections(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  hl->echo = true;
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  azr_conn_id id = h_connect_pair(hl, hc);
  assert_int_equal(azr_listener_stop(hl->l), AZR_OK);
  H_WAIT(w, hl->n_disconnected > 0, 3000);
  assert_int_equal(hl->disc_status, AZR_OK);
  assert_false(hl->disc_reconnect);
  assert_int_equal(hl->disc_in_ms, 0);
  assert_false(azr_listener_is_listening(hl->l));
  assert_false(azr_listener_is_connected(hl->l));
  assert_int_equal(azr_listener_get_state(hl->l), AZR_STATE_STOPPED);
  /* The accepted connection outlives the control channel. */
  h_pump_for(w, 200);
  assert_int_equal(azr_listener_get_connection_count(hl->l), 1);
  assert_true(azr_client_is_open(hc->c));
  assert_int_equal(azr_client_send(hc->c, AZR_DATA_TEXT, "still here", 10, true), AZR_OK);
  H_WAIT(w, hc->in.msgs == 1, 3000);
  assert_memory_equal(hc->in.bytes, "still here", 10);
  assert_int_equal(azr_conn_send_text(hl->l, id, "and me", 6), AZR_OK);
  H_WAIT(w, hc->in.msgs == 2, 3000);
  assert_int_equal(hl->n_conn_disc, 0);
  /* Stop twice is harmless; start again comes back online. */
  assert_int_equal(azr_listener_stop(hl->l), AZR_OK);
  h_listener_start_online(hl);
  assert_int_equal(hl->n_online, 2);
}

static void test_shutdown_closes_connections(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_config(hl, "DisconnectStatusCode=4001");
  h_listener_config(hl, "DisconnectStatusDescription=going away");
  h_listener_start_online(hl);
  struct h_client *a = h_client_new(w), *b = h_client_new(w);
  h_connect_pair(hl, a);
  h_connect_pair(hl, b);
  assert_int_equal(azr_listener_get_connection_count(hl->l), 2);
  assert_int_equal(azr_listener_shutdown(hl->l), AZR_OK);
  H_WAIT(w, a->n_close && b->n_close && hl->n_conn_disc == 2, 5000);
  assert_int_equal(a->close_code, 4001);
  assert_string_equal(a->close_reason, "going away");
  assert_int_equal(b->close_code, 4001);
  assert_string_equal(b->close_reason, "going away");
  assert_int_equal(hl->cd_code, 4001);
  assert_false(azr_listener_is_listening(hl->l));
  assert_int_equal(hl->n_disconnected, 1);
  assert_false(hl->disc_reconnect);
  assert_int_equal(azr_listener_get_connection_count(hl->l), 0);
}

static void test_loop_misuse_inside_callback(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  hl->probe_in_callback = true; /* on_connected calls azr_listener_run and azr_listener_free */
  h_listener_start_online(hl);
  assert_true(hl->probe_done);
  assert_int_equal(hl->probe_run_rc, AZR_E_BAD_STATE);
  /* The free was ignored: the listener still works and still answers. */
  assert_true(azr_listener_is_connected(hl->l));
  hl->echo = true;
  struct h_client *hc = h_client_new(w);
  h_connect_pair(hl, hc);
  assert_int_equal(azr_client_send(hc->c, AZR_DATA_TEXT, "ping", 4, true), AZR_OK);
  H_WAIT(w, hc->in.msgs == 1, 3000);
  /* Outside a callback the loop runs normally. */
  assert_int_equal(azr_listener_run(hl->l, 0), AZR_OK);
}

static void test_run_timeout_and_interrupt(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  /* With nothing to do, a bounded run returns after its timeout. */
  uint64_t t0 = h_now_ms();
  assert_int_equal(azr_listener_run(hl->l, 200), AZR_OK);
  uint64_t took = h_now_ms() - t0;
  assert_true(took >= 190 && took < 1000);
  /* An unbounded run returns once a callback interrupts it (a refused port fails quickly). */
  h_listener_config(hl, "NamespaceAddress=127.0.0.1:1");
  h_listener_config(hl, "ReconnectDelayFirstMs=20000");
  hl->interrupt_on_connected = true;
  assert_int_equal(azr_listener_start(hl->l), AZR_OK);
  t0 = h_now_ms();
  assert_int_equal(azr_listener_run(hl->l, -1), AZR_OK);
  assert_true(h_now_ms() - t0 < 5000);
  assert_true(hl->n_connected >= 1);
  assert_int_equal(hl->connected_status, AZR_E_CONN_REFUSED);
  assert_string_equal(azr_status_name(hl->connected_status), "AZR_E_CONN_REFUSED");
  assert_true(strlen(azr_strerror(hl->connected_status)) > 5);
  assert_string_equal(azr_status_name(123456), "AZR_E_UNKNOWN");
  assert_true(azr_listener_get_last_error(hl->l)[0] != 0);
  /* Backoff: the first reconnect is immediate, the next waits ReconnectDelayFirstMs +-20%
   * (below ReconnectDelayMaxMs, 30 s by default). */
  H_WAIT(w, hl->n_disconnected >= 2, 3000);
  assert_int_equal(hl->n_connected, 2);
  assert_true(hl->disc_reconnect);
  assert_true(hl->disc_in_ms >= 16000 && hl->disc_in_ms <= 24000);
  assert_int_equal(azr_listener_get_state(hl->l), AZR_STATE_WAITING);
}

/* Fail fast: a wrong key on the first open ends listening at once, with one error, and never
 * retries (the policy of proto/control_policy.h). */
static void test_startup_auth_error_stops(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  assert_int_equal(azr_listener_set_key(hl->l, H_KEY_NAME, "d3Jvbmcta2V5"), AZR_OK);
  h_listener_config(hl, "AuthErrorRetryDelayMs=0");
  h_listener_config(hl, "ReconnectDelayFirstMs=10");
  assert_int_equal(azr_listener_start(hl->l), AZR_OK);
  H_WAIT(w, hl->n_disconnected > 0, 5000);
  assert_int_equal(hl->connected_status, AZR_E_AUTH);
  assert_int_equal(hl->connected_http, 401);
  assert_true(h_contains(hl->connected_desc, "invalid signature"));
  assert_true(h_contains(hl->connected_desc, "TrackingId:"));
  assert_false(hl->disc_reconnect);
  assert_int_equal(hl->disc_status, AZR_E_AUTH);
  assert_false(azr_listener_is_listening(hl->l));
  assert_int_equal(azr_listener_get_state(hl->l), AZR_STATE_STOPPED);
  assert_int_equal(hl->n_error, 1);
  assert_int_equal(hl->error_code, AZR_E_AUTH);
  assert_true(h_contains(hl->error_desc, "401"));
  h_pump_for(w, 300);
  assert_int_equal(hl->n_connected, 1); /* no further attempt */
  /* Fixed and started again, it goes online. */
  assert_int_equal(azr_listener_set_key(hl->l, H_KEY_NAME, H_KEY), AZR_OK);
  h_listener_start_online(hl);
}

/* RetryOnStartupError=true: a refused first open is retried after AuthErrorRetryDelayMs. */
static void test_startup_auth_error_retries_when_asked(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  assert_int_equal(azr_listener_set_key(hl->l, H_KEY_NAME, "d3Jvbmcta2V5"), AZR_OK);
  h_listener_config(hl, "RetryOnStartupError=true");
  h_listener_config(hl, "AuthErrorRetryDelayMs=400");
  h_listener_config(hl, "ReconnectDelayFirstMs=10");
  assert_int_equal(azr_listener_start(hl->l), AZR_OK);
  H_WAIT(w, hl->n_disconnected > 0, 5000);
  uint64_t refused_at = h_now_ms();
  assert_int_equal(hl->connected_status, AZR_E_AUTH);
  assert_true(hl->disc_reconnect);
  assert_true(hl->disc_in_ms >= 400);
  assert_true(azr_listener_is_listening(hl->l));
  assert_int_equal(azr_listener_get_state(hl->l), AZR_STATE_WAITING);
  assert_true(h_listener_saw_status(hl, "Waiting"));
  assert_int_equal(hl->n_error, 0);
  /* It tries again, not before the auth delay. */
  H_WAIT(w, hl->n_connected >= 2, 3000);
  assert_true(h_now_ms() - refused_at >= 350);
  assert_int_equal(hl->connected_status, AZR_E_AUTH);
  /* The right key, set while waiting, is used by the next attempt. */
  assert_int_equal(azr_listener_set_key(hl->l, H_KEY_NAME, H_KEY), AZR_OK);
  H_WAIT(w, hl->n_online == 1, 3000);
  assert_true(azr_listener_is_connected(hl->l));
}

/* Once online, 401 is retried (keys rotate), unless RetryOnAuthError=false. */
static void test_auth_error_after_online(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *retry = h_listener_new(w, true), *stop = h_listener_new(w, true);
  struct h_listener *both[] = {retry, stop};
  h_listener_config(stop, "RetryOnAuthError=false");
  for (int i = 0; i < 2; i++) {
    h_listener_config(both[i], "AuthErrorRetryDelayMs=300");
    h_listener_config(both[i], "ReconnectDelayFirstMs=10");
    h_listener_start_online(both[i]);
    assert_int_equal(azr_listener_set_key(both[i]->l, H_KEY_NAME, "d3Jvbmcta2V5"), AZR_OK);
  }
  assert_int_equal(azr_emulator_config(w->em, "DropListenersNow=1011"), AZR_OK);
  H_WAIT(w, retry->n_connected >= 2 && stop->n_connected >= 2, 5000);
  assert_int_equal(retry->connected_status, AZR_E_AUTH);
  assert_true(retry->disc_reconnect);
  assert_true(retry->disc_in_ms >= 300);
  assert_true(azr_listener_is_listening(retry->l));
  assert_int_equal(stop->connected_status, AZR_E_AUTH);
  assert_false(stop->disc_reconnect);
  assert_false(azr_listener_is_listening(stop->l));
  assert_true(stop->n_error >= 1);
  /* The rotated key reaches the retrying listener: online again. */
  assert_int_equal(azr_listener_set_key(retry->l, H_KEY_NAME, H_KEY), AZR_OK);
  H_WAIT(w, retry->n_online == 2, 3000);
  h_pump_for(w, 400);
  assert_int_equal(stop->n_connected, 2); /* no further attempt */
}

/* A hybrid connection that does not exist: fail fast by default, retried when asked. */
static void test_startup_not_found(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *retry = h_listener_new(w, true), *stop = h_listener_new(w, true);
  h_listener_config(retry, "HybridConnection=nosuch");
  h_listener_config(retry, "AuthErrorRetryDelayMs=250");
  h_listener_config(retry, "RetryOnStartupError=true");
  h_listener_config(stop, "HybridConnection=nosuch");
  assert_int_equal(azr_listener_start(retry->l), AZR_OK);
  assert_int_equal(azr_listener_start(stop->l), AZR_OK);
  H_WAIT(w, retry->n_disconnected && stop->n_disconnected, 5000);
  assert_int_equal(retry->connected_status, AZR_E_ENDPOINT_NOT_FOUND);
  assert_int_equal(retry->connected_http, 404);
  assert_true(retry->disc_reconnect);
  if (retry->disc_in_ms < 250) fail_msg("reconnect in %u ms", (unsigned)retry->disc_in_ms);
  assert_true(azr_listener_is_listening(retry->l));
  assert_int_equal(stop->connected_status, AZR_E_ENDPOINT_NOT_FOUND);
  assert_int_equal(stop->connected_http, 404);
  assert_false(stop->disc_reconnect);
  assert_false(azr_listener_is_listening(stop->l));
  assert_true(stop->n_error >= 1);
  assert_true(h_contains(stop->error_desc, "404"));
  H_WAIT(w, retry->n_connected >= 2, 3000);
  assert_int_equal(stop->n_connected, 1);
}

/* An unknown host is a mistake too; a refused TCP connection (relay not up yet) is retried. */
static void test_startup_unknown_host_stops_refused_retries(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *unknown = h_listener_new(w, true), *refused = h_listener_new(w, true);
  h_listener_config(unknown, "NamespaceAddress=no-such-host.invalid:9");
  h_listener_config(refused, "NamespaceAddress=127.0.0.1:1");
  h_listener_config(refused, "ReconnectDelayFirstMs=50");
  assert_int_equal(azr_listener_start(unknown->l), AZR_OK);
  assert_int_equal(azr_listener_start(refused->l), AZR_OK);
  H_WAIT(w, unknown->n_disconnected && refused->n_disconnected >= 2, 5000);
  assert_int_equal(unknown->connected_status, AZR_E_HOST_NOT_FOUND);
  assert_false(unknown->disc_reconnect);
  assert_false(azr_listener_is_listening(unknown->l));
  assert_int_equal(refused->connected_status, AZR_E_CONN_REFUSED);
  assert_true(refused->disc_reconnect);
  assert_true(azr_listener_is_listening(refused->l));
}

/* A relay that accepts TCP connections and closes them at once (a transient failure), so that each
 * reconnect attempt is seen where it lands: when its connection arrives. */
struct closing_server {
  int fd;
  uint16_t port;
  int n;           /* connections accepted */
  uint64_t at[16]; /* when each was seen */
};

static void closing_server_start(struct closing_server *s) {
  memset(s, 0, sizeof *s);
  s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  assert_true(s->fd >= 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(s->fd, 16), 0);
  socklen_t len = sizeof a;
  assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
  s->port = ntohs(a.sin_port);
}

/* Pumps the world until the server has accepted @p n connections (or @p ms pass). */
static void closing_server_pump(struct h_world *w, struct closing_server *s, int n, int ms) {
  uint64_t deadline = h_now_ms() + (uint64_t)ms * h_wait_scale();
  while (s->n < n && h_step(w, deadline)) {
    int c;
    while ((c = accept(s->fd, NULL, NULL)) >= 0) {
      if (s->n < 16) s->at[s->n] = h_now_ms();
      s->n++;
      close(c);
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) fail_msg("accept: %s", strerror(errno));
  }
  if (s->n < n) fail_msg("%d connection attempts in %d ms, expected %d", s->n, ms, n);
}

/* Reconnect backoff as it happens on the wire, not only as announced: each attempt's connection
 * arrives no earlier than the reconnect_in_ms of the on_disconnected before it (immediate first,
 * then ReconnectDelayFirstMs doubling, +-20%). */
static void test_reconnect_backoff_timing(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  struct closing_server s;
  closing_server_start(&s);
  char ns[64];
  snprintf(ns, sizeof ns, "NamespaceAddress=127.0.0.1:%u", (unsigned)s.port);
  h_listener_config(hl, ns);
  h_listener_config(hl, "ReconnectDelayFirstMs=400");
  assert_int_equal(azr_listener_start(hl->l), AZR_OK);
  uint32_t announced[3];
  for (int i = 0; i < 3; i++) {
    closing_server_pump(w, &s, i + 1, 5000);
    H_WAIT(w, hl->n_disconnected == i + 1, 5000);
    assert_true(hl->disc_reconnect);
    announced[i] = hl->disc_in_ms;
  }
  closing_server_pump(w, &s, 4, 5000);
  close(s.fd);
  print_message("announced %u, %u, %u ms; attempts %llu, %llu, %llu ms apart\n", announced[0], announced[1],
                announced[2], (unsigned long long)(s.at[1] - s.at[0]), (unsigned long long)(s.at[2] - s.at[1]),
                (unsigned long long)(s.at[3] - s.at[2]));
  assert_int_equal(announced[0], 0);
  assert_true(announced[1] >= 320 && announced[1] <= 480);
  assert_true(announced[2] >= 640 && announced[2] <= 960);
  /* Not earlier than announced (a few ms for the loop's cached clock); the upper bound only needs to
   * tell a delay from a far longer one, so it is generous. */
  for (int i = 1; i < 3; i++) {
    uint64_t gap = s.at[i + 1] - s.at[i];
    if (gap + 25 < announced[i] || gap > announced[i] + 1500u * h_wait_scale())
      fail_msg("attempt %d came %llu ms after the one before, announced %u ms", i + 2, (unsigned long long)gap,
               announced[i]);
  }
  assert_int_equal(s.n, 4); /* one connection per attempt */
}

static void test_relay_drop_reconnects(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_config(hl, "ReconnectDelayFirstMs=50");
  h_listener_start_online(hl);
  assert_int_equal(azr_emulator_config(w->em, "DropListenersNow=1011"), AZR_OK);
  H_WAIT(w, hl->n_disconnected > 0, 3000);
  assert_int_equal(hl->disc_close, 1011);
  assert_true(h_contains(hl->disc_desc, "NameRenewalFailed"));
  assert_true(hl->disc_reconnect);
  assert_true(azr_listener_is_listening(hl->l));
  H_WAIT(w, hl->n_online == 2, 3000);
  assert_true(azr_listener_is_connected(hl->l));
  /* Reconnected for real: a sender gets through. */
  struct h_client *hc = h_client_new(w);
  h_connect_pair(hl, hc);
}

/* AzureRelayPingTimeout: the control channel pings and reconnects when a relay goes silent. */
static void test_keepalive_timeout(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  /* Under valgrind the in-process relay answers slowly: a longer reply deadline there. */
  char ping_timeout[64];
  snprintf(ping_timeout, sizeof ping_timeout, "AzureRelayPingTimeout=%u", h_wait_scale());
  h_listener_config(hl, "AzureRelayKeepAliveTime=1");
  h_listener_config(hl, ping_timeout);
  h_listener_config(hl, "ReconnectDelayFirstMs=50");
  h_listener_start_online(hl);
  /* A relay that answers pings keeps the channel up. */
  h_pump_for(w, 2600);
  assert_int_equal(hl->n_keepalive_timeout, 0);
  assert_int_equal(hl->n_disconnected, 0);
  /* A relay that has gone silent is detected within a ping interval plus the reply timeout. */
  w->em_paused = true;
  uint64_t t0 = h_now_ms();
  H_WAIT(w, hl->n_keepalive_timeout > 0, 3500);
  assert_true(h_now_ms() - t0 >= 900);
  H_WAIT(w, hl->n_disconnected > 0, 1000);
  assert_int_equal(hl->disc_status, AZR_E_TIMEOUT);
  assert_true(hl->disc_reconnect);
  assert_true(azr_listener_is_listening(hl->l));
  assert_false(azr_listener_is_connected(hl->l));
  w->em_paused = false;
  H_WAIT(w, hl->n_online == 2, 5000);
}

/* The default keep-alive frame is an unsolicited Pong: it expects no answer, so a relay that does
 * not answer (here: not running at all for a while) is not mistaken for a dead one. */
static void test_keepalive_pong_expects_no_answer(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_config(hl, "AzureRelayKeepAliveTime=1");
  h_listener_start_online(hl);
  w->em_paused = true;
  h_pump_for(w, 3500);
  w->em_paused = false;
  assert_int_equal(hl->n_keepalive_timeout, 0);
  assert_int_equal(hl->n_disconnected, 0);
  assert_true(azr_listener_is_connected(hl->l));
  struct h_client *hc = h_client_new(w);
  h_connect_pair(hl, hc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_start_status_headers, teardown),
      cmocka_unit_test_teardown(test_stop_keeps_connections, teardown),
      cmocka_unit_test_teardown(test_shutdown_closes_connections, teardown),
      cmocka_unit_test_teardown(test_loop_misuse_inside_callback, teardown),
      cmocka_unit_test_teardown(test_run_timeout_and_interrupt, teardown),
      cmocka_unit_test_teardown(test_startup_auth_error_stops, teardown),
      cmocka_unit_test_teardown(test_startup_auth_error_retries_when_asked, teardown),
      cmocka_unit_test_teardown(test_auth_error_after_online, teardown),
      cmocka_unit_test_teardown(test_startup_not_found, teardown),
      cmocka_unit_test_teardown(test_startup_unknown_host_stops_refused_retries, teardown),
      cmocka_unit_test_teardown(test_reconnect_backoff_timing, teardown),
      cmocka_unit_test_teardown(test_relay_drop_reconnects, teardown),
      cmocka_unit_test_teardown(test_keepalive_timeout, teardown),
      cmocka_unit_test_teardown(test_keepalive_pong_expects_no_answer, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
