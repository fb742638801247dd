/* SPDX-License-Identifier: MIT */
/* WebSocket sessions: client and server talking through their output buffers (fed whole, byte by
 * byte and at every split point), fragmentation with interleaved control frames, buffered and
 * streaming delivery, protocol violations and their close codes, the close handshake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "azrelay/common.h"
#include "proto/ws_session.h"

/* ---- a recording endpoint ---- */

struct peer {
  struct azr__ws_session s;
  char log[32768]; /* one line per event, independent of how the input was split */
  size_t log_len;
  uint8_t *cur; /* message being assembled from pieces */
  size_t cur_len, cur_cap;
  uint8_t cur_op;
  bool in_message;
  int data_calls;
  const uint8_t *in_lo, *in_hi; /* the buffer being fed (streaming pieces must point into it) */
  uint32_t mask_counter;
};

static void logf_(struct peer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct peer *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(p->log + p->log_len, sizeof p->log - p->log_len, fmt, ap);
  va_end(ap);
  assert_true(n >= 0 && (size_t)n < sizeof p->log - p->log_len);
  p->log_len += (size_t)n;
}

static void on_begin(void *ud, uint8_t opcode) {
  struct peer *p = ud;
  assert_false(p->in_message);
  p->in_message = true;
  p->cur_op = opcode;
  p->cur_len = 0;
}

static void on_data(void *ud, uint8_t *data, size_t len, bool frame_end, bool message_end) {
  struct peer *p = ud;
  assert_true(p->in_message);
  assert_true(frame_end || !message_end);
  p->data_calls++;
  if (len && !p->s.cfg.buffer_messages) assert_true(data >= p->in_lo && data + len <= p->in_hi); /* zero-copy */
  if (p->cur_len + len > p->cur_cap) {
    p->cur_cap = (p->cur_len + len) * 2;
    p->cur = realloc(p->cur, p->cur_cap);
    assert_non_null(p->cur);
  }
  if (len) memcpy(p->cur + p->cur_len, data, len);
  p->cur_len += len;
  if (!message_end) return;
  p->in_message = false;
  if (p->cur_op == AZR__WS_TEXT && p->cur_len <= 64) {
    logf_(p, "text:%.*s\n", (int)p->cur_len, (const char *)p->cur);
  } else {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < p->cur_len; i++) h = (h ^ p->cur[i]) * 16777619u;
    logf_(p, "%s:%zu:%08x\n", p->cur_op == AZR__WS_TEXT ? "text" : "binary", p->cur_len, h);
  }
}

static void on_ping(void *ud, const uint8_t *payload, size_t len) {
  logf_(ud, "ping:%.*s\n", (int)len, (const char *)payload);
}

static void on_pong(void *ud, const uint8_t *payload, size_t len) {
  logf_(ud, "pong:%.*s\n", (int)len, (const char *)payload);
}

static void on_close(void *ud, uint16_t code, const uint8_t *reason, size_t len) {
  logf_(ud, "close:%u:%.*s\n", code, (int)len, (const char *)reason);
}

static int counting_mask(void *ud, uint8_t key[4]) {
  struct peer *p = ud;
  uint32_t v = ++p->mask_counter * 2654435761u;
  memcpy(key, &v, 4);
  return 0;
}

static const struct azr__ws_session_callbacks callbacks = {on_begin, on_data, on_ping, on_pong, on_close, counting_mask};

static struct azr__ws_session_config config(bool is_client, bool buffered) {
  struct azr__ws_session_config c = {.is_client = is_client, .buffer_messages = buffered, .validate_utf8 = true,
                                     .auto_pong = true};
  return c;
}

static void peer_init(struct peer *p, const struct azr__ws_session_config *cfg) {
  memset(p, 0, sizeof *p);
  assert_int_equal(azr__ws_session_init(&p->s, cfg, &callbacks, p, NULL), AZR_OK);
}

static void peer_free(struct peer *p) {
  azr__ws_session_free(&p->s);
  free(p->cur);
}

/* Feeds a copy of bytes (the session unmasks in place) as pieces: split == 0 whole, split == SIZE_MAX
 * one byte at a time, otherwise two pieces cut at `split`. Returns the first non-OK status. */
static int feed(struct peer *p, const uint8_t *bytes, size_t len, size_t split) {
  uint8_t *copy = malloc(len ? len : 1);
  assert_non_null(copy);
  if (len) memcpy(copy, bytes, len);
  p->in_lo = copy;
  p->in_hi = copy + len;
  int rc = AZR_OK;
  size_t off = 0;
  while (off < len || (len == 0 && off == 0)) {
    size_t n = split == 0 ? len - off : split == SIZE_MAX ? 1 : off == 0 ? split : len - off;
    if (n > len - off) n = len - off;
    int r = azr__ws_session_recv(&p->s, copy + off, n);
    if (r && !rc) rc = r;
    off += n;
    if (len == 0) break;
  }
  free(copy);
  return rc;
}

