/* SPDX-License-Identifier: MIT */
/* Fuzzes the WebSocket session: the input (after a first option byte) is fed, in pieces, to a server
 * session and to a client session. The option byte picks buffered or streaming delivery (bit 0),
 * UTF-8 validation (bit 1), automatic Pongs (bit 2), a message cap (bits 3-4), a small output cap
 * (bit 5) and the piece sizes (bits 6-7: whole, 1-3 bytes, 1-64 bytes). Callbacks check the event order; whatever a session writes must be accepted by a
 * session of the other role, and a failed session must have queued a Close with a fitting code. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "azrelay/common.h"
#include "proto/ws_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct watch {
  struct azr__ws_session s;
  bool in_message;
  bool closed;
  uint64_t message_bytes;
  uint8_t opcode;
};

static void w_begin(void *ud, uint8_t opcode) {
  struct watch *w = ud;
  if (w->in_message || w->closed || (opcode != AZR__WS_TEXT && opcode != AZR__WS_BINARY)) abort();
  w->in_message = true;
  w->opcode = opcode;
  w->message_bytes = 0;
}

static void w_data(void *ud, uint8_t *data, size_t len, bool frame_end, bool message_end) {
  struct watch *w = ud;
  if (!w->in_message || w->closed || (message_end && !frame_end) || (len && !data)) abort();
  w->message_bytes += len;
  if (w->s.cfg.buffer_messages && !(frame_end && message_end)) abort();
  if (w->s.cfg.max_message_size && w->message_bytes > w->s.cfg.max_message_size) abort();
  if (len) data[len - 1] ^= 0x5a; /* the buffer is writable */
  if (message_end) w->in_message = false;
}

static void w_control(void *ud, const uint8_t *payload, size_t len) {
  struct watch *w = ud;
  if (w->closed || len > 125 || (len && !payload)) abort();
}

static void w_close(void *ud, uint16_t code, const uint8_t *reason, size_t len) {
  struct watch *w = ud;
  if (w->closed || (code != 1005 && !azr__ws_close_code_valid(code)) || len > 123 || (len && !reason)) abort();
  w->closed = true;
}

static int w_mask(void *ud, uint8_t key[4]) {
  (void)ud;
  memcpy(key, "\x9c\x01\xe7\x42", 4);
  return 0;
}

static const struct azr__ws_session_callbacks watch_cb = {w_begin, w_data, w_control, w_control, w_close, w_mask};

static const uint64_t caps[] = {0, 16, 300, 70000};

static void init_watch(struct watch *w, uint8_t opt, bool is_client) {
  memset(w, 0, sizeof *w);
  struct azr__ws_session_config cfg = {
      .is_client = is_client,
      .buffer_messages = opt & 1,
      .validate_utf8 = (opt & 2) != 0,
      .auto_pong = (opt & 4) != 0,
      .max_message_size = caps[(opt >> 3) & 3],
      .out_cap = (opt & 0x20) ? 200 : 0,
  };
  if (azr__ws_session_init(&w->s, &cfg, &watch_cb, w, NULL) != AZR_OK) abort();
}

/* Feeds bytes in pieces whose sizes follow a small generator seeded by the option byte. */
static int feed(struct watch *w, uint8_t *bytes, size_t len, uint8_t opt) {
  uint32_t x = opt * 2654435761u + 1;
  size_t off = 0;
  int first = AZR_OK;
  while (off < len) {
    size_t n = len - off;
    if (opt & 0xc0) {
      x = x * 1103515245u + 12345u;
      size_t limit = (opt & 0x80) ? 64 : 3;
      n = 1 + (x >> 16) % limit;
      if (n > len - off) n = len - off;
    }
    int rc = azr__ws_session_recv(&w->s, bytes + off, n);
    if (rc != AZR_OK && first == AZR_OK) first = rc;
    if (rc != AZR_OK && rc != first) abort(); /* the failure is sticky */
    off += n;
  }
  return first;
}

static uint16_t expected_code(int status) {
  switch (status) {
  case AZR_E_PROTOCOL: return 1002;
  case AZR_E_UTF8: return 1007;
  case AZR_E_TOO_BIG: return 1009;
  case AZR_E_NOMEM: return 1011;
  default: abort();
  }
}

static void run_role(const uint8_t *data, size_t size, uint8_t opt, bool is_client) {
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) abort();
  if (size) memcpy(copy, data, size);
  struct watch w;
  init_watch(&w, opt, is_client);
  int rc = feed(&w, copy, size, opt);
  if (rc != AZR_OK) {
    if (w.s.error != rc || !w.s.error_text[0] || !w.s.close_sent) abort();
    if (w.s.close_code_sent != expected_code(rc)) abort();
  }
  if (w.s.close_received && !w.s.close_sent) abort();
  /* Sending after a failure or our Close is refused; otherwise a little traffic goes out. */
  int src = azr__ws_session_send_frame(&w.s, AZR__WS_TEXT, (const uint8_t *)"ok", 2, true);
  if (w.s.close_sent != (src == AZR_E_BAD_STATE)) abort();
  /* Whatever this endpoint wrote must be valid input for the other role, in the same mode. */
  struct watch peer;
  init_watch(&peer, (uint8_t)(opt & ~0x18), !is_client);
  if (w.s.out.len && feed(&peer, w.s.out.data, w.s.out.len, opt) != AZR_OK) abort();
  if (w.s.close_sent && !peer.closed) abort();
  azr__ws_session_free(&peer.s);
  azr__ws_session_free(&w.s);
  free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 200000) return 0;
  uint8_t opt = data[0];
  run_role(data + 1, size - 1, opt, false);
  run_role(data + 1, size - 1, opt, true);
  return 0;
}
