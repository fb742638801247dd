/* SPDX-License-Identifier: MIT */
/* RFC 6455 endpoint state machine: frame headers read across any input split, payload delivered in
 * place (streaming) or assembled (buffered), control frames answered, violations turned into Close
 * frames with the code §7.4.1 names. */
#include "proto/ws_session.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "azrelay/common.h"
#include "util/crypto.h"

/* Room above out_cap kept for control frames, so a Pong or Close never waits behind data. */
#define CONTROL_SLACK 4096u
/* Automatic Pongs stop being queued past this much unsent output when no out_cap is configured. */
#define PONG_BACKLOG (1024u * 1024u)
/* Most a frame header makes a buffered session allocate before the payload arrives. */
#define PREALLOCATE_MAX (1024u * 1024u)

static uint64_t message_limit(const struct azr__ws_session *s) {
  if (s->cfg.max_message_size) return s->cfg.max_message_size;
  return s->cfg.buffer_messages ? AZR__WS_DEFAULT_MAX_BUFFERED : 0;
}

int azr__ws_session_init(struct azr__ws_session *s, const struct azr__ws_session_config *cfg,
                         const struct azr__ws_session_callbacks *cb, void *ud, const struct azr__mem *mem) {
  if (!s || !cfg) return AZR_E_INVALID_ARG;
  memset(s, 0, sizeof *s);
  s->cfg = *cfg;
  if (cb) s->cb = *cb;
  s->ud = ud;
  s->mem = mem ? mem : azr__mem_default();
  /* out is capped by the checks in this file (data frames at out_cap, control frames a little
   * above it), not by the buffer, because one frame may exceed the cap when out is empty. */
  azr__buf_init(&s->out, s->mem, 0);
  uint64_t limit = message_limit(s);
  azr__buf_init(&s->msg, s->mem, limit && limit < SIZE_MAX / 2 ? (size_t)limit : 0);
  s->utf8 = (struct azr__utf8)AZR__UTF8_INIT;
  return AZR_OK;
}

void azr__ws_session_free(struct azr__ws_session *s) {
  if (!s) return;
  azr__buf_free(&s->out);
  azr__buf_free(&s->msg);
}

bool azr__ws_session_closed(const struct azr__ws_session *s) { return s->close_sent && s->close_received; }

/* ---- output ---- */

static int next_mask(struct azr__ws_session *s, uint8_t key[4]) {
  if (s->cb.genmask) return s->cb.genmask(s->ud, key) == 0 ? AZR_OK : AZR_E_IO;
  /* One CSPRNG call serves sixteen frames; keys stay unpredictable to the peer (§10.3). */
  if (s->mask_pool_left < 4) {
    if (azr__random_bytes(s->mask_pool, sizeof s->mask_pool) != 0) return AZR_E_IO;
    s->mask_pool_left = sizeof s->mask_pool;
  }
  memcpy(key, s->mask_pool + sizeof s->mask_pool - s->mask_pool_left, 4);
  s->mask_pool_left -= 4;
  return AZR_OK;
}

static size_t header_len_for(const struct azr__ws_session *s, size_t len) {
  size_t n = len < 126 ? 2 : len <= 0xffff ? 4 : 10;
  return n + (s->cfg.is_client ? 4u : 0u);
}

/* Appends one whole frame to out; clients mask the payload while copying it. */
static int put_frame(struct azr__ws_session *s, uint8_t opcode, bool fin, const uint8_t *payload, size_t len) {
  struct azr__ws_frame_header h = {.fin = fin, .opcode = opcode, .masked = s->cfg.is_client, .payload_len = len};
  if (h.masked) {
    int rc = next_mask(s, h.mask);
    if (rc) return rc;
  }
  uint8_t hdr[AZR__WS_MAX_HEADER];
  size_t hl = azr__ws_frame_write_header(hdr, &h);
  if (len > SIZE_MAX / 2 - hl) return AZR_E_TOO_BIG;
  int rc = azr__buf_reserve(&s->out, hl + len);
  if (rc) return rc;
  uint8_t *dst = s->out.data + s->out.len;
  memcpy(dst, hdr, hl);
  if (len) {
    if (h.masked) azr__ws_mask_copy(dst + hl, payload, len, h.mask, 0);
    else memcpy(dst + hl, payload, len);
  }
  s->out.len += hl + len;
  s->out.data[s->out.len] = 0;
  return AZR_OK;
}