/* Takes what a session wrote (as the I/O layer would). */
static size_t drain(struct peer *p, uint8_t *out, size_t cap) {
  size_t n = p->s.out.len;
  assert_true(n <= cap);
  memcpy(out, p->s.out.data, n);
  azr__buf_reset(&p->s.out);
  return n;
}

/* Walks the frames in bytes; returns the number of frames and fills opcodes; *close_code gets the
 * code of a Close frame (1005 if empty, 0 if none). */
static size_t frames_in(const uint8_t *bytes, size_t len, uint8_t *opcodes, size_t max, uint16_t *close_code) {
  size_t count = 0, off = 0;
  if (close_code) *close_code = 0;
  while (off < len) {
    struct azr__ws_frame_header h;
    int n = azr__ws_frame_parse_header(bytes + off, len - off, 0, &h);
    assert_true(n > 0);
    off += (size_t)n;
    assert_true(h.payload_len <= len - off);
    if (count < max) opcodes[count] = h.opcode;
    count++;
    if (h.opcode == AZR__WS_CLOSE && close_code) {
      uint8_t payload[125];
      memcpy(payload, bytes + off, (size_t)h.payload_len);
      if (h.masked) azr__ws_mask(payload, (size_t)h.payload_len, h.mask, 0);
      *close_code = h.payload_len >= 2 ? (uint16_t)(payload[0] << 8 | payload[1]) : 1005;
    }
    off += (size_t)h.payload_len;
  }
  return count;
}

/* Builds one raw frame (what a peer could send, valid or not). */
static size_t raw_frame(uint8_t *out, uint8_t b0, bool masked, const void *payload, size_t len) {
  struct azr__ws_frame_header h = {.fin = (b0 & 0x80) != 0, .rsv = (uint8_t)((b0 >> 4) & 7),
                                   .opcode = (uint8_t)(b0 & 0x0f), .masked = masked,
                                   .mask = {0x12, 0x34, 0x56, 0x78}, .payload_len = len};
  size_t n = azr__ws_frame_write_header(out, &h);
  if (len) memcpy(out + n, payload, len);
  if (masked) azr__ws_mask(out + n, len, h.mask, 0);
  return n + len;
}

/* ---- conversations ---- */

/* A client's output for a script with text, a fragmented binary message with interleaved Ping and
 * Pong, an empty message, a 70000-byte message and a Close. */
static size_t client_script(uint8_t *out, size_t cap) {
  struct peer c;
  struct azr__ws_session_config cfg = config(true, false);
  peer_init(&c, &cfg);
  struct azr__ws_session *s = &c.s;
  assert_int_equal(azr__ws_session_send_frame(s, AZR__WS_TEXT, (const uint8_t *)"hello", 5, true), AZR_OK);
  assert_int_equal(azr__ws_session_send_frame(s, AZR__WS_BINARY, (const uint8_t *)"abc", 3, false), AZR_OK);
  assert_int_equal(azr__ws_session_send_ping(s, (const uint8_t *)"p1", 2), AZR_OK);
  assert_int_equal(azr__ws_session_send_frame(s, AZR__WS_TEXT /* ignored */, (const uint8_t *)"", 0, false), AZR_OK);
  assert_int_equal(azr__ws_session_send_pong(s, (const uint8_t *)"q", 1), AZR_OK);
  assert_int_equal(azr__ws_session_send_frame(s, 0, (const uint8_t *)"defg", 4, true), AZR_OK);
  assert_int_equal(azr__ws_session_send_frame(s, AZR__WS_TEXT, NULL, 0, true), AZR_OK);
  /* UTF-8 split across two frames: "é" = c3 a9. */
  assert_int_equal(azr__ws_session_send_frame(s, AZR__WS_TEXT, (const uint8_t *)"caf\xc3", 4, false), AZR_OK);
  assert_int_equal(azr__ws_session_send_frame(s, AZR__WS_TEXT, (const uint8_t *)"\xa9!", 2, true), AZR_OK);
  uint8_t *big = malloc(70000);
  assert_non_null(big);
  for (size_t i = 0; i < 70000; i++) big[i] = (uint8_t)(i * 7);
  assert_int_equal(azr__ws_session_send_frame(s, AZR__WS_BINARY, big, 70000, true), AZR_OK);
  free(big);
  assert_int_equal(azr__ws_session_send_close(s, 1000, "bye"), AZR_OK);
  assert_int_equal(azr__ws_session_send_frame(s, AZR__WS_TEXT, (const uint8_t *)"x", 1, true), AZR_E_BAD_STATE);
  assert_int_equal(azr__ws_session_send_ping(s, NULL, 0), AZR_E_BAD_STATE);
  assert_int_equal(azr__ws_session_send_close(s, 1000, NULL), AZR_E_BAD_STATE);
  size_t n = drain(&c, out, cap);
  peer_free(&c);
  return n;
}

