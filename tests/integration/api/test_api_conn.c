/* SPDX-License-Identifier: MIT */
/* Connection requests end to end: the request's fields and the connection's properties, rejecting
 * (by the handler, by access lists and MaxConnections), deferred decisions, and closing. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static int teardown(void **state) {
  h_world_free(*state);
  *state = NULL;
  return 0;
}

static void test_request_fields_and_info(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  assert_int_equal(azr_client_add_header(hc->c, "X-Test", "1"), AZR_OK);
  assert_int_equal(azr_client_add_header(hc->c, "Sec-WebSocket-Extensions", "x-azr-test; p=1"), AZR_OK);
  assert_int_equal(h_client_connect(hc, "/orders?x=1", "chat.v2, chat.v1"), AZR_OK);
  H_WAIT(w, hl->n_conn_connected == 1, 3000);
  assert_int_equal(hl->n_request, 1);
  const struct h_request *r = &hl->req;
  assert_true(r->conn_id != 0);
  assert_int_equal(r->conn_id, hl->conn);
  assert_true(h_contains(r->rendezvous_address, "sb-hc-action=accept"));
  assert_true(h_contains(r->rendezvous_address, "ws://"));
  assert_true(r->id[0] != 0);
  assert_true(h_contains(r->rendezvous_address, r->id));
  assert_true(h_contains(r->connect_headers, "\"X-Test\""));
  assert_true(h_contains(r->connect_headers, "\"1\""));
  assert_true(r->connect_headers[0] == '{');
  assert_false(h_icontains(r->connect_headers, "ServiceBusAuthorization"));
  assert_false(h_contains(r->connect_headers, "SharedAccessSignature"));
  assert_true(h_contains(r->host, "localhost"));
  assert_string_equal(r->remote_address, "127.0.0.1");
  assert_true(r->remote_port != 0);
  assert_string_equal(r->path, "/orders?x=1");
  assert_string_equal(r->sub_protocols, "chat.v2, chat.v1");
  assert_string_equal(r->sub_protocol, "chat.v2");
  assert_string_equal(r->extensions, "x-azr-test; p=1");
  assert_true(r->accept);
  assert_int_equal(r->status_code, 400);
  assert_string_equal(azr_client_get_sub_protocol(hc->c), "chat.v2");

  azr_conn_info info;
  assert_int_equal(azr_conn_get_info(hl->l, hl->conn, &info, sizeof info), AZR_OK);
  assert_int_equal(info.id, hl->conn);
  assert_string_equal(info.address, r->rendezvous_address);
  assert_string_equal(info.relay_id, r->id);
  assert_string_equal(info.connect_headers, r->connect_headers);
  assert_string_equal(info.host, r->host);
  assert_string_equal(info.remote_address, "127.0.0.1");
  assert_int_equal(info.remote_port, r->remote_port);
  assert_string_equal(info.sub_protocols, r->sub_protocols);
  assert_string_equal(info.extensions, r->extensions);
  assert_string_equal(info.sub_protocol, "chat.v2");
  assert_true(info.connected);
  assert_true(info.ready_to_send);
  assert_true(info.accept_data);
  assert_int_equal(info.data_format, AZR_DATA_AUTOMATIC);
  assert_int_equal(info.timeout_s, 0);
  assert_int_equal(info.queued_bytes, 0);

  /* Per-connection settings and user data. */
  int marker = 7;
  assert_int_equal(azr_conn_set_user_data(hl->l, hl->conn, &marker), AZR_OK);
  assert_ptr_equal(azr_conn_get_user_data(hl->l, hl->conn), &marker);
  assert_null(azr_conn_get_user_data(hl->l, hl->conn + 100));
  assert_int_equal(azr_conn_set_data_format(hl->l, hl->conn, AZR_DATA_BINARY), AZR_OK);
  assert_int_equal(azr_conn_set_data_format(hl->l, hl->conn, (azr_data_format)5), AZR_E_INVALID_ARG);
  assert_int_equal(azr_conn_set_timeout(hl->l, hl->conn, 3), AZR_OK);
  assert_int_equal(azr_conn_set_timeout(hl->l, hl->conn, -1), AZR_E_INVALID_ARG);
  assert_int_equal(azr_conn_get_info(hl->l, hl->conn, &info, sizeof info), AZR_OK);
  assert_int_equal(info.data_format, AZR_DATA_BINARY);
  assert_int_equal(info.timeout_s, 3);
  char name[64], v[64];
  snprintf(name, sizeof name, "DataFormat[%llu]=1", (unsigned long long)hl->conn);
  h_listener_config(hl, name);
  snprintf(name, sizeof name, "DataFormat[%llu]", (unsigned long long)hl->conn);
  h_listener_get(hl, name, v, sizeof v);
  assert_string_equal(v, "1");
  snprintf(name, sizeof name, "Timeout[%llu]", (unsigned long long)hl->conn);
  h_listener_get(hl, name, v, sizeof v);
  assert_string_equal(v, "3");
  assert_int_equal(azr_conn_get_info(hl->l, 999999, &info, sizeof info), AZR_E_INVALID_CONN_ID);
}

