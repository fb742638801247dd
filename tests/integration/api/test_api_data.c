/* SPDX-License-Identifier: MIT */
/* Data on accepted connections end to end: formats, control frames, MessageLength, fragments,
 * BytesSent and the counters, ConnectionUID, BufferMessage and MaxMessageSize. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static int teardown(void **state) {
  h_world_free(*state);
  *state = NULL;
  return 0;
}

static void test_data_formats(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  azr_conn_id id = h_connect_pair(hl, hc);
  /* AUTOMATIC: valid UTF-8 goes as text, anything else as binary. */
  assert_int_equal(azr_conn_send(hl->l, id, "h\xc3\xa9llo", 6), AZR_OK);
  assert_int_equal(azr_conn_send(hl->l, id, "\xff\xfe\x00\x01", 4), AZR_OK);
  H_WAIT(w, hc->in.msgs == 2, 3000);
  assert_int_equal(hc->in.ev[0].format, AZR_DATA_TEXT);
  assert_int_equal(hc->in.ev[0].len, 6);
  assert_int_equal(hc->in.ev[1].format, AZR_DATA_BINARY);
  assert_memory_equal(hc->in.bytes + 6, "\xff\xfe\x00\x01", 4);
  assert_int_equal(azr_conn_send(hl->l, id, NULL, 2), AZR_E_INVALID_ARG); /* AUTOMATIC: not a NULL dereference */
  /* TEXT refuses invalid UTF-8, also through azr_conn_send_text. */
  assert_int_equal(azr_conn_set_data_format(hl->l, id, AZR_DATA_TEXT), AZR_OK);
  assert_int_equal(azr_conn_send(hl->l, id, "\xc3\x28", 2), AZR_E_UTF8);
  assert_int_equal(azr_conn_send_text(hl->l, id, "\xed\xa0\x80", 3), AZR_E_UTF8); /* a surrogate */
  assert_int_equal(azr_conn_send(hl->l, id, "text", 4), AZR_OK);
  /* BINARY sends valid UTF-8 as binary; SendBytes / SendText force their format. */
  assert_int_equal(azr_conn_set_data_format(hl->l, id, AZR_DATA_BINARY), AZR_OK);
  assert_int_equal(azr_conn_send(hl->l, id, "bin", 3), AZR_OK);
  assert_int_equal(azr_conn_send_text(hl->l, id, "txt", 3), AZR_OK);
  assert_int_equal(azr_conn_send_bytes(hl->l, id, "byt", 3), AZR_OK);
  H_WAIT(w, hc->in.msgs == 6, 3000);
  assert_int_equal(hc->in.ev[2].format, AZR_DATA_TEXT);
  assert_int_equal(hc->in.ev[3].format, AZR_DATA_BINARY);
  assert_int_equal(hc->in.ev[4].format, AZR_DATA_TEXT);
  assert_int_equal(hc->in.ev[5].format, AZR_DATA_BINARY);
  assert_memory_equal(hc->in.bytes + 10, "textbintxtbyt", 13);
  /* PING and PONG: control frames of at most 125 bytes, never seen as data. */
  unsigned char big[126];
  memset(big, 'p', sizeof big);
  assert_int_equal(azr_conn_set_data_format(hl->l, id, AZR_DATA_PING), AZR_OK);
  assert_int_equal(azr_conn_send(hl->l, id, big, 125), AZR_OK);
  assert_int_equal(azr_conn_send(hl->l, id, big, 126), AZR_E_TOO_BIG);
  assert_int_equal(azr_conn_set_data_format(hl->l, id, AZR_DATA_PONG), AZR_OK);
  assert_int_equal(azr_conn_send(hl->l, id, big, 10), AZR_OK);
  assert_int_equal(azr_conn_send(hl->l, id, big, 126), AZR_E_TOO_BIG);
  assert_int_equal(azr_conn_set_data_format(hl->l, id, AZR_DATA_AUTOMATIC), AZR_OK);
  assert_int_equal(azr_conn_send(hl->l, id, "end", 3), AZR_OK);
  H_WAIT(w, hc->in.msgs == 7, 3000);
  assert_int_equal(hc->in.n, 7);
  assert_memory_equal(hc->in.bytes + 23, "end", 3);
  assert_true(azr_client_is_open(hc->c));
  /* The other direction: the sender's formats reach on_connection_data_in. */
  assert_int_equal(azr_client_send(hc->c, AZR_DATA_TEXT, "\xc3\x28", 2, true), AZR_E_UTF8); /* refused, not sent */
  assert_int_equal(azr_client_send(hc->c, AZR_DATA_TEXT, "t\xc3", 2, false), AZR_OK);     /* a character in two parts */
  assert_int_equal(azr_client_send(hc->c, AZR_DATA_TEXT, "\xa9", 1, true), AZR_OK);
  assert_int_equal(azr_client_send(hc->c, AZR_DATA_BINARY, "b", 1, true), AZR_OK);
  H_WAIT(w, hl->in.msgs == 2, 3000);
  assert_int_equal(hl->in.ev[0].format, AZR_DATA_TEXT);
  assert_int_equal(hl->in.ev[hl->in.n - 1].format, AZR_DATA_BINARY);
  assert_memory_equal(hl->in.bytes, "t\xc3\xa9" "b", 4);
}