static const char script_log[] = "text:hello\n"
                                 "ping:p1\n"
                                 "pong:q\n"
                                 "binary:7:",
                  script_log_tail[] = "text:\n"
                                      "text:caf\xc3\xa9!\n";

static void check_script_log(const struct peer *p) {
  assert_true(p->log_len > sizeof script_log);
  assert_memory_equal(p->log, script_log, sizeof script_log - 1);
  assert_non_null(strstr(p->log, script_log_tail));
  assert_non_null(strstr(p->log, "binary:70000:"));
  const char *end = "close:1000:bye\n";
  assert_true(p->log_len >= strlen(end));
  assert_string_equal(p->log + p->log_len - strlen(end), end);
}

static void test_client_to_server_every_split(void **state) {
  (void)state;
  size_t cap = 80000;
  uint8_t *wire = malloc(cap), *reply = malloc(cap);
  assert_non_null(wire);
  assert_non_null(reply);
  size_t len = client_script(wire, cap);
  uint8_t ops[32];
  assert_int_equal(frames_in(wire, len, ops, 32, NULL), 11);
  assert_int_equal(ops[1], AZR__WS_BINARY);
  assert_int_equal(ops[3], AZR__WS_CONTINUATION);
  assert_int_equal(ops[5], AZR__WS_CONTINUATION);
  static char first_log[32768];
  first_log[0] = 0;
  for (int buffered = 0; buffered <= 1; buffered++) {
    /* Whole, byte by byte, and split at every point of the part before the big frame and at a
     * sample of points inside it. */
    for (size_t i = 0;; i++) {
      size_t mode = i == 0 ? 0 : i == 1 ? SIZE_MAX : i < 200 ? i - 1 : 199 + (i - 200) * 997;
      if (mode != SIZE_MAX && mode >= len) break;
      if (mode == SIZE_MAX && buffered) continue; /* byte by byte once is enough */
      struct peer srv;
      struct azr__ws_session_config cfg = config(false, buffered);
      peer_init(&srv, &cfg);
      assert_int_equal(feed(&srv, wire, len, mode), AZR_OK);
      check_script_log(&srv);
      if (!first_log[0]) memcpy(first_log, srv.log, srv.log_len + 1);
      assert_string_equal(srv.log, first_log);
      assert_true(azr__ws_session_closed(&srv.s));
      assert_int_equal(srv.s.close_code_received, 1000);
      /* The server answered the Ping and echoed the Close, unmasked. */
      size_t rn = drain(&srv, reply, cap);
      uint16_t code;
      assert_int_equal(frames_in(reply, rn, ops, 32, &code), 2);
      assert_int_equal(ops[0], AZR__WS_PONG);
      assert_int_equal(ops[1], AZR__WS_CLOSE);
      assert_int_equal(code, 1000);
      assert_int_equal(reply[1] & 0x80, 0);
      if (buffered) assert_int_equal(srv.data_calls, 5);
      peer_free(&srv);
    }
  }
  free(wire);
  free(reply);
}

static void test_server_to_client_and_close_from_server(void **state) {
  (void)state;
  struct peer srv, cli;
  struct azr__ws_session_config scfg = config(false, false), ccfg = config(true, true);
  peer_init(&srv, &scfg);
  assert_int_equal(azr__ws_session_send_frame(&srv.s, AZR__WS_TEXT, (const uint8_t *)"to client", 9, true), AZR_OK);
  assert_int_equal(azr__ws_session_send_ping(&srv.s, (const uint8_t *)"hb", 2), AZR_OK);
  assert_int_equal(azr__ws_session_send_close(&srv.s, 4001, "server done"), AZR_OK);
  assert_int_equal(srv.s.close_code_sent, 4001);
  uint8_t wire[256], back[256];
  size_t len = drain(&srv, wire, sizeof wire);
  assert_int_equal(wire[1] & 0x80, 0); /* servers do not mask */
  for (size_t split = 0; split <= len; split++) {
    peer_init(&cli, &ccfg);
    assert_int_equal(feed(&cli, wire, len, split), AZR_OK);
    assert_string_equal(cli.log, "text:to client\nping:hb\nclose:4001:server done\n");
    assert_true(azr__ws_session_closed(&cli.s));
    size_t bn = drain(&cli, back, sizeof back);
    uint8_t ops[4];
    uint16_t code;
    assert_int_equal(frames_in(back, bn, ops, 4, &code), 2);
    assert_int_equal(ops[0], AZR__WS_PONG);
    assert_int_equal(code, 4001);
    assert_int_equal(back[1] & 0x80, 0x80); /* clients mask */
    if (split == 0) {
      /* The server reads the echo and the pong; the handshake is complete on both sides. */
      assert_int_equal(feed(&srv, back, bn, 0), AZR_OK);
      assert_string_equal(srv.log, "pong:hb\nclose:4001:\n");
      assert_true(azr__ws_session_closed(&srv.s));
      assert_int_equal(srv.s.out.len, 0); /* no second Close */
    }
    peer_free(&cli);
  }
  peer_free(&srv);
}