static void test_reject_by_handler(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  hl->policy = H_REJECT;
  hl->reject_status = 418;
  snprintf(hl->reject_desc, sizeof hl->reject_desc, "Teapot says no");
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  assert_int_not_equal(h_client_connect(hc, "", NULL), AZR_OK);
  assert_int_equal(hc->open_http, 418);
  assert_string_equal(hc->open_desc, "Teapot says no");
  assert_false(azr_client_is_open(hc->c));
  assert_int_equal(hl->n_request, 1);
  h_pump_for(w, 100);
  assert_int_equal(hl->n_conn_connected, 0);
  assert_int_equal(azr_listener_get_connection_count(hl->l), 0);
  assert_int_equal(azr_listener_accept(hl->l, hl->req.conn_id, NULL), AZR_E_INVALID_CONN_ID);
}

static void test_access_lists_and_max_connections(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_config(hl, "BlockedClients=10.0.0.0/8, 127.0.0.0/8");
  h_listener_start_online(hl);
  struct h_client *a = h_client_new(w);
  assert_int_not_equal(h_client_connect(a, "", NULL), AZR_OK);
  assert_int_equal(a->open_http, 403);
  assert_false(hl->req.accept); /* pre-decided, and the handler left it */
  assert_int_equal(hl->req.status_code, 403);
  /* AllowedClients without us: also refused. */
  h_listener_config(hl, "BlockedClients=");
  h_listener_config(hl, "AllowedClients=192.168.*");
  assert_int_not_equal(h_client_connect(a, "", NULL), AZR_OK);
  assert_int_equal(a->open_http, 403);
  h_listener_config(hl, "AllowedClients=127.0.0.1");
  h_connect_pair(hl, a);
  /* MaxConnections (fixed while listening): the second sender gets 503. */
  assert_int_equal(azr_listener_config(hl->l, "MaxConnections=1"), AZR_E_CANT_CHANGE_MAX_CONNECTIONS);
  assert_int_equal(azr_listener_stop(hl->l), AZR_OK);
  h_listener_config(hl, "MaxConnections=1");
  h_listener_start_online(hl);
  struct h_client *b = h_client_new(w);
  assert_int_not_equal(h_client_connect(b, "", NULL), AZR_OK);
  assert_int_equal(b->open_http, 503);
  assert_int_equal(hl->req.status_code, 503);
  assert_int_equal(azr_listener_get_connection_count(hl->l), 1);
}

static void test_defer_accept(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  hl->policy = H_DEFER;
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  assert_int_equal(azr_client_connect(hc->c, "", "chat.v2, chat.v1"), AZR_OK);
  H_WAIT(w, hl->n_request == 1, 3000);
  h_pump_for(w, 300);
  assert_int_equal(hc->n_open, 0); /* the sender waits for our decision */
  assert_int_equal(hl->n_conn_connected, 0);
  azr_conn_id id = hl->req.conn_id;
  assert_int_equal(azr_listener_accept(hl->l, id + 1000, NULL), AZR_E_INVALID_CONN_ID);
  assert_int_equal(azr_listener_reject(hl->l, id + 1000, 409, "x"), AZR_E_INVALID_CONN_ID);
  assert_int_equal(azr_listener_accept(hl->l, id, "chat.v1"), AZR_OK);
  assert_int_equal(azr_listener_accept(hl->l, id, NULL), AZR_E_INVALID_CONN_ID); /* already decided */
  H_WAIT(w, hc->n_open == 1 && hl->n_conn_connected == 1, 3000);
  assert_int_equal(hc->open_status, AZR_OK);
  assert_int_equal(hl->conn, id);
  assert_string_equal(azr_client_get_sub_protocol(hc->c), "chat.v1");
  azr_conn_info info;
  assert_int_equal(azr_conn_get_info(hl->l, id, &info, sizeof info), AZR_OK);
  assert_string_equal(info.sub_protocol, "chat.v1");
}