static void test_message_length(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  azr_conn_id id = h_connect_pair(hl, hc);
  char set[64], name[64], v[32];
  snprintf(set, sizeof set, "MessageLength[%llu]=10", (unsigned long long)id);
  snprintf(name, sizeof name, "MessageLength[%llu]", (unsigned long long)id);
  h_listener_config(hl, set);
  h_listener_get(hl, name, v, sizeof v);
  assert_string_equal(v, "10");
  assert_int_equal(azr_conn_send(hl->l, id, "abcde", 5), AZR_OK);
  h_listener_get(hl, name, v, sizeof v);
  assert_string_equal(v, "5");
  assert_int_equal(azr_conn_send(hl->l, id, "fghijk", 6), AZR_E_INVALID_ARG); /* more than is left */
  assert_int_equal(azr_conn_send(hl->l, id, "fghij", 5), AZR_OK);
  h_listener_get(hl, name, v, sizeof v);
  assert_string_equal(v, "0");
  H_WAIT(w, hc->in.msgs == 1, 3000);
  assert_int_equal(hc->in.len, 10);
  assert_memory_equal(hc->in.bytes, "abcdefghij", 10);
  assert_true(hc->in.n >= 2);
  assert_int_equal(hc->in.ev[0].format, AZR_DATA_TEXT);
  assert_false(hc->in.ev[0].eom);
  assert_int_equal(hc->in.ev[hc->in.n - 1].format, AZR_DATA_AUTOMATIC);
  assert_true(hc->in.ev[hc->in.n - 1].eom);
  /* Back to one message per send; the typed function works the same. */
  assert_int_equal(azr_conn_send(hl->l, id, "x", 1), AZR_OK);
  H_WAIT(w, hc->in.msgs == 2, 3000);
  assert_int_equal(azr_conn_set_message_length(hl->l, id, 4), AZR_OK);
  assert_int_equal(azr_conn_send_bytes(hl->l, id, "12", 2), AZR_OK);
  assert_int_equal(azr_conn_send_bytes(hl->l, id, "34", 2), AZR_OK);
  H_WAIT(w, hc->in.msgs == 3, 3000);
  assert_memory_equal(hc->in.bytes + 11, "1234", 4);
  /* Text in parts is checked as one message: a character may span two parts. */
  assert_int_equal(azr_conn_set_message_length(hl->l, id, 4), AZR_OK);
  assert_int_equal(azr_conn_send_text(hl->l, id, "a\xc3", 2), AZR_OK);
  assert_int_equal(azr_conn_send_text(hl->l, id, "\xa9z", 2), AZR_OK);
  H_WAIT(w, hc->in.msgs == 4, 3000);
  assert_memory_equal(hc->in.bytes + 15, "a\xc3\xa9z", 4);
  /* ...but the message must end on a character boundary. */
  assert_int_equal(azr_conn_set_message_length(hl->l, id, 2), AZR_OK);
  assert_int_equal(azr_conn_send_text(hl->l, id, "b", 1), AZR_OK);
  assert_int_equal(azr_conn_send_text(hl->l, id, "\xc3", 1), AZR_E_UTF8);
  assert_int_equal(azr_conn_set_message_length(hl->l, id + 50, 4), AZR_E_INVALID_CONN_ID);
}