static bool control_fits(const struct azr__ws_session *s, size_t limit, size_t len) {
  size_t add = header_len_for(s, len) + len;
  return s->out.len <= limit + CONTROL_SLACK && add <= limit + CONTROL_SLACK - s->out.len;
}

static int put_close(struct azr__ws_session *s, uint16_t code, const char *reason) {
  uint8_t payload[125];
  size_t n = azr__ws_close_payload_write(payload, code, reason);
  int rc = put_frame(s, AZR__WS_CLOSE, true, payload, n);
  /* Even if the frame could not be queued (out of memory) nothing else may follow a Close. */
  s->close_sent = true;
  s->close_code_sent = code ? code : 1005;
  return rc;
}

int azr__ws_session_send_frame(struct azr__ws_session *s, uint8_t opcode, const uint8_t *data, size_t len,
                               bool fin) {
  if (s->close_sent || s->error) return AZR_E_BAD_STATE;
  if (len && !data) return AZR_E_INVALID_ARG;
  uint8_t wire_op;
  if (s->send_opcode) {
    wire_op = AZR__WS_CONTINUATION;
  } else {
    if (opcode != AZR__WS_TEXT && opcode != AZR__WS_BINARY) return AZR_E_INVALID_ARG;
    wire_op = opcode;
  }
  if (s->cfg.out_cap && s->out.len && (s->out.len >= s->cfg.out_cap ||
                                       header_len_for(s, len) + len > s->cfg.out_cap - s->out.len))
    return AZR_E_WOULDBLOCK;
  int rc = put_frame(s, wire_op, fin, data, len);
  if (rc) return rc;
  s->send_opcode = fin ? 0 : (s->send_opcode ? s->send_opcode : opcode);
  return AZR_OK;
}

static int send_control(struct azr__ws_session *s, uint8_t opcode, const uint8_t *payload, size_t len) {
  if (s->close_sent || s->error) return AZR_E_BAD_STATE;
  if (len > 125 || (len && !payload)) return AZR_E_INVALID_ARG;
  if (!control_fits(s, s->cfg.out_cap ? s->cfg.out_cap : SIZE_MAX / 4, len)) return AZR_E_WOULDBLOCK;
  return put_frame(s, opcode, true, payload, len);
}

int azr__ws_session_send_ping(struct azr__ws_session *s, const uint8_t *payload, size_t len) {
  return send_control(s, AZR__WS_PING, payload, len);
}

int azr__ws_session_send_pong(struct azr__ws_session *s, const uint8_t *payload, size_t len) {
  return send_control(s, AZR__WS_PONG, payload, len);
}

int azr__ws_session_send_close(struct azr__ws_session *s, uint16_t code, const char *reason) {
  if (s->close_sent) return AZR_E_BAD_STATE;
  if (code != 0 && code != 1005 && !azr__ws_close_code_valid(code)) return AZR_E_INVALID_ARG;
  return put_close(s, code, reason);
}

/* ---- input ---- */

/* Records a violation, queues our Close with `code` (unless one went out already) and returns
 * status; the session ignores input from now on. */
static int fail(struct azr__ws_session *s, int status, uint16_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct azr__ws_session *s, int status, uint16_t code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->error_text, sizeof s->error_text, fmt, ap);
  va_end(ap);
  s->error = status;
  if (!s->close_sent) (void)put_close(s, code, s->error_text);
  return status;
}

/* Why azr__ws_frame_parse_header refused the header in hdr (for the error text). */
static const char *header_problem(const uint8_t *hdr) {
  uint8_t op = hdr[0] & 0x0f, len7 = hdr[1] & 0x7f;
  if (hdr[0] & 0x70) return "reserved bits set without an extension";
  if (op > AZR__WS_BINARY && op != AZR__WS_CLOSE && op != AZR__WS_PING && op != AZR__WS_PONG)
    return "reserved opcode";
  if (azr__ws_is_control(op) && !(hdr[0] & 0x80)) return "fragmented control frame";
  if (azr__ws_is_control(op) && len7 > 125) return "control frame payload over 125 bytes";
  return "payload length not minimally encoded";
}

