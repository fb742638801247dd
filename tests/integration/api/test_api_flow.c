/* SPDX-License-Identifier: MIT */
/* Flow control end to end: WOULDBLOCK and ReadyToSend, blocking sends with a Timeout and their
 * Interrupt, SendFile and its Interrupt, PauseData/ProcessData. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "harness.h"

#define CHUNK 65536

static int teardown(void **state) {
  h_world_free(*state);
  *state = NULL;
  return 0;
}

static void test_wouldblock_then_ready(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl;
  struct h_client *hc;
  azr_conn_id id = h_stalled_pair(w, "SendQueueSize=262144", &hl, &hc);
  static unsigned char buf[CHUNK];
  uint64_t sent = 0;
  int rc = AZR_OK;
  /* Keep every hop busy until the backlog reaches our bounded queue. */
  for (int i = 0; i < 2048 && rc == AZR_OK; i++) {
    h_pattern(buf, sizeof buf, sent);
    rc = azr_conn_send_bytes(hl->l, id, buf, sizeof buf);
    if (rc == AZR_OK) sent += sizeof buf;
    for (int j = 0; j < 3; j++) h_step(w, 0);
  }
  assert_int_equal(rc, AZR_E_WOULDBLOCK);
  azr_conn_info info;
  assert_int_equal(azr_conn_get_info(hl->l, id, &info, sizeof info), AZR_OK);
  assert_true(info.queued_bytes > 0);
  assert_true(info.queued_bytes <= 262144 + CHUNK);
  int ready_before = hl->n_ready;
  h_pump_for(w, 200);
  assert_int_equal(hl->n_ready, ready_before); /* nothing drains while the sender is paused */
  assert_int_equal(azr_client_resume(hc->c), AZR_OK);
  H_WAIT(w, hl->n_ready > ready_before, 5000);
  H_WAIT(w, hc->in.len == sent, 10000);
  assert_true(h_pattern_ok(hc->in.bytes, hc->in.len, 0));
  assert_int_equal(hc->in.msgs, (int)(sent / CHUNK));
  assert_int_equal(azr_conn_get_info(hl->l, id, &info, sizeof info), AZR_OK);
  assert_true(info.ready_to_send);
  assert_int_equal(info.total_bytes_sent, sent);
  assert_int_equal(azr_conn_send_bytes(hl->l, id, buf, 10), AZR_OK);
}

static void test_blocking_send_times_out(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl;
  struct h_client *hc;
  azr_conn_id id = h_stalled_pair(w, "SendQueueSize=65536", &hl, &hc);
  assert_int_equal(azr_conn_set_timeout(hl->l, id, 2), AZR_OK);
  static unsigned char buf[CHUNK / 2];
  uint64_t sent = 0, last_ms = 0, start = h_now_ms();
  int rc = AZR_OK;
  /* Called from outside callbacks, each send blocks until the queue takes it; nobody reads, so
   * one finally gives up after the timeout. */
  while (rc == AZR_OK && h_now_ms() - start < 20000) {
    h_pattern(buf, sizeof buf, sent);
    uint64_t t0 = h_now_ms();
    rc = azr_conn_send_bytes(hl->l, id, buf, sizeof buf);
    last_ms = h_now_ms() - t0;
    if (rc == AZR_OK) sent += sizeof buf;
  }
  assert_int_equal(rc, AZR_E_TIMEOUT);
  assert_true(last_ms >= 1900);
  assert_true(last_ms < 4000);
  assert_true(sent > 0);
  /* Nothing was lost or half-sent: the reader gets exactly what was accepted. */
  assert_int_equal(azr_client_resume(hc->c), AZR_OK);
  H_WAIT(w, hc->in.len == sent, 10000);
  assert_true(h_pattern_ok(hc->in.bytes, hc->in.len, 0));
  assert_int_equal(hc->in.msgs, (int)(sent / sizeof buf));
  assert_int_equal(azr_conn_send_bytes(hl->l, id, "z", 1), AZR_OK);
  H_WAIT(w, hc->in.msgs == (int)(sent / sizeof buf) + 1, 3000);
}

/* On the application's loop a send with Timeout > 0 must not run that loop from inside the
 * application's code: it answers like an asynchronous send, and ready-to-send follows. */