/* defer_close_reply: a received Close is not answered by the session; the owner still sends data,
 * then its own Close, which completes the handshake (a half-close). */
static void test_deferred_close_reply(void **state) {
  (void)state;
  struct peer srv, cli;
  struct azr__ws_session_config scfg = config(false, false), ccfg = config(true, false);
  scfg.defer_close_reply = true;
  peer_init(&srv, &scfg);
  peer_init(&cli, &ccfg);
  assert_int_equal(azr__ws_session_send_close(&cli.s, 1000, "Shutdown"), AZR_OK);
  uint8_t wire[256], back[256];
  size_t len = drain(&cli, wire, sizeof wire);
  assert_int_equal(feed(&srv, wire, len, 0), AZR_OK);
  assert_string_equal(srv.log, "close:1000:Shutdown\n");
  assert_int_equal(srv.s.out.len, 0); /* no automatic answer */
  assert_false(azr__ws_session_closed(&srv.s));
  assert_int_equal(azr__ws_session_send_frame(&srv.s, AZR__WS_BINARY, (const uint8_t *)"answer", 6, true), AZR_OK);
  assert_int_equal(azr__ws_session_send_close(&srv.s, 1000, NULL), AZR_OK);
  assert_true(azr__ws_session_closed(&srv.s));
  size_t bn = drain(&srv, back, sizeof back);
  assert_int_equal(feed(&cli, back, bn, 0), AZR_OK);
  assert_true(strncmp(cli.log, "binary:6:", 9) == 0);
  assert_non_null(strstr(cli.log, "\nclose:1000:\n"));
  assert_true(azr__ws_session_closed(&cli.s));
  assert_int_equal(cli.s.out.len, 0); /* it had sent its Close already */
  peer_free(&srv);
  peer_free(&cli);
}

static void test_streaming_pieces_point_into_input(void **state) {
  (void)state;
  struct peer cli, srv;
  struct azr__ws_session_config ccfg = config(true, false), scfg = config(false, false);
  peer_init(&cli, &ccfg);
  peer_init(&srv, &scfg);
  uint8_t payload[1000];
  for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)i;
  assert_int_equal(azr__ws_session_send_frame(&cli.s, AZR__WS_BINARY, payload, 600, false), AZR_OK);
  assert_int_equal(azr__ws_session_send_frame(&cli.s, AZR__WS_BINARY, payload + 600, 400, true), AZR_OK);
  uint8_t wire[1100];
  size_t len = drain(&cli, wire, sizeof wire);
  /* Three pieces: the first frame arrives in two, the second in one. */
  uint8_t *copy = malloc(len);
  memcpy(copy, wire, len);
  srv.in_lo = copy;
  srv.in_hi = copy + len;
  assert_int_equal(azr__ws_session_recv(&srv.s, copy, 300), AZR_OK);
  assert_int_equal(azr__ws_session_recv(&srv.s, copy + 300, len - 300), AZR_OK);
  assert_int_equal(srv.data_calls, 3);
  assert_int_equal(srv.cur_len, 1000);
  assert_memory_equal(srv.cur, payload, 1000);
  /* The payload was unmasked in place, right after each header. */
  assert_memory_equal(copy + 8, payload, 292);
  free(copy);
  peer_free(&cli);
  peer_free(&srv);
}

/* One violation fed to a fresh endpoint: the status, the close code in its output, and silence
 * afterwards. */
static void expect_violation(bool is_client, bool buffered, uint64_t max_message, const uint8_t *bytes, size_t len,
                             int status, uint16_t code) {
  for (size_t split = 0; split <= len; split++) {
    struct peer p;
    struct azr__ws_session_config cfg = config(is_client, buffered);
    cfg.max_message_size = max_message;
    peer_init(&p, &cfg);
    assert_int_equal(feed(&p, bytes, len, split), status);
    assert_int_equal(p.s.error, status);
    assert_true(p.s.error_text[0] != 0);
    assert_true(p.s.close_sent);
    assert_int_equal(p.s.close_code_sent, code);
    uint8_t ops[8];
    uint16_t sent;
    assert_int_equal(frames_in(p.s.out.data, p.s.out.len, ops, 8, &sent), 1);
    assert_int_equal(sent, code);
    /* Later input is ignored: no events, no more output. */
    size_t log_len = p.log_len, out_len = p.s.out.len;
    uint8_t ping[16];
    size_t pn = raw_frame(ping, 0x89, !is_client, "x", 1);
    assert_int_equal(azr__ws_session_recv(&p.s, ping, pn), status);
    assert_int_equal(p.log_len, log_len);
    assert_int_equal(p.s.out.len, out_len);
    assert_int_equal(azr__ws_session_send_frame(&p.s, AZR__WS_TEXT, (const uint8_t *)"x", 1, true),
                     AZR_E_BAD_STATE);
    peer_free(&p);
  }
}

