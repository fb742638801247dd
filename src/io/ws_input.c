/* SPDX-License-Identifier: MIT */
/* WebSocket endpoint input: the session's events to the owner, pausing (events of bytes already
 * read are held and replayed on resume), and the brake on reading while our own output piles up. */
#include <string.h>

#include "azrelay/common.h"
#include "io/websocket_internal.h"

bool azr__ws_discarding(const struct azr__ws *ws) {
  return ws->opt.drop_input_after_close && ws->paused && ws->session_ready &&
         (ws->state == WS_CLOSE_SENT || ws->state == WS_CLOSED);
}

static bool defer_event(struct azr__ws *ws, bool is_begin, uint8_t opcode, const uint8_t *data, size_t len,
                        bool frame_end, bool message_end) {
  struct ws_deferred *d = azr__malloc(ws->mem, sizeof *d + len);
  if (!d) return false;
  d->next = NULL;
  d->is_begin = is_begin;
  d->opcode = opcode;
  d->frame_end = frame_end;
  d->message_end = message_end;
  d->len = len;
  if (len) memcpy(d->data, data, len);
  if (ws->deferred_tail) ws->deferred_tail->next = d;
  else ws->deferred = d;
  ws->deferred_tail = d;
  return true;
}

void azr__ws_free_deferred(struct azr__ws *ws) {
  while (ws->deferred) {
    struct ws_deferred *d = ws->deferred;
    ws->deferred = d->next;
    azr__free(ws->mem, d);
  }
  ws->deferred_tail = NULL;
}

static void s_message_begin(void *ud, uint8_t opcode) {
  struct azr__ws *ws = ud;
  if (ws->state == WS_DONE) return;
  char pre[48];
  WS_TRACE(ws, AZR_LOG_DEBUG, "%sreceived the start of a %s message", azr__ws_trace_prefix(ws, pre, sizeof pre),
           azr__ws_opcode_name(opcode));
  if (azr__ws_discarding(ws)) return;
  if (ws->paused || ws->deferred) {
    if (!defer_event(ws, true, opcode, NULL, 0, false, false)) azr__ws_finish(ws, AZR_E_NOMEM, 1011, "out of memory");
    return;
  }
  if (ws->cb.on_message_begin) ws->cb.on_message_begin(ws, opcode);
}

static void s_message_data(void *ud, uint8_t *data, size_t len, bool frame_end, bool message_end) {
  struct azr__ws *ws = ud;
  if (ws->state == WS_DONE) return;
  char pre[48];
  WS_TRACE(ws, AZR_LOG_DEBUG, "%sreceived %zu bytes%s%s", azr__ws_trace_prefix(ws, pre, sizeof pre), len,
           frame_end ? ", end of frame" : "", message_end ? ", end of message" : "");
  if (azr__ws_discarding(ws)) return;
  if (ws->paused || ws->deferred) {
    if (!defer_event(ws, false, 0, data, len, frame_end, message_end))
      azr__ws_finish(ws, AZR_E_NOMEM, 1011, "out of memory");
    return;
  }
  if (ws->cb.on_message_data) ws->cb.on_message_data(ws, data, len, frame_end, message_end);
}

static void s_ping(void *ud, const uint8_t *p, size_t len) {
  struct azr__ws *ws = ud;
  char pre[48];
  WS_TRACE(ws, AZR_LOG_DEBUG, "%sreceived a ping (%zu bytes)", azr__ws_trace_prefix(ws, pre, sizeof pre), len);
  if (ws->state != WS_DONE && ws->cb.on_ping) ws->cb.on_ping(ws, p, len);
}

static void s_pong(void *ud, const uint8_t *p, size_t len) {
  struct azr__ws *ws = ud;
  char pre[48];
  WS_TRACE(ws, AZR_LOG_DEBUG, "%sreceived a pong (%zu bytes)", azr__ws_trace_prefix(ws, pre, sizeof pre), len);
  if (ws->state != WS_DONE && ws->cb.on_pong) ws->cb.on_pong(ws, p, len);
}