static void test_blocking_send_on_application_loop(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  static uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  w->uv = &loop;
  struct h_listener *hl = h_listener_new_on_uv(w, true);
  h_listener_config(hl, "SendQueueSize=65536");
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  azr_conn_id id = h_connect_pair(hl, hc);
  assert_int_equal(azr_client_pause(hc->c), AZR_OK);
  h_pump_for(w, 20);
  assert_int_equal(azr_conn_set_timeout(hl->l, id, 5), AZR_OK);
  static unsigned char buf[CHUNK / 2];
  int rc = AZR_OK;
  uint64_t longest = 0;
  for (int i = 0; rc == AZR_OK && i < 10000; i++) {
    uint64_t t0 = h_now_ms();
    rc = azr_conn_send_bytes(hl->l, id, buf, sizeof buf);
    if (h_now_ms() - t0 > longest) longest = h_now_ms() - t0;
  }
  assert_int_equal(rc, AZR_E_WOULDBLOCK);
  assert_true(longest < 500); /* never the 5 s a blocking send would wait */
  assert_int_equal(azr_client_resume(hc->c), AZR_OK);
  H_WAIT(w, hl->n_ready > 0, 10000);
  assert_int_equal(azr_client_close(hc->c, 1000, "done"), AZR_OK);
  H_WAIT(w, hl->n_conn_disc == 1, 3000);
  h_client_free(hc);
  h_listener_free(hl);
  w->uv = NULL;
  assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&loop), 0);
}

static bool conn_ready_to_send(struct h_listener *hl, azr_conn_id id) {
  azr_conn_info info;
  return azr_conn_get_info(hl->l, id, &info, sizeof info) == AZR_OK && info.ready_to_send;
}

/* Interrupts the blocked connection from a callback the blocking send's own loop runs. */
static void interrupt_on_renewal(struct h_listener *hl, const azr_connection_status_event *ev) {
  if (!strcmp(ev->event, "TokenRenewed") && hl->hook_conn) {
    hl->hook_rc = azr_conn_interrupt(hl->l, hl->hook_conn);
    hl->hook_conn = 0;
  }
}

static void test_blocking_send_interrupted(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_config(hl, "SendQueueSize=65536");
  h_listener_config(hl, "DefaultTimeout=10");
  h_listener_config(hl, "TokenValidity=2");
  h_listener_config(hl, "AutoRenewThreshold=1");
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  azr_conn_id id = h_connect_pair(hl, hc);
  azr_conn_info info;
  assert_int_equal(azr_conn_get_info(hl->l, id, &info, sizeof info), AZR_OK);
  assert_int_equal(info.timeout_s, 10); /* DefaultTimeout */
  assert_int_equal(azr_client_pause(hc->c), AZR_OK);
  h_pump_for(w, 20);
  hl->on_status_hook = interrupt_on_renewal;
  hl->hook_conn = id;
  static unsigned char buf[CHUNK / 2];
  uint64_t start = h_now_ms(), last_ms = 0;
  int rc = AZR_OK;
  while (rc == AZR_OK && h_now_ms() - start < 20000) {
    uint64_t t0 = h_now_ms();
    rc = azr_conn_send_bytes(hl->l, id, buf, sizeof buf);
    last_ms = h_now_ms() - t0;
  }
  /* The renewal timer fires within about a second, well before the 10 s timeout. */
  assert_int_equal(rc, AZR_E_INTERRUPTED);
  assert_int_equal(hl->hook_rc, AZR_OK);
  assert_true(last_ms < 5000);
  assert_true(h_now_ms() - start < 5000);
  assert_int_equal(azr_conn_get_info(hl->l, id, &info, sizeof info), AZR_OK);
  assert_true(info.connected);
  assert_int_equal(azr_client_resume(hc->c), AZR_OK);
  /* Megabytes wait in the relay and the kernel: generous for sanitized runs on a loaded machine. The
   * wait polls ready_to_send: a blocking send there would run the listener's loop alone for its
   * whole DefaultTimeout while the client and the emulator, on this process's other loops, stand still. */
  H_WAIT(w, conn_ready_to_send(hl, id), 10000);
  assert_int_equal(azr_conn_send_bytes(hl->l, id, "x", 1), AZR_OK);
}

static void test_sendfile_complete(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  azr_conn_id id = h_connect_pair(hl, hc);
  char path[64];
  h_temp_file(path, sizeof path, 300000);
  assert_int_equal(azr_conn_send_file(hl->l, id, "/nonexistent/azr-file"), AZR_E_FILE);
  int ready_before = hl->n_ready;
  assert_int_equal(azr_conn_send_file(hl->l, id, path), AZR_OK);
  H_WAIT(w, hc->in.msgs == 1 && hl->n_ready > ready_before, 5000);
  unlink(path);
  assert_int_equal(hc->in.len, 300000);
  assert_true(h_pattern_ok(hc->in.bytes, hc->in.len, 0));
  assert_int_equal(hc->in.ev[0].format, AZR_DATA_BINARY);
  assert_true(hc->in.n >= 3); /* MaxFrameSize (128 KiB) fragments */
  azr_conn_info info;
  assert_int_equal(azr_conn_get_info(hl->l, id, &info, sizeof info), AZR_OK);
  assert_int_equal(info.bytes_sent, 300000);
  assert_int_equal(info.total_bytes_sent, 300000);
  assert_int_equal(hl->n_conn_error, 0);
}