static void test_send_fragment(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  azr_conn_id id = h_connect_pair(hl, hc);
  assert_int_equal(azr_conn_send_fragment(hl->l, id, AZR_DATA_TEXT, "stre", 4, false), AZR_OK);
  assert_int_equal(azr_conn_send_fragment(hl->l, id, AZR_DATA_TEXT, "am", 2, false), AZR_OK);
  h_pump_for(w, 100);
  assert_int_equal(hc->in.msgs, 0); /* not ended yet */
  assert_int_equal(azr_conn_send_fragment(hl->l, id, AZR_DATA_TEXT, "ing", 3, true), AZR_OK);
  assert_int_equal(azr_conn_send_fragment(hl->l, id, AZR_DATA_BINARY, "\x01\x02", 2, true), AZR_OK);
  H_WAIT(w, hc->in.msgs == 2, 3000);
  assert_memory_equal(hc->in.bytes, "streaming\x01\x02", 11);
  assert_int_equal(hc->in.ev[0].format, AZR_DATA_TEXT);
  assert_int_equal(hc->in.ev[1].format, AZR_DATA_AUTOMATIC);
  assert_int_equal(hc->in.ev[2].format, AZR_DATA_AUTOMATIC);
  assert_true(hc->in.ev[2].eom);
  assert_int_equal(hc->in.ev[3].format, AZR_DATA_BINARY);
  azr_conn_info info;
  assert_int_equal(azr_conn_get_info(hl->l, id, &info, sizeof info), AZR_OK);
  assert_int_equal(info.bytes_sent, 2);
  assert_int_equal(info.total_bytes_sent, 11);
  /* MaxFrameSize (taken by connections accepted afterwards) splits long sends into frames. */
  h_listener_config(hl, "MaxFrameSize=1000");
  struct h_client *b = h_client_new(w);
  azr_conn_id ib = h_connect_pair(hl, b);
  static unsigned char buf[2500];
  h_pattern(buf, sizeof buf, 0);
  assert_int_equal(azr_conn_send_bytes(hl->l, ib, buf, sizeof buf), AZR_OK);
  H_WAIT(w, b->in.msgs == 1, 3000);
  assert_int_equal(b->in.n, 3);
  assert_int_equal(b->in.ev[0].len, 1000);
  assert_int_equal(b->in.ev[2].len, 500);
  assert_true(h_pattern_ok(b->in.bytes, b->in.len, 0));
}

static void test_counters_uid_count(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_start_online(hl);
  char v[64], name[64];
  h_listener_get(hl, "AzureRelayConnectionCount", v, sizeof v);
  assert_string_equal(v, "0");
  struct h_client *a = h_client_new(w), *b = h_client_new(w);
  azr_conn_id ia = h_connect_pair(hl, a);
  azr_conn_id ib = h_connect_pair(hl, b);
  h_listener_get(hl, "AzureRelayConnectionCount", v, sizeof v);
  assert_string_equal(v, "2");
  assert_int_equal(azr_listener_get_connection_count(hl->l), 2);
  azr_conn_id ids[4] = {0};
  assert_int_equal(azr_listener_get_connection_ids(hl->l, ids, 4), 2);
  assert_true((ids[0] == ia && ids[1] == ib) || (ids[0] == ib && ids[1] == ia));
  assert_int_equal(azr_listener_get_connection_ids(hl->l, ids, 1), 2);
  snprintf(name, sizeof name, "ConnectionUID[%llu]", (unsigned long long)ia);
  h_listener_get(hl, name, v, sizeof v);
  snprintf(name, sizeof name, "%llu", (unsigned long long)ia);
  assert_string_equal(v, name);
  h_listener_get(hl, "ConnectionUID[987654]", v, sizeof v);
  assert_string_equal(v, "0");
  /* BytesSent is the last send; the totals add up both ways. */
  assert_int_equal(azr_conn_send_text(hl->l, ia, "1234567", 7), AZR_OK);
  azr_conn_info info;
  assert_int_equal(azr_conn_get_info(hl->l, ia, &info, sizeof info), AZR_OK);
  assert_int_equal(info.bytes_sent, 7);
  assert_int_equal(azr_conn_send_bytes(hl->l, ia, "abc", 3), AZR_OK);
  assert_int_equal(azr_conn_get_info(hl->l, ia, &info, sizeof info), AZR_OK);
  assert_int_equal(info.bytes_sent, 3);
  assert_int_equal(info.total_bytes_sent, 10);
  assert_int_equal(azr_client_send(a->c, AZR_DATA_BINARY, "0123456789abcdef", 16, true), AZR_OK);
  H_WAIT(w, hl->in.msgs == 1 && a->in.msgs == 2, 3000);
  assert_int_equal(azr_conn_get_info(hl->l, ia, &info, sizeof info), AZR_OK);
  assert_int_equal(info.total_bytes_received, 16);
  assert_int_equal(info.queued_bytes, 0);
  assert_int_equal(azr_conn_get_info(hl->l, ib, &info, sizeof info), AZR_OK);
  assert_int_equal(info.total_bytes_sent, 0);
  assert_int_equal(azr_client_close(b->c, 1000, ""), AZR_OK);
  H_WAIT(w, hl->n_conn_disc == 1, 3000);
  h_listener_get(hl, "AzureRelayConnectionCount", v, sizeof v);
  assert_string_equal(v, "1");
  snprintf(name, sizeof name, "ConnectionUID[%llu]", (unsigned long long)ib);
  h_listener_get(hl, name, v, sizeof v);
  assert_string_equal(v, "0");
}