static void test_protocol_violations(void **state) {
  (void)state;
  uint8_t b[400];
  size_t n;
  /* Masking direction (§5.1). */
  n = raw_frame(b, 0x81, false, "hi", 2);
  expect_violation(false, false, 0, b, n, AZR_E_PROTOCOL, 1002);
  n = raw_frame(b, 0x81, true, "hi", 2);
  expect_violation(true, false, 0, b, n, AZR_E_PROTOCOL, 1002);
  /* RSV bits, reserved opcodes, non-minimal length. */
  n = raw_frame(b, 0xc1, true, "hi", 2);
  expect_violation(false, false, 0, b, n, AZR_E_PROTOCOL, 1002);
  n = raw_frame(b, 0x83, true, "hi", 2);
  expect_violation(false, true, 0, b, n, AZR_E_PROTOCOL, 1002);
  n = raw_frame(b, 0x8b, true, NULL, 0);
  expect_violation(false, true, 0, b, n, AZR_E_PROTOCOL, 1002);
  expect_violation(true, false, 0, (const uint8_t *)"\x82\x7e\x00\x05hello", 9, AZR_E_PROTOCOL, 1002);
  /* Fragmentation (§5.4). */
  n = raw_frame(b, 0x80, true, "cont", 4);
  expect_violation(false, false, 0, b, n, AZR_E_PROTOCOL, 1002);
  n = raw_frame(b, 0x01, true, "a", 1);
  n += raw_frame(b + n, 0x81, true, "b", 1);
  expect_violation(false, true, 0, b, n, AZR_E_PROTOCOL, 1002);
  n = raw_frame(b, 0x02, true, "a", 1);
  n += raw_frame(b + n, 0x82, true, "b", 1);
  expect_violation(false, false, 0, b, n, AZR_E_PROTOCOL, 1002);
  /* Control frames: fragmented, or payload over 125. */
  n = raw_frame(b, 0x09, true, "p", 1);
  expect_violation(false, false, 0, b, n, AZR_E_PROTOCOL, 1002);
  memset(b + 200, 'x', 126);
  n = raw_frame(b, 0x89, true, b + 200, 126);
  expect_violation(false, false, 0, b, n, AZR_E_PROTOCOL, 1002);
  /* Close payloads: one byte, forbidden codes, reason not UTF-8. */
  n = raw_frame(b, 0x88, true, "\x03", 1);
  expect_violation(false, false, 0, b, n, AZR_E_PROTOCOL, 1002);
  static const char *bad_codes[] = {"\x03\xed", "\x03\xee", "\x03\xe7", "\x03\xf8", "\x13\x88", "\x00\x00"};
  for (size_t i = 0; i < sizeof bad_codes / sizeof bad_codes[0]; i++) {
    n = raw_frame(b, 0x88, true, bad_codes[i], 2);
    expect_violation(false, false, 0, b, n, AZR_E_PROTOCOL, 1002);
  }
  n = raw_frame(b, 0x88, false, "\x03\xe8\xc0\xaf", 4);
  expect_violation(true, false, 0, b, n, AZR_E_PROTOCOL, 1002);
  /* Text that is not UTF-8: at once, across frames, and cut at the end of the message. */
  n = raw_frame(b, 0x81, true, "ok\xff", 3);
  expect_violation(false, false, 0, b, n, AZR_E_UTF8, 1007);
  n = raw_frame(b, 0x01, true, "\xe2\x82", 2);
  n += raw_frame(b + n, 0x80, true, "x", 1);
  expect_violation(false, true, 0, b, n, AZR_E_UTF8, 1007);
  n = raw_frame(b, 0x01, true, "a", 1);
  n += raw_frame(b + n, 0x80, true, "\xf0\x9f\x98", 3);
  expect_violation(false, false, 0, b, n, AZR_E_UTF8, 1007);
  /* Too big: buffered and streaming caps, single frame and across fragments. */
  memset(b + 200, 'y', 150);
  n = raw_frame(b, 0x82, true, b + 200, 101);
  expect_violation(false, true, 100, b, n, AZR_E_TOO_BIG, 1009);
  n = raw_frame(b, 0x02, true, b + 200, 60);
  n += raw_frame(b + n, 0x80, true, b + 200, 41);
  expect_violation(false, false, 100, b, n, AZR_E_TOO_BIG, 1009);
  /* The cap is refused from the header alone, before any payload. */
  expect_violation(true, true, 1000, (const uint8_t *)"\x82\x7f\x00\x00\x00\x01\x00\x00\x00\x00", 10, AZR_E_TOO_BIG,
                   1009);
}