static void test_sendfile_interrupt(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl;
  struct h_client *hc;
  azr_conn_id id = h_stalled_pair(w, NULL, &hl, &hc);
  char path[64];
  h_temp_file(path, sizeof path, 20u << 20);
  assert_int_equal(azr_conn_send_file(hl->l, id, path), AZR_OK);
  h_pump_for(w, 300);
  assert_int_equal(azr_conn_send_file(hl->l, id, path), AZR_E_WOULDBLOCK); /* one at a time */
  assert_int_equal(hl->n_conn_error, 0);
  assert_int_equal(azr_conn_interrupt(hl->l, id + 77), AZR_E_INVALID_CONN_ID);
  assert_int_equal(azr_conn_interrupt(hl->l, id), AZR_OK);
  /* Reported at once, while the sender still reads nothing (as in
   * test_interrupt_sendfile_while_peer_stalled); then the sender reads again. */
  H_WAIT(w, hl->n_conn_error == 1, 5000);
  assert_int_equal(azr_client_resume(hc->c), AZR_OK);
  unlink(path);
  assert_int_equal(hl->ce_code, AZR_E_INTERRUPTED);
  assert_true(h_contains(hl->ce_desc, "interrupted"));
  /* The connection stays usable: the message ends where it stood, the next one follows. */
  azr_conn_info info;
  assert_int_equal(azr_conn_get_info(hl->l, id, &info, sizeof info), AZR_OK);
  assert_true(info.connected);
  assert_int_equal(azr_conn_send_text(hl->l, id, "after", 5), AZR_OK);
  H_WAIT(w, hc->in.msgs == 2, 10000);
  assert_int_equal(hl->n_conn_disc, 0);
  size_t first = hc->in.len - 5;
  assert_true(first > 0);
  assert_true(first < (20u << 20));
  assert_true(h_pattern_ok(hc->in.bytes, first, 0));
  assert_memory_equal(hc->in.bytes + first, "after", 5);
  assert_true(azr_client_is_open(hc->c));
}

/* Five 1000-byte binary messages of the test pattern (offsets 0 to 4999), from the sender. */
static void send_five_from_client(struct h_client *hc) {
  for (int i = 0; i < 5; i++) {
    unsigned char buf[1000];
    h_pattern(buf, sizeof buf, (uint64_t)i * sizeof buf);
    assert_int_equal(azr_client_send(hc->c, AZR_DATA_BINARY, buf, sizeof buf, true), AZR_OK);
  }
}

/* Pauses the connection from inside its first data event. */
static void pause_on_first(struct h_listener *hl, const azr_data_in_event *ev) {
  if (hl->in.n == 1) assert_int_equal(azr_conn_pause(hl->l, ev->conn_id), AZR_OK);
}

static void test_pause_and_process_data(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  hl->on_data_hook = pause_on_first;
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  azr_conn_id id = h_connect_pair(hl, hc);
  send_five_from_client(hc);
  H_WAIT(w, hl->in.n >= 1, 3000);
  h_pump_for(w, 400);
  assert_int_equal(hl->in.n, 1); /* paused at once, although more had arrived */
  azr_conn_info info;
  assert_int_equal(azr_conn_get_info(hl->l, id, &info, sizeof info), AZR_OK);
  assert_false(info.accept_data);
  hl->on_data_hook = NULL;
  assert_int_equal(azr_conn_resume(hl->l, id), AZR_OK);
  H_WAIT(w, hl->in.msgs == 5, 3000);
  assert_int_equal(hl->in.len, 5000);
  assert_true(h_pattern_ok(hl->in.bytes, hl->in.len, 0));
  assert_int_equal(azr_conn_get_info(hl->l, id, &info, sizeof info), AZR_OK);
  assert_true(info.accept_data);
  /* Pausing from outside a callback holds back the sender's next messages the same way. */
  assert_int_equal(azr_conn_pause(hl->l, id), AZR_OK);
  assert_int_equal(azr_client_send(hc->c, AZR_DATA_TEXT, "later", 5, true), AZR_OK);
  h_pump_for(w, 300);
  assert_int_equal(hl->in.msgs, 5);
  assert_int_equal(azr_conn_resume(hl->l, id), AZR_OK);
  H_WAIT(w, hl->in.msgs == 6, 3000);
  assert_memory_equal(hl->in.bytes + 5000, "later", 5);
}