/* Collects header bytes (at most 14 are copied per frame); *used tells how many of data were
 * consumed and *complete whether s->frame now holds a whole header. */
static int read_header(struct azr__ws_session *s, const uint8_t *data, size_t len, size_t *used, bool *complete) {
  size_t copy = AZR__WS_MAX_HEADER - s->hdr_len;
  if (copy > len) copy = len;
  memcpy(s->hdr + s->hdr_len, data, copy);
  int n = azr__ws_frame_parse_header(s->hdr, s->hdr_len + copy, 0, &s->frame);
  *complete = n > 0;
  if (n < 0) {
    *used = copy;
    return fail(s, AZR_E_PROTOCOL, 1002, "invalid frame header: %s", header_problem(s->hdr));
  }
  if (n == 0) {
    s->hdr_len += copy;
    *used = copy;
    return AZR_OK;
  }
  *used = (size_t)n - s->hdr_len;
  s->hdr_len = 0;
  return AZR_OK;
}

static int reserve_message(struct azr__ws_session *s, size_t n) {
  int rc = azr__buf_reserve(&s->msg, n);
  if (rc == AZR_E_NOMEM) return fail(s, AZR_E_NOMEM, 1011, "out of memory for a message");
  if (rc) return fail(s, AZR_E_TOO_BIG, 1009, "message too large");
  return AZR_OK;
}

/* Checks a complete header against the session's state (§5.1 masking direction, §5.4
 * fragmentation, message size) and starts the frame. */
static int begin_frame(struct azr__ws_session *s) {
  const struct azr__ws_frame_header *h = &s->frame;
  if (h->masked == s->cfg.is_client)
    return fail(s, AZR_E_PROTOCOL, 1002, s->cfg.is_client ? "masked frame from the server"
                                                          : "unmasked frame from the client");
  if (azr__ws_is_control(h->opcode)) {
    s->ctrl_len = 0;
  } else {
    bool first = h->opcode != AZR__WS_CONTINUATION;
    if (!first && !s->msg_opcode) return fail(s, AZR_E_PROTOCOL, 1002, "continuation frame without a message");
    if (first && s->msg_opcode) return fail(s, AZR_E_PROTOCOL, 1002, "new data frame inside a fragmented message");
    if (first) s->msg_len = 0;
    uint64_t limit = message_limit(s);
    if (limit && h->payload_len > limit - s->msg_len)
      return fail(s, AZR_E_TOO_BIG, 1009, "message larger than %llu bytes", (unsigned long long)limit);
    if (first) {
      s->msg_opcode = h->opcode;
      s->utf8 = (struct azr__utf8)AZR__UTF8_INIT;
      azr__buf_reset(&s->msg);
    }
    if (s->cfg.buffer_messages) {
      /* Sized from the header, so a frame usually arrives with a single growth; but a header alone
       * (a few bytes) may not make us commit more than PREALLOCATE_MAX. */
      uint64_t want = h->payload_len < PREALLOCATE_MAX ? h->payload_len : PREALLOCATE_MAX;
      int rc = reserve_message(s, (size_t)want);
      if (rc) return rc;
    }
    if (first && s->cb.on_message_begin) s->cb.on_message_begin(s->ud, h->opcode);
  }
  s->frame_off = 0;
  s->in_frame = true;
  return AZR_OK;
}