/* The session has already answered the Close unless defer_close_reply is set. */
static void s_close(void *ud, uint16_t code, const uint8_t *reason, size_t reason_len) {
  struct azr__ws *ws = ud;
  char pre[48];
  WS_TRACE(ws, AZR_LOG_DEBUG, "%sreceived a close frame: %u %.*s", azr__ws_trace_prefix(ws, pre, sizeof pre), code,
           (int)(reason_len > 123 ? 123 : reason_len), (const char *)reason);
  ws->peer_code = code;
  if (reason_len >= sizeof ws->peer_reason) reason_len = sizeof ws->peer_reason - 1;
  memcpy(ws->peer_reason, reason, reason_len);
  ws->peer_reason[reason_len] = 0;
  bool answered = ws->session.close_sent;
  switch (ws->state) {
  case WS_OPEN:
    azr__ws_set_state(ws, answered ? WS_CLOSED : WS_PEER_CLOSED);
    break;
  case WS_CLOSING:
    azr__ws_set_state(ws, answered ? WS_CLOSED : WS_ANSWERING);
    break;
  case WS_CLOSE_SENT:
    azr__ws_set_state(ws, WS_CLOSED);
    break;
  default: /* DONE: the end is already decided */
    break;
  }
}

const struct azr__ws_session_callbacks azr__ws_input_callbacks = {
    .on_message_begin = s_message_begin, .on_message_data = s_message_data, .on_ping = s_ping, .on_pong = s_pong,
    .on_close = s_close};

void azr__ws_replay_deferred(struct azr__ws *ws) {
  while (ws->deferred && !ws->paused && ws->state != WS_DONE) {
    struct ws_deferred *d = ws->deferred;
    ws->deferred = d->next;
    if (!ws->deferred) ws->deferred_tail = NULL;
    if (d->is_begin) {
      if (ws->cb.on_message_begin) ws->cb.on_message_begin(ws, d->opcode);
    } else if (ws->cb.on_message_data) {
      ws->cb.on_message_data(ws, d->data, d->len, d->frame_end, d->message_end);
    }
    azr__free(ws->mem, d);
  }
  if (ws->state == WS_DONE || ws->paused) return;
  if (azr__ws_peer_closed(ws)) {
    azr__ws_peer_close_complete(ws);
    return;
  }
  if (ws->stream && !ws->input_stopped) azr__stream_resume(ws->stream);
}

/* Reading writes automatic pongs (and Close replies), so a peer that pings without reading would
 * grow the stream's queue to its hard cap. The send path itself keeps the queue under about
 * out_cap + AZR__WS_ENCODE_LOW_WATER; past that, reading stops until the queue drains (st_drain). */
void azr__ws_limit_input(struct azr__ws *ws) {
  if (!ws->stream || ws->input_stopped || ws->state == WS_DONE) return;
  if (azr__stream_queued(ws->stream) < ws->opt.session.out_cap + 2 * AZR__WS_ENCODE_LOW_WATER) return;
  ws->input_stopped = true;
  azr__stream_pause(ws->stream);
}

void azr__ws_pause(struct azr__ws *ws) {
  ws->paused = true;
  azr__keepalive_suspend_replies(&ws->keepalive, true);
  if (ws->stream) azr__stream_pause(ws->stream);
}

void azr__ws_resume(struct azr__ws *ws) {
  if (!ws->paused) return;
  ws->paused = false;
  azr__keepalive_suspend_replies(&ws->keepalive, false);
  if (ws->state == WS_DONE) return;
  if (ws->deferred || azr__ws_peer_closed(ws)) {
    /* Replay from the loop, not inside the caller. */
    ws->replay_pending = true;
    azr__ws_arm_soon(ws);
    return;
  }
  if (ws->stream && !ws->input_stopped) azr__stream_resume(ws->stream);
}