static void test_buffer_message(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_start_online(hl);
  /* Fragment mode (default): one event per frame the sender sent. */
  struct h_client *a = h_client_new(w);
  h_connect_pair(hl, a);
  assert_int_equal(azr_client_send(a->c, AZR_DATA_TEXT, "aaa", 3, false), AZR_OK);
  assert_int_equal(azr_client_send(a->c, AZR_DATA_TEXT, "bbb", 3, false), AZR_OK);
  assert_int_equal(azr_client_send(a->c, AZR_DATA_TEXT, "ccc", 3, true), AZR_OK);
  H_WAIT(w, hl->in.msgs == 1, 3000);
  assert_int_equal(hl->in.n, 3);
  assert_int_equal(hl->in.ev[0].format, AZR_DATA_TEXT);
  assert_int_equal(hl->in.ev[1].format, AZR_DATA_AUTOMATIC);
  /* BufferMessage=true: one event per message. */
  h_listener_config(hl, "BufferMessage=true");
  h_data_reset(&hl->in);
  struct h_client *b = h_client_new(w);
  h_connect_pair(hl, b);
  assert_int_equal(azr_client_send(b->c, AZR_DATA_TEXT, "aaa", 3, false), AZR_OK);
  assert_int_equal(azr_client_send(b->c, AZR_DATA_TEXT, "bbb", 3, false), AZR_OK);
  assert_int_equal(azr_client_send(b->c, AZR_DATA_TEXT, "ccc", 3, true), AZR_OK);
  assert_int_equal(azr_client_send(b->c, AZR_DATA_BINARY, "dd", 2, true), AZR_OK);
  H_WAIT(w, hl->in.msgs == 2, 3000);
  assert_int_equal(hl->in.n, 2);
  assert_int_equal(hl->in.ev[0].format, AZR_DATA_TEXT);
  assert_int_equal(hl->in.ev[0].len, 9);
  assert_true(hl->in.ev[0].eom);
  assert_int_equal(hl->in.ev[1].format, AZR_DATA_BINARY);
  assert_memory_equal(hl->in.bytes, "aaabbbcccdd", 11);
}

static void test_max_message_size(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_config(hl, "MaxMessageSize=1024");
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  azr_conn_id id = h_connect_pair(hl, hc);
  unsigned char buf[2000];
  h_pattern(buf, sizeof buf, 0);
  assert_int_equal(azr_client_send(hc->c, AZR_DATA_BINARY, buf, 1024, true), AZR_OK); /* at the limit: fine */
  H_WAIT(w, hl->in.msgs == 1, 3000);
  assert_int_equal(azr_client_send(hc->c, AZR_DATA_BINARY, buf, sizeof buf, true), AZR_OK);
  H_WAIT(w, hl->n_conn_disc == 1 && hc->n_close == 1, 5000);
  assert_int_equal(hl->cd_id, id);
  assert_int_equal(hl->cd_code, 1009);
  assert_int_equal(hl->cd_error, AZR_E_TOO_BIG);
  assert_int_equal(hl->n_conn_error, 1);
  assert_int_equal(hl->ce_code, AZR_E_TOO_BIG);
  /* The sender is closed too, with the same 1009 (test_too_big_message_close_reaches_sender). */
  assert_false(azr_client_is_open(hc->c));
  assert_int_equal(hc->close_code, 1009);
  assert_int_equal(hl->in.msgs, 1);
}

/* FEATURES MaxMessageSize: "bigger ones close the connection with 1009", and the sender gets that
 * Close (the listener must let its Close frame out before dropping the connection, not reset it). */
static void test_too_big_message_close_reaches_sender(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  struct h_listener *hl = h_listener_new(w, true);
  h_listener_config(hl, "MaxMessageSize=1024");
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  h_connect_pair(hl, hc);
  static unsigned char buf[2000];
  assert_int_equal(azr_client_send(hc->c, AZR_DATA_BINARY, buf, sizeof buf, true), AZR_OK);
  H_WAIT(w, hl->n_conn_disc == 1 && hc->n_close == 1, 5000);
  assert_int_equal(hl->cd_code, 1009);
  assert_int_equal(hc->close_code, 1009);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_too_big_message_close_reaches_sender, teardown),
      cmocka_unit_test_teardown(test_data_formats, teardown),
      cmocka_unit_test_teardown(test_message_length, teardown),
      cmocka_unit_test_teardown(test_send_fragment, teardown),
      cmocka_unit_test_teardown(test_counters_uid_count, teardown),
      cmocka_unit_test_teardown(test_buffer_message, teardown),
      cmocka_unit_test_teardown(test_max_message_size, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