static void test_limits_are_inclusive_and_utf8_optional(void **state) {
  (void)state;
  uint8_t b[300];
  memset(b + 150, 'z', 100);
  size_t n = raw_frame(b, 0x02, true, b + 150, 60);
  n += raw_frame(b + n, 0x89, true, "mid", 3);
  n += raw_frame(b + n, 0x80, true, b + 150, 40);
  for (int buffered = 0; buffered <= 1; buffered++) {
    struct peer p;
    struct azr__ws_session_config cfg = config(false, buffered);
    cfg.max_message_size = 100;
    peer_init(&p, &cfg);
    assert_int_equal(feed(&p, b, n, 0), AZR_OK);
    assert_non_null(strstr(p.log, "ping:mid\nbinary:100:"));
    peer_free(&p);
  }
  struct peer p;
  struct azr__ws_session_config cfg = config(false, true);
  cfg.validate_utf8 = false;
  peer_init(&p, &cfg);
  n = raw_frame(b, 0x81, true, "\xff\xfe", 2);
  assert_int_equal(feed(&p, b, n, 0), AZR_OK);
  assert_int_equal(p.cur_len, 2);
  peer_free(&p);
}

static void test_ping_pong_and_auto_pong_off(void **state) {
  (void)state;
  uint8_t b[64];
  size_t n = raw_frame(b, 0x89, true, "payload", 7);
  n += raw_frame(b + n, 0x8a, true, "unsolicited", 11);
  struct peer p;
  struct azr__ws_session_config cfg = config(false, false);
  peer_init(&p, &cfg);
  assert_int_equal(feed(&p, b, n, SIZE_MAX), AZR_OK);
  assert_string_equal(p.log, "ping:payload\npong:unsolicited\n");
  assert_int_equal(p.s.out.len, 9);
  assert_memory_equal(p.s.out.data, "\x8a\x07payload", 9);
  peer_free(&p);
  cfg.auto_pong = false;
  peer_init(&p, &cfg);
  assert_int_equal(feed(&p, b, n, 0), AZR_OK);
  assert_string_equal(p.log, "ping:payload\npong:unsolicited\n");
  assert_int_equal(p.s.out.len, 0);
  assert_int_equal(azr__ws_session_send_pong(&p.s, (const uint8_t *)"payload", 7), AZR_OK);
  uint8_t big[200] = {0};
  assert_int_equal(azr__ws_session_send_ping(&p.s, big, 126), AZR_E_INVALID_ARG);
  peer_free(&p);
}

static void test_empty_close_and_bytes_after_close(void **state) {
  (void)state;
  uint8_t b[64];
  size_t n = raw_frame(b, 0x88, true, NULL, 0);
  n += raw_frame(b + n, 0x81, true, "late", 4);
  n += raw_frame(b + n, 0x81, false, "garbage-unmasked", 16);
  for (size_t split = 0; split <= n; split++) {
    struct peer p;
    struct azr__ws_session_config cfg = config(false, false);
    peer_init(&p, &cfg);
    assert_int_equal(feed(&p, b, n, split), AZR_OK);
    assert_string_equal(p.log, "close:1005:\n");
    assert_int_equal(p.s.close_code_received, 1005);
    /* The echo of an empty Close is empty. */
    assert_int_equal(p.s.out.len, 2);
    assert_memory_equal(p.s.out.data, "\x88\x00", 2);
    assert_true(azr__ws_session_closed(&p.s));
    peer_free(&p);
  }
}

static void test_close_while_peer_keeps_sending(void **state) {
  (void)state;
  /* We close first; data the peer sends before answering is still delivered (half close). */
  struct peer p;
  struct azr__ws_session_config cfg = config(false, true);
  peer_init(&p, &cfg);
  assert_int_equal(azr__ws_session_send_close(&p.s, 1001, "going"), AZR_OK);
  assert_false(azr__ws_session_closed(&p.s));
  uint8_t b[64];
  size_t n = raw_frame(b, 0x81, true, "still here", 10);
  n += raw_frame(b + n, 0x89, true, "p", 1);
  n += raw_frame(b + n, 0x88, true, "\x03\xe9", 2);
  size_t out_before = p.s.out.len;
  assert_int_equal(feed(&p, b, n, 0), AZR_OK);
  assert_string_equal(p.log, "text:still here\nping:p\nclose:1001:\n");
  assert_int_equal(p.s.out.len, out_before); /* no Pong and no second Close after ours */
  assert_true(azr__ws_session_closed(&p.s));
  peer_free(&p);
}

static void test_send_close_arguments(void **state) {
  (void)state;
  struct peer p;
  struct azr__ws_session_config cfg = config(false, false);
  peer_init(&p, &cfg);
  assert_int_equal(azr__ws_session_send_close(&p.s, 1006, "x"), AZR_E_INVALID_ARG);
  assert_int_equal(azr__ws_session_send_close(&p.s, 999, NULL), AZR_E_INVALID_ARG);
  assert_int_equal(azr__ws_session_send_frame(&p.s, AZR__WS_PING, (const uint8_t *)"x", 1, true),
                   AZR_E_INVALID_ARG);
  assert_int_equal(azr__ws_session_send_frame(&p.s, AZR__WS_CONTINUATION, (const uint8_t *)"x", 1, true),
                   AZR_E_INVALID_ARG);
  assert_int_equal(p.s.out.len, 0);
  assert_int_equal(azr__ws_session_send_close(&p.s, 0, "ignored"), AZR_OK);
  assert_int_equal(p.s.close_code_sent, 1005);
  assert_memory_equal(p.s.out.data, "\x88\x00", 2);
  peer_free(&p);
}