static void test_defer_reject(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  hl->policy = H_DEFER;
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  assert_int_equal(azr_client_connect(hc->c, "", NULL), AZR_OK);
  H_WAIT(w, hl->n_request == 1, 3000);
  assert_int_equal(azr_listener_get_connection_count(hl->l), 1); /* pending counts */
  assert_int_equal(azr_listener_reject(hl->l, hl->req.conn_id, 409, "later"), AZR_OK);
  assert_int_equal(azr_listener_reject(hl->l, hl->req.conn_id, 409, "later"), AZR_E_INVALID_CONN_ID);
  H_WAIT(w, hc->n_open == 1, 3000);
  assert_int_not_equal(hc->open_status, AZR_OK);
  assert_int_equal(hc->open_http, 409);
  assert_string_equal(hc->open_desc, "later");
  assert_int_equal(azr_listener_get_connection_count(hl->l), 0);
  assert_int_equal(hl->n_error, 0); /* the relay confirmed the rejection */
}

static void test_close_codes(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_start_online(hl);
  struct h_client *a = h_client_new(w), *b = h_client_new(w), *c = h_client_new(w);
  azr_conn_id ia = h_connect_pair(hl, a);
  azr_conn_id ib = h_connect_pair(hl, b);
  azr_conn_id ic = h_connect_pair(hl, c);
  assert_int_equal(azr_conn_close(hl->l, ia, 1005, "no"), AZR_E_INVALID_ARG);
  assert_int_equal(azr_conn_close(hl->l, ia, 1006, "no"), AZR_E_INVALID_ARG);
  assert_int_equal(azr_conn_close(hl->l, ia, 999, "no"), AZR_E_INVALID_ARG);
  assert_int_equal(azr_conn_close(hl->l, ia, 5000, "no"), AZR_E_INVALID_ARG);
  /* Listener closes with its code and reason. */
  assert_int_equal(azr_conn_close(hl->l, ia, 4005, "bye"), AZR_OK);
  H_WAIT(w, a->n_close == 1 && hl->n_conn_disc == 1, 3000);
  assert_int_equal(a->close_code, 4005);
  assert_string_equal(a->close_reason, "bye");
  assert_int_equal(hl->cd_id, ia);
  assert_int_equal(hl->cd_code, 4005);
  /* The sender closes. */
  assert_int_equal(azr_client_close(b->c, 4006, "client bye"), AZR_OK);
  H_WAIT(w, hl->n_conn_disc == 2, 3000);
  assert_int_equal(hl->cd_id, ib);
  assert_int_equal(hl->cd_code, 4006);
  assert_string_equal(hl->cd_desc, "client bye");
  assert_int_equal(hl->cd_error, 0);
  /* Disconnect uses DisconnectStatusCode (default 1000, "Normal Closure"). */
  assert_int_equal(azr_conn_disconnect(hl->l, ic), AZR_OK);
  H_WAIT(w, c->n_close == 1 && hl->n_conn_disc == 3, 3000);
  assert_int_equal(c->close_code, 1000);
  assert_string_equal(c->close_reason, "Normal Closure");
  /* Stale ids. */
  azr_conn_info info;
  assert_int_equal(azr_conn_close(hl->l, ia, 1000, ""), AZR_E_INVALID_CONN_ID);
  assert_int_equal(azr_conn_disconnect(hl->l, ib), AZR_E_INVALID_CONN_ID);
  assert_int_equal(azr_conn_send_text(hl->l, ic, "x", 1), AZR_E_INVALID_CONN_ID);
  assert_int_equal(azr_conn_get_info(hl->l, ia, &info, sizeof info), AZR_E_INVALID_CONN_ID);
  assert_int_equal(azr_conn_pause(hl->l, ia), AZR_E_INVALID_CONN_ID);
  assert_int_equal(azr_listener_get_connection_count(hl->l), 0);
  /* Ids are never reused. */
  struct h_client *d = h_client_new(w);
  azr_conn_id id = h_connect_pair(hl, d);
  assert_true(id != ia && id != ib && id != ic);
}

