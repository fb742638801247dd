/* SPDX-License-Identifier: MIT */
/* WebSocket endpoint output: the bounded send queue (messages fragmented at max_frame_size, pull
 * sources read on demand), control frames, and on_writable. Frames are encoded only while the
 * stream holds little, so a Pong or our Close never waits behind more than about one data frame. */
#include <string.h>

#include "azrelay/common.h"
#include "io/websocket_internal.h"
#include "util/limits.h"

/* Our Close is not out yet: data and control frames may still be encoded. */
static bool may_send_frames(const struct azr__ws *ws) {
  return ws->session_ready && (ws->state == WS_OPEN || ws->state == WS_PEER_CLOSED || ws->state == WS_HALF_CLOSED ||
                               ws->state == WS_CLOSING || ws->state == WS_ANSWERING);
}

void azr__ws_free_items(struct azr__ws *ws, int status) {
  while (ws->head) {
    struct ws_item *it = ws->head;
    ws->head = it->next;
    if (it->is_source && it->done) it->done(it->src_ud, status);
    azr__free(ws->mem, it);
  }
  ws->tail = NULL;
  ws->item_bytes = 0;
}

void azr__ws_flush_session(struct azr__ws *ws) {
  if (!ws->stream || ws->session.out.len == 0) return;
  azr__keepalive_sent(&ws->keepalive);
  int rc = azr__stream_write(ws->stream, ws->session.out.data, ws->session.out.len);
  azr__buf_reset(&ws->session.out);
  /* A peer that is gone is reported by the stream (on_end, from the loop). Frames the stream could
   * not even queue (its hard cap, or no memory) are lost: the connection cannot go on without
   * them, so it ends here, with 1011, rather than silently missing a piece of the message. */
  if (rc == AZR_E_TOO_BIG || rc == AZR_E_NOMEM)
    azr__ws_finish(ws, rc, 1011, rc == AZR_E_NOMEM ? "out of memory" : "the send queue overflowed");
}

void azr__ws_maybe_writable(struct azr__ws *ws) {
  if (ws->want_writable && azr__ws_is_open(ws) && azr__ws_queued(ws) < ws->opt.send_low_water) {
    if (ws->in_send) { /* never inside the caller's send, which would then re-enter its own writer */
      azr__ws_arm_soon(ws);
      return;
    }
    ws->want_writable = false;
    if (ws->cb.on_writable) ws->cb.on_writable(ws);
  }
}

static bool encode_room(const struct azr__ws *ws) {
  return ws->session.out.len + (ws->stream ? azr__stream_queued(ws->stream) : 0) < AZR__WS_ENCODE_LOW_WATER;
}

static void pop_item(struct azr__ws *ws, int status) {
  struct ws_item *it = ws->head;
  ws->head = it->next;
  if (!ws->head) ws->tail = NULL;
  if (it->is_source && it->done) it->done(it->src_ud, status);
  azr__free(ws->mem, it);
}

static void trace_sent(const struct azr__ws *ws, uint8_t opcode, size_t len, bool fin) {
  char pre[48];
  WS_TRACE(ws, AZR_LOG_DEBUG, "%ssent a %s frame of %zu bytes%s", azr__ws_trace_prefix(ws, pre, sizeof pre),
           azr__ws_opcode_name(opcode), len, fin ? ", end of message" : "");
}

void azr__ws_pump_output(struct azr__ws *ws) {
  if (!may_send_frames(ws)) return;
  while (ws->head && encode_room(ws)) {
    struct ws_item *it = ws->head;
    if (!it->is_source) {
      size_t chunk = it->len - it->off;
      if (chunk > ws->opt.max_frame_size) chunk = ws->opt.max_frame_size;
      bool fin = it->fin && it->off + chunk == it->len;
      int rc = azr__ws_session_send_frame(&ws->session, it->opcode, it->data + it->off, chunk, fin);
      if (rc != AZR_OK) break; /* AZR_E_WOULDBLOCK: the session's buffer is full */
      trace_sent(ws, it->opcode, chunk, fin);
      it->off += chunk;
      ws->item_bytes -= chunk;
      if (it->off == it->len) pop_item(ws, AZR_OK);
    } else {
      if (!ws->scratch) {
        ws->scratch = azr__malloc(ws->mem, ws->opt.max_frame_size);
        if (!ws->scratch) {
          azr__ws_finish(ws, AZR_E_NOMEM, 1011, "out of memory");
          return;
        }
      }
      bool eof = false;
      ssize_t n = it->fn(it->src_ud, ws->scratch, ws->opt.max_frame_size, &eof);
      if (n < 0) {
        /* The message cannot be completed: drop what is queued and close with 1011 through a
         * normal close handshake, so that the peer learns why. */
        ws->source_status = (int)-n;
        pop_item(ws, ws->source_status);
        azr__ws_free_items(ws, AZR_E_CLOSED);
        azr__ws_request_close(ws, 1011, "send source failed");
        break;
      }
      if (n == 0 && !eof) break; /* the source will call azr__ws_source_ready */
      int rc = azr__ws_session_send_frame(&ws->session, it->opcode, ws->scratch, (size_t)n, eof);
      if (rc != AZR_OK) break;
      trace_sent(ws, it->opcode, (size_t)n, eof);
      if (eof) pop_item(ws, AZR_OK);
    }
    azr__ws_flush_session(ws);
    if (ws->state == WS_DONE) return;
  }
  azr__ws_flush_session(ws);
  if (ws->state == WS_DONE) return;
  if (!ws->head && (ws->state == WS_CLOSING || ws->state == WS_ANSWERING)) {
    azr__ws_send_close_frame(ws);
    return;
  }
  azr__ws_maybe_writable(ws);
}