/* RFC 6455 §1.4/§5.5.1: after the peer's Close an endpoint may still send what it has. An
 * application that paused reading answers messages that arrived before the sender's Close once it
 * resumes: those answers must reach the sender ahead of our Close reply, not fail as closed. */
static void test_close_waits_for_paused_messages(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  hl->echo = true;
  hl->on_data_hook = pause_on_first;
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  azr_conn_id id = h_connect_pair(hl, hc);
  send_five_from_client(hc);
  assert_int_equal(azr_client_close(hc->c, 1000, "done"), AZR_OK);
  H_WAIT(w, hl->in.n >= 1, 3000);
  h_pump_for(w, 400);
  assert_int_equal(hl->in.n, 1);
  assert_int_equal(hc->n_close, 0); /* our Close reply waits for the paused messages */
  hl->on_data_hook = NULL;
  assert_int_equal(azr_conn_resume(hl->l, id), AZR_OK);
  H_WAIT(w, hc->n_close == 1, 5000);
  assert_int_equal(hc->close_code, 1000);
  assert_int_equal(hc->in.len, 5000);
  assert_true(h_pattern_ok(hc->in.bytes, hc->in.len, 0));
  H_WAIT(w, hl->n_conn_disc == 1, 3000);
}

/* The same on the sender's side: a client that paused answers the listener's messages before our
 * Close reply, when the listener closes first. */
static void test_client_close_waits_for_paused_messages(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  hc->echo = true;
  hc->pause_on_first = true;
  azr_conn_id id = h_connect_pair(hl, hc);
  for (int i = 0; i < 5; i++) {
    unsigned char buf[1000];
    h_pattern(buf, sizeof buf, (uint64_t)i * sizeof buf);
    assert_int_equal(azr_conn_send_bytes(hl->l, id, buf, sizeof buf), AZR_OK);
  }
  assert_int_equal(azr_conn_close(hl->l, id, 1000, "done"), AZR_OK);
  H_WAIT(w, hc->in.n >= 1, 3000);
  h_pump_for(w, 400);
  assert_int_equal(hc->in.n, 1);
  assert_int_equal(hl->n_conn_disc, 0); /* the client's Close reply waits for its paused messages */
  hc->pause_on_first = false;
  assert_int_equal(azr_client_resume(hc->c), AZR_OK);
  H_WAIT(w, hl->n_conn_disc == 1, 5000);
  assert_int_equal(hl->in.len, 5000);
  assert_true(h_pattern_ok(hl->in.bytes, hl->in.len, 0));
  H_WAIT(w, hc->n_close == 1, 3000);
  assert_int_equal(hc->close_code, 1000);
}

/* connection.h: azr_conn_interrupt "ends ... an ongoing SendFile on this connection
 * (AZR_E_INTERRUPTED)", at once, also while the peer does not read (the file source is not asked
 * again then, so the interruption must not wait for it). */
static void test_interrupt_sendfile_while_peer_stalled(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl;
  struct h_client *hc;
  azr_conn_id id = h_stalled_pair(w, NULL, &hl, &hc);
  char path[64];
  h_temp_file(path, sizeof path, 20u << 20);
  assert_int_equal(azr_conn_send_file(hl->l, id, path), AZR_OK);
  h_pump_for(w, 300);
  assert_int_equal(azr_conn_interrupt(hl->l, id), AZR_OK);
  uint64_t deadline = h_now_ms() + 1500;
  while (hl->n_conn_error == 0 && h_step(w, deadline)) {
  }
  unlink(path);
  assert_int_equal(hl->n_conn_error, 1);
  assert_int_equal(hl->ce_code, AZR_E_INTERRUPTED);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_interrupt_sendfile_while_peer_stalled, teardown),
      cmocka_unit_test_teardown(test_wouldblock_then_ready, teardown),
      cmocka_unit_test_teardown(test_blocking_send_times_out, teardown),
      cmocka_unit_test_teardown(test_blocking_send_interrupted, teardown),
      cmocka_unit_test_teardown(test_blocking_send_on_application_loop, teardown),
      cmocka_unit_test_teardown(test_sendfile_complete, teardown),
      cmocka_unit_test_teardown(test_sendfile_interrupt, teardown),
      cmocka_unit_test_teardown(test_pause_and_process_data, teardown),
      cmocka_unit_test_teardown(test_close_waits_for_paused_messages, teardown),
      cmocka_unit_test_teardown(test_client_close_waits_for_paused_messages, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