static void test_out_cap(void **state) {
  (void)state;
  struct peer p;
  struct azr__ws_session_config cfg = config(false, false);
  cfg.out_cap = 100;
  peer_init(&p, &cfg);
  uint8_t data[300] = {0};
  /* An empty buffer takes any frame; then data frames wait for room. */
  assert_int_equal(azr__ws_session_send_frame(&p.s, AZR__WS_BINARY, data, 200, false), AZR_OK);
  assert_int_equal(azr__ws_session_send_frame(&p.s, AZR__WS_BINARY, data, 1, true), AZR_E_WOULDBLOCK);
  assert_int_equal(p.s.out.len, 204);
  assert_int_equal(p.s.send_opcode, AZR__WS_BINARY); /* the failed frame changed nothing */
  azr__buf_reset(&p.s.out);
  assert_int_equal(azr__ws_session_send_frame(&p.s, AZR__WS_BINARY, data, 50, false), AZR_OK);
  assert_int_equal(azr__ws_session_send_frame(&p.s, AZR__WS_BINARY, data, 46, false), AZR_OK);
  assert_int_equal(p.s.out.len, 100);
  assert_int_equal(azr__ws_session_send_frame(&p.s, AZR__WS_BINARY, data, 0, true), AZR_E_WOULDBLOCK);
  /* Control frames still fit, up to cap + 4 KiB; automatic Pongs beyond that are dropped. */
  assert_int_equal(azr__ws_session_send_ping(&p.s, data, 125), AZR_OK);
  uint8_t ping[200];
  size_t pn = raw_frame(ping, 0x89, true, "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789"
                                          "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz",
                        125);
  int pongs = 0;
  for (int i = 0; i < 100; i++) {
    size_t before = p.s.out.len;
    assert_int_equal(feed(&p, ping, pn, 0), AZR_OK);
    if (p.s.out.len > before) pongs++;
  }
  assert_true(pongs > 20 && pongs < 40);
  assert_true(p.s.out.len <= 100 + 4096);
  assert_int_equal(azr__ws_session_send_pong(&p.s, data, 125), AZR_E_WOULDBLOCK);
  /* Our Close is never refused. */
  assert_int_equal(azr__ws_session_send_close(&p.s, 1000, NULL), AZR_OK);
  peer_free(&p);
}

static int fixed_mask(void *ud, uint8_t key[4]) {
  (void)ud;
  memcpy(key, "\x01\x02\x03\x04", 4);
  return 0;
}

static void test_client_masking(void **state) {
  (void)state;
  /* With the default generator every frame gets its own key. */
  struct azr__ws_session s;
  struct azr__ws_session_config cfg = config(true, false);
  assert_int_equal(azr__ws_session_init(&s, &cfg, NULL, NULL, NULL), AZR_OK);
  uint8_t masks[40][4];
  for (int i = 0; i < 40; i++) {
    azr__buf_reset(&s.out);
    assert_int_equal(azr__ws_session_send_frame(&s, AZR__WS_BINARY, (const uint8_t *)"abcd", 4, true), AZR_OK);
    struct azr__ws_frame_header h;
    assert_int_equal(azr__ws_frame_parse_header(s.out.data, s.out.len, 0, &h), 6);
    assert_true(h.masked);
    memcpy(masks[i], h.mask, 4);
    uint8_t plain[4];
    memcpy(plain, s.out.data + 6, 4);
    azr__ws_mask(plain, 4, h.mask, 0);
    assert_memory_equal(plain, "abcd", 4);
  }
  int same = 0;
  for (int i = 1; i < 40; i++) same += memcmp(masks[i], masks[i - 1], 4) == 0;
  assert_true(same < 2);
  azr__ws_session_free(&s);
  /* An injected generator gives reproducible bytes. */
  struct azr__ws_session_callbacks cb = {.genmask = fixed_mask};
  assert_int_equal(azr__ws_session_init(&s, &cfg, &cb, NULL, NULL), AZR_OK);
  assert_int_equal(azr__ws_session_send_frame(&s, AZR__WS_TEXT, (const uint8_t *)"Hello", 5, true), AZR_OK);
  assert_int_equal(s.out.len, 11);
  assert_memory_equal(s.out.data, "\x81\x85\x01\x02\x03\x04" "Igohn", 11);
  azr__ws_session_free(&s);
}