/* ---- public operations ---- */

size_t azr__ws_queued(const struct azr__ws *ws) {
  return ws->item_bytes + (ws->session_ready ? ws->session.out.len : 0) +
         (ws->stream ? azr__stream_queued(ws->stream) : 0);
}

static void enqueue(struct azr__ws *ws, struct ws_item *it) {
  it->next = NULL;
  if (ws->tail) ws->tail->next = it;
  else ws->head = it;
  ws->tail = it;
}

int azr__ws_send_part(struct azr__ws *ws, uint8_t opcode, const void *data, size_t len, bool fin) {
  if (!azr__ws_is_open(ws)) return AZR_E_CLOSED;
  if (opcode != AZR__WS_TEXT && opcode != AZR__WS_BINARY) return AZR_E_INVALID_ARG;
  /* A message is always accepted when no other message waits (bytes the stream holds while corked or
   * while the socket is slow are at most a frame or two: pump_output stops encoding past
   * AZR__WS_ENCODE_LOW_WATER), so one larger than the cap can still be sent on its own. */
  size_t queued = azr__ws_queued(ws);
  if (ws->item_bytes > 0 && queued + len > ws->opt.send_queue_cap) {
    ws->want_writable = true;
    return AZR_E_WOULDBLOCK;
  }
  /* Nothing waits and there is room: the frame is encoded (masked) straight from the caller's
   * buffer, as pump_output would do at once with a queued copy, without the copy. */
  if (!ws->head && len <= ws->opt.max_frame_size && may_send_frames(ws) && encode_room(ws) &&
      azr__ws_session_send_frame(&ws->session, opcode, data, len, fin) == AZR_OK) {
    trace_sent(ws, opcode, len, fin);
    ws->in_send = true;
    azr__ws_pump_output(ws); /* flushes, and what follows an emptied queue */
    ws->in_send = false;
    return AZR_OK;
  }
  struct ws_item *it = azr__malloc(ws->mem, sizeof *it + len);
  if (!it) return AZR_E_NOMEM;
  memset(it, 0, sizeof *it);
  it->opcode = opcode;
  it->fin = fin;
  it->len = len;
  if (len) memcpy(it->data, data, len);
  ws->item_bytes += len;
  enqueue(ws, it);
  ws->in_send = true;
  azr__ws_pump_output(ws);
  ws->in_send = false;
  return AZR_OK;
}

int azr__ws_send(struct azr__ws *ws, uint8_t opcode, const void *data, size_t len) {
  return azr__ws_send_part(ws, opcode, data, len, true);
}

int azr__ws_send_source(struct azr__ws *ws, uint8_t opcode, azr__ws_source_fn fn, azr__ws_source_done_fn done,
                        void *src_ud) {
  if (!azr__ws_is_open(ws)) return AZR_E_CLOSED;
  if (!fn || (opcode != AZR__WS_TEXT && opcode != AZR__WS_BINARY)) return AZR_E_INVALID_ARG;
  struct ws_item *it = azr__calloc(ws->mem, 1, sizeof *it);
  if (!it) return AZR_E_NOMEM;
  it->opcode = opcode;
  it->fin = true;
  it->is_source = true;
  it->fn = fn;
  it->done = done;
  it->src_ud = src_ud;
  enqueue(ws, it);
  azr__ws_arm_soon(ws); /* the first pull runs from the loop */
  return AZR_OK;
}

void azr__ws_source_ready(struct azr__ws *ws) {
  if (azr__ws_running(ws)) azr__ws_pump_output(ws);
}

int azr__ws_send_control(struct azr__ws *ws, bool ping, const void *payload, size_t len) {
  if (!may_send_frames(ws)) return AZR_E_CLOSED;
  if (len > AZR_MAX_WS_CONTROL_PAYLOAD) return AZR_E_TOO_BIG;
  int rc = ping ? azr__ws_session_send_ping(&ws->session, payload, len)
                : azr__ws_session_send_pong(&ws->session, payload, len);
  azr__ws_flush_session(ws);
  char pre[48];
  WS_TRACE(ws, AZR_LOG_DEBUG, "%ssent a %s (%zu bytes)", azr__ws_trace_prefix(ws, pre, sizeof pre),
           ping ? "ping" : "pong", len);
  return rc;
}

int azr__ws_ping(struct azr__ws *ws, const void *payload, size_t len) {
  return azr__ws_send_control(ws, true, payload, len);
}
int azr__ws_pong(struct azr__ws *ws, const void *payload, size_t len) {
  return azr__ws_send_control(ws, false, payload, len);
}

void azr__ws_notify_writable(struct azr__ws *ws) {
  ws->want_writable = true;
  azr__ws_maybe_writable(ws);
}