static void test_wait_for_close_response(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_start_online(hl);
  /* Default: our Close waits for the peer's, which a paused sender does not send. */
  struct h_client *a = h_client_new(w);
  azr_conn_id ia = h_connect_pair(hl, a);
  assert_int_equal(azr_client_pause(a->c), AZR_OK);
  h_pump_for(w, 50);
  assert_int_equal(azr_conn_close(hl->l, ia, 1000, "wait"), AZR_OK);
  h_pump_for(w, 800);
  assert_int_equal(hl->n_conn_disc, 0);
  assert_int_equal(azr_client_resume(a->c), AZR_OK);
  H_WAIT(w, hl->n_conn_disc == 1 && a->n_close == 1, 3000);
  assert_int_equal(a->close_code, 1000);
  /* WaitForCloseResponse=false: gone right after our Close frame. */
  h_listener_config(hl, "WaitForCloseResponse=false");
  struct h_client *b = h_client_new(w);
  azr_conn_id ib = h_connect_pair(hl, b);
  assert_int_equal(azr_client_pause(b->c), AZR_OK);
  h_pump_for(w, 50);
  uint64_t t0 = h_now_ms();
  assert_int_equal(azr_conn_close(hl->l, ib, 1000, "nowait"), AZR_OK);
  H_WAIT(w, hl->n_conn_disc == 2, 3000);
  assert_true(h_now_ms() - t0 < 500);
  assert_int_equal(hl->cd_id, ib);
  assert_int_equal(azr_listener_get_connection_count(hl->l), 0);
}

/* azr_listener_get_stats: what the listener saw, live and after connections end. */
static void test_stats(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  hl->echo = true;
  azr_listener_stats s;
  assert_int_equal(azr_listener_get_stats(hl->l, &s, sizeof s), AZR_OK);
  assert_int_equal(s.online, 0);
  h_listener_start_online(hl);
  assert_int_equal(azr_listener_get_stats(hl->l, &s, sizeof s), AZR_OK);
  assert_int_equal(s.online, 1);
  assert_int_equal(s.control_opens, 1);
  assert_int_equal(s.connection_requests, 0);
  /* One echoed connection: counted while open, and its bytes stay counted after it ends. */
  struct h_client *a = h_client_new(w);
  (void)h_connect_pair(hl, a);
  unsigned char buf[1000];
  h_pattern(buf, sizeof buf, 0);
  assert_int_equal(azr_client_send(a->c, AZR_DATA_BINARY, buf, sizeof buf, true), AZR_OK);
  H_WAIT(w, a->in.len == sizeof buf, 3000);
  assert_int_equal(azr_listener_get_stats(hl->l, &s, sizeof s), AZR_OK);
  assert_int_equal(s.connection_requests, 1);
  assert_int_equal(s.connections_accepted, 1);
  assert_int_equal(s.connections_open, 1);
  assert_int_equal(s.bytes_received, sizeof buf);
  assert_int_equal(s.bytes_sent, sizeof buf);
  assert_int_equal(azr_client_close(a->c, 1000, "done"), AZR_OK);
  H_WAIT(w, hl->n_conn_disc == 1, 3000);
  /* A rejected sender. */
  hl->policy = H_REJECT;
  struct h_client *b = h_client_new(w);
  assert_int_not_equal(h_client_connect(b, H_HC, NULL), AZR_OK);
  H_WAIT(w, hl->n_request == 2, 3000);
  assert_int_equal(azr_listener_get_stats(hl->l, &s, sizeof s), AZR_OK);
  assert_int_equal(s.connection_requests, 2);
  assert_int_equal(s.connections_rejected, 1);
  assert_int_equal(s.connections_accepted, 1);
  assert_int_equal(s.connections_closed, 1);
  assert_int_equal(s.connections_open, 0);
  assert_int_equal(s.bytes_received, sizeof buf);
  assert_int_equal(s.bytes_sent, sizeof buf);
  assert_int_equal(s.control_losses, 0);
  /* An older, smaller struct gets its prefix only. */
  uint64_t first[2] = {0, 12345};
  assert_int_equal(azr_listener_get_stats(hl->l, (azr_listener_stats *)(void *)first, sizeof first[0]), AZR_OK);
  assert_int_equal(first[0], 1);
  assert_int_equal(first[1], 12345);
  assert_int_equal(azr_listener_get_stats(NULL, &s, sizeof s), AZR_E_INVALID_ARG);
  assert_int_equal(azr_listener_get_stats(hl->l, NULL, sizeof s), AZR_E_INVALID_ARG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_request_fields_and_info, teardown),
      cmocka_unit_test_teardown(test_reject_by_handler, teardown),
      cmocka_unit_test_teardown(test_access_lists_and_max_connections, teardown),
      cmocka_unit_test_teardown(test_defer_accept, teardown),
      cmocka_unit_test_teardown(test_defer_reject, teardown),
      cmocka_unit_test_teardown(test_close_codes, teardown),
      cmocka_unit_test_teardown(test_wait_for_close_response, teardown),
      cmocka_unit_test_teardown(test_stats, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