static int data_payload(struct azr__ws_session *s, uint8_t *data, size_t n) {
  const struct azr__ws_frame_header *h = &s->frame;
  bool frame_end = s->frame_off + n == h->payload_len;
  bool message_end = frame_end && h->fin;
  bool check_text = s->msg_opcode == AZR__WS_TEXT && s->cfg.validate_utf8;
  uint8_t *plain = data;
  if (s->cfg.buffer_messages) {
    int rc = reserve_message(s, n);
    if (rc) return rc;
    plain = s->msg.data + s->msg.len;
    if (h->masked) azr__ws_mask_copy(plain, data, n, h->mask, s->frame_off);
    else if (n) memcpy(plain, data, n);
    s->msg.len += n;
    s->msg.data[s->msg.len] = 0;
  } else if (h->masked) {
    azr__ws_mask(data, n, h->mask, s->frame_off);
  }
  s->frame_off += n;
  s->msg_len += n;
  if (check_text && (!azr__utf8_feed(&s->utf8, plain, n) || (message_end && !azr__utf8_complete(&s->utf8))))
    return fail(s, AZR_E_UTF8, 1007, "text message is not valid UTF-8");
  if (frame_end) s->in_frame = false;
  if (message_end) s->msg_opcode = 0;
  if (!s->cfg.buffer_messages) {
    if (s->cb.on_message_data) s->cb.on_message_data(s->ud, data ? data : s->ctrl, n, frame_end, message_end);
  } else if (message_end) {
    if (s->cb.on_message_data) s->cb.on_message_data(s->ud, s->msg.data, s->msg.len, true, true);
    azr__buf_reset(&s->msg);
  }
  return AZR_OK;
}

static int control_complete(struct azr__ws_session *s) {
  s->in_frame = false;
  switch (s->frame.opcode) {
  case AZR__WS_PING:
    if (s->cfg.auto_pong && !s->close_sent &&
        control_fits(s, s->cfg.out_cap ? s->cfg.out_cap : PONG_BACKLOG, s->ctrl_len)) {
      int rc = put_frame(s, AZR__WS_PONG, true, s->ctrl, s->ctrl_len);
      if (rc == AZR_E_NOMEM) return fail(s, AZR_E_NOMEM, 1011, "out of memory for a Pong");
    }
    if (s->cb.on_ping) s->cb.on_ping(s->ud, s->ctrl, s->ctrl_len);
    return AZR_OK;
  case AZR__WS_PONG:
    if (s->cb.on_pong) s->cb.on_pong(s->ud, s->ctrl, s->ctrl_len);
    return AZR_OK;
  default: { /* AZR__WS_CLOSE */
    uint16_t code;
    const uint8_t *reason;
    size_t reason_len;
    if (!azr__ws_close_payload_parse(s->ctrl, s->ctrl_len, &code, &reason, &reason_len))
      return fail(s, AZR_E_PROTOCOL, 1002, "invalid Close payload (code or UTF-8 reason)");
    s->close_received = true;
    s->close_code_received = code;
    /* §5.5.1: answer with a Close, echoing the status code. */
    if (!s->close_sent && !s->cfg.defer_close_reply) (void)put_close(s, code == 1005 ? 0 : code, NULL);
    if (s->cb.on_close) s->cb.on_close(s->ud, code, reason, reason_len);
    return AZR_OK;
  }
  }
}

static int control_payload(struct azr__ws_session *s, const uint8_t *data, size_t n) {
  /* frame_off + n <= 125: the header parser refused longer control frames. */
  if (s->frame.masked) azr__ws_mask_copy(s->ctrl + s->ctrl_len, data, n, s->frame.mask, s->frame_off);
  else if (n) memcpy(s->ctrl + s->ctrl_len, data, n);
  s->ctrl_len += n;
  s->frame_off += n;
  return s->frame_off == s->frame.payload_len ? control_complete(s) : AZR_OK;
}

int azr__ws_session_recv(struct azr__ws_session *s, uint8_t *data, size_t len) {
  if (s->error) return s->error;
  int rc = AZR_OK;
  while (!s->close_received && !s->error) {
    if (!s->in_frame) {
      if (len == 0) break;
      size_t used = 0;
      bool complete = false;
      rc = read_header(s, data, len, &used, &complete);
      if (rc) return rc;
      data += used;
      len -= used;
      if (!complete) break;
      rc = begin_frame(s);
      if (rc) return rc;
      /* An empty frame completes now, without waiting for more input. */
      if (s->frame.payload_len != 0) continue;
    }
    uint64_t left = s->frame.payload_len - s->frame_off;
    size_t n = left < len ? (size_t)left : len;
    if (n == 0 && left != 0) break;
    rc = azr__ws_is_control(s->frame.opcode) ? control_payload(s, data, n) : data_payload(s, data, n);
    if (rc) return rc;
    data += n;
    len -= n;
  }
  return s->error ? s->error : AZR_OK;
}