/* Sends from inside a callback (an echo endpoint) land in out after the event. */
static void echo_data(void *ud, uint8_t *data, size_t len, bool frame_end, bool message_end) {
  struct peer *p = ud;
  (void)frame_end;
  assert_int_equal(azr__ws_session_send_frame(&p->s, AZR__WS_BINARY, data, len, message_end), AZR_OK);
}

static void test_echo_from_callback(void **state) {
  (void)state;
  struct peer p;
  memset(&p, 0, sizeof p);
  struct azr__ws_session_config cfg = config(false, false);
  struct azr__ws_session_callbacks cb = {.on_message_data = echo_data};
  assert_int_equal(azr__ws_session_init(&p.s, &cfg, &cb, &p, NULL), AZR_OK);
  uint8_t b[64];
  size_t n = raw_frame(b, 0x02, true, "ab", 2);
  n += raw_frame(b + n, 0x80, true, "cd", 2);
  assert_int_equal(azr__ws_session_recv(&p.s, b, n), AZR_OK);
  assert_int_equal(p.s.out.len, 8);
  assert_memory_equal(p.s.out.data, "\x02\x02" "ab" "\x80\x02" "cd", 8);
  azr__ws_session_free(&p.s);
}

/* An allocator that counts calls, to prove the streaming path allocates nothing per frame. */
static size_t alloc_calls;
static void *count_malloc(size_t n, void *ud) {
  (void)ud;
  alloc_calls++;
  return malloc(n);
}
static void *count_realloc(void *p, size_t n, void *ud) {
  (void)ud;
  alloc_calls++;
  return realloc(p, n);
}
static void count_free(void *p, void *ud) {
  (void)ud;
  free(p);
}

static void test_streaming_allocates_nothing_per_frame(void **state) {
  (void)state;
  const struct azr__mem mem = {count_malloc, count_realloc, count_free, NULL};
  uint8_t *wire = malloc(20000);
  assert_non_null(wire);
  size_t n = 0;
  for (int i = 0; i < 100; i++) {
    uint8_t payload[100];
    memset(payload, 'a' + i % 26, sizeof payload);
    n += raw_frame(wire + n, i % 3 == 0 ? 0x01 : i % 3 == 1 ? 0x00 : 0x80, true, payload, sizeof payload);
    n += raw_frame(wire + n, 0x89, true, payload, 10);
  }
  n += raw_frame(wire + n, 0x88, true, "\x03\xe8", 2);
  for (int client = 0; client <= 1; client++) {
    struct peer p;
    memset(&p, 0, sizeof p);
    struct azr__ws_session_config cfg = config(client, false);
    assert_int_equal(azr__ws_session_init(&p.s, &cfg, &callbacks, &p, &mem), AZR_OK);
    if (client) {
      /* The client sends: drawing masking keys from the CSPRNG pool allocates nothing either. */
      p.s.cb.genmask = NULL;
      assert_int_equal(azr__ws_session_send_frame(&p.s, AZR__WS_BINARY, wire, 100, true), AZR_OK);
      azr__buf_reset(&p.s.out);
      alloc_calls = 0;
      for (int i = 0; i < 100; i++) {
        assert_int_equal(azr__ws_session_send_frame(&p.s, AZR__WS_BINARY, wire, 100, true), AZR_OK);
        azr__buf_reset(&p.s.out);
      }
      assert_int_equal(alloc_calls, 0);
    } else {
      /* Warm up out (the Pongs need room once), then a whole conversation allocates nothing. */
      assert_int_equal(azr__buf_reserve(&p.s.out, 4096), AZR_OK);
      alloc_calls = 0;
      uint8_t *copy = malloc(n);
      memcpy(copy, wire, n);
      p.in_lo = copy;
      p.in_hi = copy + n;
      assert_int_equal(azr__ws_session_recv(&p.s, copy, n), AZR_OK);
      assert_int_equal(alloc_calls, 0);
      assert_true(azr__ws_session_closed(&p.s));
      free(copy);
    }
    azr__ws_session_free(&p.s);
    free(p.cur);
  }
  free(wire);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_to_server_every_split),
      cmocka_unit_test(test_server_to_client_and_close_from_server),
      cmocka_unit_test(test_streaming_pieces_point_into_input),
      cmocka_unit_test(test_protocol_violations),
      cmocka_unit_test(test_limits_are_inclusive_and_utf8_optional),
      cmocka_unit_test(test_ping_pong_and_auto_pong_off),
      cmocka_unit_test(test_empty_close_and_bytes_after_close),
      cmocka_unit_test(test_close_while_peer_keeps_sending),
      cmocka_unit_test(test_send_close_arguments),
      cmocka_unit_test(test_out_cap),
      cmocka_unit_test(test_client_masking),
      cmocka_unit_test(test_echo_from_callback),
      cmocka_unit_test(test_streaming_allocates_nothing_per_frame),
      cmocka_unit_test(test_deferred_close_reply),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
