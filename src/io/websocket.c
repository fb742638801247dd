/* SPDX-License-Identifier: MIT */
/* WebSocket endpoint: handshake, send queue with fragmentation and pull sources, close handshake. */
#include "io/websocket.h"

#include <stdio.h>
#include <string.h>

#include "azrelay/common.h"
#include "util/str.h"
#include "io/keepalive.h"
#include "proto/hc_url.h"
#include "proto/ws_handshake.h"
#include "util/limits.h"
#include "util/log.h"

#define DEFAULT_MAX_FRAME (128u * 1024u)
#define DEFAULT_SEND_CAP (4u * 1024u * 1024u)
#define DEFAULT_CLOSE_TIMEOUT_MS 5000u
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 30000u
/* Frames are encoded into the session's buffer only while less than this is waiting to be written,
 * so control frames never wait behind more than about one data frame. */
#define ENCODE_LOW_WATER (64u * 1024u)

struct ws_item {
  struct ws_item *next;
  uint8_t opcode;
  bool fin;
  bool is_source;
  azr__ws_source_fn fn;
  azr__ws_source_done_fn done;
  void *src_ud;
  size_t len, off;
  uint8_t data[];
};

/* A message event that arrived after the owner paused reading (the rest of an already-read
 * buffer); replayed on resume so that pausing never drops data. At most one read buffer's worth. */
struct ws_deferred {
  struct ws_deferred *next;
  bool is_begin;
  uint8_t opcode;
  bool frame_end, message_end;
  size_t len;
  uint8_t data[];
};

enum ws_state { WS_CONNECTING, WS_HANDSHAKE, WS_OPEN, WS_CLOSING, WS_DONE };
enum ws_timer { TIMER_NONE, TIMER_HANDSHAKE, TIMER_LEFTOVER, TIMER_CLOSE, TIMER_FINAL };

struct azr__ws {
  const struct azr__mem *mem;
  uv_loop_t *loop;
  struct azr__stream *stream;
  struct azr__ws_session session;
  bool session_ready;
  struct azr__ws_options opt;
  struct azr__ws_callbacks cb;
  void *ud;
  enum ws_state state;
  /* client handshake */
  struct azr__http1 http;
  bool http_ready;
  struct azr__http_head response;
  bool have_response;
  char key[25];
  struct azr__buf request;
  char *offered_protocols;
  char protocol[128];
  /* server: bytes that followed the upgrade request */
  struct azr__buf leftover;
  /* send queue */
  struct ws_item *head, *tail;
  size_t item_bytes;
  uint8_t *scratch;
  bool want_writable;
  bool close_requested;
  int source_status; /* a send source failed: the status the end reports */
  bool replay_pending;
  bool peer_close_reported; /* on_peer_close was called (half-close) */
  uint16_t close_code;
  char close_reason[124];
  /* pause */
  bool paused;
  bool input_stopped; /* our output (pongs) piled up: reading waits for st_drain */
  struct ws_deferred *deferred, *deferred_tail;
  uv_timer_t replay_timer;
  int handles_open;
  struct azr__keepalive keepalive;
  bool keepalive_expired;
  /* end of life */
  uv_timer_t timer;
  enum ws_timer timer_purpose;
  bool peer_closed;
  uint16_t peer_code;
  char peer_reason[128];
  bool finished;
  int final_status;
  uint16_t final_code;
  char final_reason[128];
};

static void pump_output(struct azr__ws *ws);
static void finish(struct azr__ws *ws, int status, uint16_t code, const char *reason);

void azr__ws_options_default(struct azr__ws_options *o) {
  memset(o, 0, sizeof *o);
  o->session.max_message_size = 0;
  o->session.validate_utf8 = true;
  o->session.auto_pong = true;
  o->max_frame_size = DEFAULT_MAX_FRAME;
  o->send_queue_cap = DEFAULT_SEND_CAP;
  o->close_timeout_ms = DEFAULT_CLOSE_TIMEOUT_MS;
  o->handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT_MS;
}

static void normalize_options(struct azr__ws_options *o) {
  if (!o->max_frame_size) o->max_frame_size = DEFAULT_MAX_FRAME;
  if (!o->send_queue_cap) o->send_queue_cap = DEFAULT_SEND_CAP;
  if (!o->send_low_water || o->send_low_water >= o->send_queue_cap) o->send_low_water = o->send_queue_cap / 4;
  if (!o->close_timeout_ms) o->close_timeout_ms = DEFAULT_CLOSE_TIMEOUT_MS;
  if (!o->handshake_timeout_ms) o->handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT_MS;
  if (!o->session.out_cap) o->session.out_cap = o->max_frame_size + ENCODE_LOW_WATER + 64;
}

/* ---- trace ---- */

#define WS_TRACE(ws, lvl, ...) AZR_LOG((ws)->opt.log, (lvl), (ws)->opt.log_category, __VA_ARGS__)

static const char *opcode_name(uint8_t opcode) {
  switch (opcode) {
  case AZR__WS_CONTINUATION: return "continuation";
  case AZR__WS_TEXT: return "text";
  case AZR__WS_BINARY: return "binary";
  default: return "control";
  }
}

/* "connection 7: " or "" for the trace lines. */
static const char *trace_prefix(const struct azr__ws *ws, char *buf, size_t cap) {
  if (!ws->opt.log_id) return "";
  snprintf(buf, cap, "connection %llu: ", (unsigned long long)ws->opt.log_id);
  return buf;
}

/* Log lines are single lines, so the heads' lines are joined with "; " (secrets are redacted by the log). */
static void trace_request(const struct azr__ws *ws) {
  if (!azr__log_enabled(ws->opt.log, AZR_LOG_VERBOSE)) return;
  struct azr__buf text;
  azr__buf_init(&text, ws->mem, AZR_MAX_HTTP_HEAD);
  const char *p = (const char *)ws->request.data, *end = p + ws->request.len;
  int rc = AZR_OK;
  while (!rc && p < end) {
    const char *eol = memchr(p, '\r', (size_t)(end - p));
    if (!eol) eol = end;
    if (eol > p) rc = azr__buf_printf(&text, "%s%.*s", text.len ? "; " : "", (int)(eol - p), p);
    p = eol + 2;
  }
  char pre[48];
  if (!rc) WS_TRACE(ws, AZR_LOG_VERBOSE, "%shandshake request: %s", trace_prefix(ws, pre, sizeof pre), azr__buf_cstr(&text));
  azr__buf_free(&text);
}

static void trace_response(const struct azr__ws *ws, const struct azr__http_head *h) {
  if (!azr__log_enabled(ws->opt.log, AZR_LOG_VERBOSE)) return;
  struct azr__buf text;
  azr__buf_init(&text, ws->mem, AZR_MAX_HTTP_HEAD);
  int rc = azr__buf_printf(&text, "HTTP/%d.%d %d %.*s", h->http_major, h->http_minor, h->status_code,
                           (int)h->reason.len, h->reason.ptr);
  for (size_t i = 0; !rc && i < h->header_count; i++)
    rc = azr__buf_printf(&text, "; %.*s: %.*s", (int)h->headers[i].name.len, h->headers[i].name.ptr,
                         (int)h->headers[i].value.len, h->headers[i].value.ptr);
  char pre[48];
  if (!rc)
    WS_TRACE(ws, AZR_LOG_VERBOSE, "%shandshake response: %s", trace_prefix(ws, pre, sizeof pre), azr__buf_cstr(&text));
  azr__buf_free(&text);
}

/* ---- session callbacks ---- */

/* We sent our Close while the owner had paused reading: what the peer still sends is dropped, so
 * that its Close reply can be read (and memory stays bounded). */
static bool discarding(const struct azr__ws *ws) {
  return ws->opt.drop_input_after_close && ws->paused && ws->session_ready && ws->session.close_sent;
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

static void s_message_begin(void *ud, uint8_t opcode) {
  struct azr__ws *ws = ud;
  if (ws->state == WS_DONE) return;
  char pre[48];
  WS_TRACE(ws, AZR_LOG_DEBUG, "%sreceived the start of a %s message", trace_prefix(ws, pre, sizeof pre),
           opcode_name(opcode));
  if (discarding(ws)) return;
  if (ws->paused || ws->deferred) {
    if (!defer_event(ws, true, opcode, NULL, 0, false, false)) finish(ws, AZR_E_NOMEM, 1011, "out of memory");
    return;
  }
  if (ws->cb.on_message_begin) ws->cb.on_message_begin(ws, opcode);
}

static void s_message_data(void *ud, uint8_t *data, size_t len, bool frame_end, bool message_end) {
  struct azr__ws *ws = ud;
  if (ws->state == WS_DONE) return;
  char pre[48];
  WS_TRACE(ws, AZR_LOG_DEBUG, "%sreceived %zu bytes%s%s", trace_prefix(ws, pre, sizeof pre), len,
           frame_end ? ", end of frame" : "", message_end ? ", end of message" : "");
  if (discarding(ws)) return;
  if (ws->paused || ws->deferred) {
    if (!defer_event(ws, false, 0, data, len, frame_end, message_end)) finish(ws, AZR_E_NOMEM, 1011, "out of memory");
    return;
  }
  if (ws->cb.on_message_data) ws->cb.on_message_data(ws, data, len, frame_end, message_end);
}

static void free_deferred(struct azr__ws *ws) {
  while (ws->deferred) {
    struct ws_deferred *d = ws->deferred;
    ws->deferred = d->next;
    azr__free(ws->mem, d);
  }
  ws->deferred_tail = NULL;
}

static void replay_deferred(struct azr__ws *ws);
/* Runs from the loop: a resume's replay, and the first pull of a send source (so that its
 * callbacks never run inside the call that queued it). */
static void on_replay_timer(uv_timer_t *t) {
  struct azr__ws *ws = t->data;
  if (ws->replay_pending) {
    ws->replay_pending = false;
    replay_deferred(ws);
  }
  if (ws->state == WS_OPEN || ws->state == WS_CLOSING) pump_output(ws);
}


/* The peer's Close arrived and everything before it was delivered. Either the session answered it
 * (the handshake is complete), or the owner deferred the answer (half-close): it still sends what
 * it has and ends with azr__ws_close(). */
static void peer_close_complete(struct azr__ws *ws) {
  if (ws->session.close_sent) {
    free_deferred(ws);
    finish(ws, ws->source_status, ws->peer_code, ws->peer_reason);
    return;
  }
  if (!ws->peer_close_reported) {
    ws->peer_close_reported = true;
    if (ws->cb.on_peer_close) ws->cb.on_peer_close(ws, ws->peer_code, ws->peer_reason);
    else (void)azr__ws_close(ws, ws->peer_code == 1005 ? 0 : ws->peer_code, "");
  }
  if (ws->state == WS_OPEN || ws->state == WS_CLOSING) pump_output(ws);
}

/* Delivers deferred events until the owner pauses again; then reading resumes. */
static void replay_deferred(struct azr__ws *ws) {
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
  if (ws->peer_closed) {
    peer_close_complete(ws);
    return;
  }
  if (ws->stream && !ws->input_stopped) azr__stream_resume(ws->stream);
}

static void s_ping(void *ud, const uint8_t *p, size_t len) {
  struct azr__ws *ws = ud;
  char pre[48];
  WS_TRACE(ws, AZR_LOG_DEBUG, "%sreceived a ping (%zu bytes)", trace_prefix(ws, pre, sizeof pre), len);
  if (ws->state != WS_DONE && ws->cb.on_ping) ws->cb.on_ping(ws, p, len);
}

static void s_pong(void *ud, const uint8_t *p, size_t len) {
  struct azr__ws *ws = ud;
  char pre[48];
  WS_TRACE(ws, AZR_LOG_DEBUG, "%sreceived a pong (%zu bytes)", trace_prefix(ws, pre, sizeof pre), len);
  if (ws->state != WS_DONE && ws->cb.on_pong) ws->cb.on_pong(ws, p, len);
}

static void s_close(void *ud, uint16_t code, const uint8_t *reason, size_t reason_len) {
  struct azr__ws *ws = ud;
  char pre[48];
  WS_TRACE(ws, AZR_LOG_DEBUG, "%sreceived a close frame: %u %.*s", trace_prefix(ws, pre, sizeof pre), code,
           (int)(reason_len > 123 ? 123 : reason_len), (const char *)reason);
  ws->peer_closed = true;
  ws->peer_code = code;
  if (reason_len >= sizeof ws->peer_reason) reason_len = sizeof ws->peer_reason - 1;
  memcpy(ws->peer_reason, reason, reason_len);
  ws->peer_reason[reason_len] = 0;
}

static const struct azr__ws_session_callbacks session_cb = {
    .on_message_begin = s_message_begin, .on_message_data = s_message_data, .on_ping = s_ping, .on_pong = s_pong,
    .on_close = s_close};

/* ---- lifetime ---- */

static void free_items(struct azr__ws *ws, int status) {
  while (ws->head) {
    struct ws_item *it = ws->head;
    ws->head = it->next;
    if (it->is_source && it->done) it->done(it->src_ud, status);
    azr__free(ws->mem, it);
  }
  ws->tail = NULL;
  ws->item_bytes = 0;
}

static void on_timer_closed(uv_handle_t *h) {
  struct azr__ws *ws = h->data;
  if (--ws->handles_open > 0) return;
  free_items(ws, AZR_E_CLOSED);
  free_deferred(ws);
  if (ws->session_ready) azr__ws_session_free(&ws->session);
  if (ws->http_ready) azr__http1_free(&ws->http);
  azr__http_head_free(&ws->response);
  azr__buf_free(&ws->request);
  azr__buf_free(&ws->leftover);
  azr__free(ws->mem, ws->offered_protocols);
  azr__free(ws->mem, ws->scratch);
  azr__free(ws->mem, ws);
}

static void destroy(struct azr__ws *ws) {
  uv_timer_stop(&ws->timer);
  uv_timer_stop(&ws->replay_timer);
  uv_close((uv_handle_t *)&ws->timer, on_timer_closed);
  uv_close((uv_handle_t *)&ws->replay_timer, on_timer_closed);
  azr__keepalive_close(&ws->keepalive, on_timer_closed);
}

static void on_replay_timer(uv_timer_t *t);

static void on_timer(uv_timer_t *t);

static void arm_timer(struct azr__ws *ws, enum ws_timer purpose, uint64_t ms) {
  ws->timer_purpose = purpose;
  uv_timer_start(&ws->timer, on_timer, ms, 0);
}

/* Ends the endpoint: closes the stream and delivers on_close from the loop. */
static void finish(struct azr__ws *ws, int status, uint16_t code, const char *reason) {
  if (ws->finished) return;
  ws->finished = true;
  ws->state = WS_DONE;
  azr__keepalive_stop(&ws->keepalive);
  ws->final_status = status;
  ws->final_code = code;
  snprintf(ws->final_reason, sizeof ws->final_reason, "%s", reason ? reason : "");
  if (ws->stream) {
    /* After a protocol violation we have queued a Close with the reason (1002/1007/1009): let it
     * reach the peer. Only a lost connection or an abort resets. */
    bool told_peer = ws->session_ready && ws->session.close_sent &&
                     (status == AZR_E_PROTOCOL || status == AZR_E_TOO_BIG || status == AZR_E_UTF8 ||
                      (ws->source_status && status == ws->source_status));
    azr__stream_close(ws->stream, status == AZR_OK || told_peer ? AZR__CLOSE_FLUSH : AZR__CLOSE_ABORT);
    ws->stream = NULL;
  }
  arm_timer(ws, TIMER_FINAL, 0);
}

static void fail_open(struct azr__ws *ws, int status, const struct azr__http_head *head, const char *detail) {
  ws->state = WS_DONE;
  ws->finished = true;
  if (ws->stream) {
    azr__stream_close(ws->stream, AZR__CLOSE_ABORT);
    ws->stream = NULL;
  }
  uv_timer_stop(&ws->timer);
  if (ws->cb.on_open) ws->cb.on_open(ws, status, head, detail);
  destroy(ws);
}

static void flush_session(struct azr__ws *ws) {
  if (!ws->stream || ws->session.out.len == 0) return;
  azr__keepalive_sent(&ws->keepalive);
  int rc = azr__stream_write(ws->stream, ws->session.out.data, ws->session.out.len);
  azr__buf_reset(&ws->session.out);
  /* A peer that is gone is reported by the stream (on_end, from the loop). Frames the stream could
   * not even queue (its hard cap, or no memory) are lost: the connection cannot go on without
   * them, so it ends here, with 1011, rather than silently missing a piece of the message. */
  if (rc == AZR_E_TOO_BIG || rc == AZR_E_NOMEM)
    finish(ws, rc, 1011, rc == AZR_E_NOMEM ? "out of memory" : "the send queue overflowed");
}

static void after_session_input(struct azr__ws *ws, int rc) {
  flush_session(ws);
  if (ws->state == WS_DONE) return;
  if (rc != AZR_OK) {
    finish(ws, rc, ws->session.close_code_sent, ws->session.error_text);
    return;
  }
  if (ws->peer_closed && (!ws->deferred || discarding(ws))) {
    if (discarding(ws)) free_deferred(ws);
    peer_close_complete(ws);
    return;
  }
  pump_output(ws);
}

static void on_timer(uv_timer_t *t) {
  struct azr__ws *ws = t->data;
  enum ws_timer purpose = ws->timer_purpose;
  ws->timer_purpose = TIMER_NONE;
  switch (purpose) {
  case TIMER_HANDSHAKE:
    if (ws->state == WS_CONNECTING || ws->state == WS_HANDSHAKE)
      fail_open(ws, AZR_E_TIMEOUT, NULL, "no WebSocket handshake response in time");
    break;
  case TIMER_LEFTOVER:
    if (ws->state == WS_OPEN && ws->leftover.len) {
      int rc = azr__ws_session_recv(&ws->session, ws->leftover.data, ws->leftover.len);
      azr__buf_free(&ws->leftover);
      after_session_input(ws, rc);
    }
    break;
  case TIMER_CLOSE:
    if (ws->state != WS_DONE)
      finish(ws, ws->source_status ? ws->source_status : AZR_E_TIMEOUT, ws->close_code,
             "the peer did not answer the close handshake");
    break;
  case TIMER_FINAL: {
    free_items(ws, AZR_E_CLOSED);
    if (ws->cb.on_close) ws->cb.on_close(ws, ws->final_status, ws->final_code, ws->final_reason);
    destroy(ws);
    break;
  }
  default:
    break;
  }
}

/* ---- output ---- */

static void maybe_writable(struct azr__ws *ws) {
  if (ws->want_writable && ws->state == WS_OPEN && azr__ws_queued(ws) < ws->opt.send_low_water) {
    ws->want_writable = false;
    if (ws->cb.on_writable) ws->cb.on_writable(ws);
  }
}

static bool encode_room(const struct azr__ws *ws) {
  return ws->session.out.len + (ws->stream ? azr__stream_queued(ws->stream) : 0) < ENCODE_LOW_WATER;
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
  WS_TRACE(ws, AZR_LOG_DEBUG, "%ssent a %s frame of %zu bytes%s", trace_prefix(ws, pre, sizeof pre),
           opcode_name(opcode), len, fin ? ", end of message" : "");
}

static void pump_output(struct azr__ws *ws) {
  if (!ws->session_ready || ws->state == WS_DONE || ws->session.close_sent) return;
  while (ws->head && encode_room(ws)) {
    struct ws_item *it = ws->head;
    if (!it->is_source) {
      size_t chunk = it->len - it->off;
      if (chunk > ws->opt.max_frame_size) chunk = ws->opt.max_frame_size;
      bool fin = it->fin && it->off + chunk == it->len;
      int rc = azr__ws_session_send_frame(&ws->session, it->opcode, it->data + it->off, chunk, fin);
      if (rc == AZR_E_WOULDBLOCK) break;
      if (rc != AZR_OK) break;
      trace_sent(ws, it->opcode, chunk, fin);
      it->off += chunk;
      ws->item_bytes -= chunk;
      if (it->off == it->len) pop_item(ws, AZR_OK);
    } else {
      if (!ws->scratch) {
        ws->scratch = azr__malloc(ws->mem, ws->opt.max_frame_size);
        if (!ws->scratch) {
          finish(ws, AZR_E_NOMEM, 1011, "out of memory");
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
        free_items(ws, AZR_E_CLOSED);
        ws->state = WS_CLOSING;
        ws->close_requested = true;
        ws->close_code = 1011;
        snprintf(ws->close_reason, sizeof ws->close_reason, "send source failed");
        break;
      }
      if (n == 0 && !eof) break; /* the source will call azr__ws_source_ready */
      int rc = azr__ws_session_send_frame(&ws->session, it->opcode, ws->scratch, (size_t)n, eof);
      if (rc != AZR_OK) break;
      trace_sent(ws, it->opcode, (size_t)n, eof);
      if (eof) pop_item(ws, AZR_OK);
    }
    flush_session(ws);
    if (ws->state == WS_DONE) return;
  }
  flush_session(ws);
  if (ws->state == WS_DONE) return;
  if (!ws->head && ws->close_requested && !ws->session.close_sent && ws->state != WS_DONE) {
    azr__ws_session_send_close(&ws->session, ws->close_code, ws->close_reason);
    flush_session(ws);
    char pre[48];
    WS_TRACE(ws, AZR_LOG_DEBUG, "%ssent a close frame: %u %s", trace_prefix(ws, pre, sizeof pre), ws->close_code,
             ws->close_reason);
    if (ws->peer_closed) { /* a deferred answer to the peer's Close: the handshake is complete */
      finish(ws, ws->source_status, ws->peer_code, ws->peer_reason);
      return;
    }
    if (ws->opt.dont_wait_for_close) {
      finish(ws, ws->source_status, ws->close_code, ws->close_reason);
      return;
    }
    arm_timer(ws, TIMER_CLOSE, ws->opt.close_timeout_ms);
    if (ws->paused && ws->stream && ws->opt.drop_input_after_close && !ws->input_stopped)
      azr__stream_resume(ws->stream);
    return;
  }
  maybe_writable(ws);
}

/* ---- stream callbacks ---- */

static void st_read(struct azr__stream *s, uint8_t *data, size_t len);
static void st_end(struct azr__stream *s, int status);
static void st_drain(struct azr__stream *s);
static void st_connect(struct azr__stream *s, int status, const char *detail);

static const struct azr__stream_callbacks stream_cb = {st_connect, st_read, st_end, st_drain};

static int http_on_head(void *ud, struct azr__http_head *head) {
  struct azr__ws *ws = ud;
  ws->response = *head;
  memset(head, 0, sizeof *head);
  ws->have_response = true;
  return 1; /* stop: what follows is WebSocket data or an error body we do not need */
}

static int status_for_http(int code) {
  if (code == 401 || code == 403) return AZR_E_AUTH;
  if (code == 404) return AZR_E_ENDPOINT_NOT_FOUND;
  return AZR_E_HTTP_STATUS;
}

static int send_control(struct azr__ws *ws, bool ping, const void *payload, size_t len);

static void keepalive_send(struct azr__keepalive *ka, bool probe) {
  struct azr__ws *ws = ka->owner;
  if (ws->state == WS_OPEN || ws->state == WS_CLOSING) (void)send_control(ws, probe, NULL, 0);
}

static void keepalive_expired(struct azr__keepalive *ka) {
  struct azr__ws *ws = ka->owner;
  char reason[96];
  snprintf(reason, sizeof reason, "no answer to a keep-alive ping within %u ms", ws->opt.keepalive_reply_timeout_ms);
  ws->keepalive_expired = true;
  if (ws->state != WS_DONE) finish(ws, AZR_E_TIMEOUT, 1006, reason);
}

static void start_keepalive(struct azr__ws *ws) {
  azr__keepalive_start(&ws->keepalive, ws->opt.keepalive_ms, ws->opt.keepalive_reply_timeout_ms);
  azr__keepalive_suspend_replies(&ws->keepalive, ws->paused);
}

static int start_session(struct azr__ws *ws, bool is_client) {
  ws->opt.session.is_client = is_client;
  int rc = azr__ws_session_init(&ws->session, &ws->opt.session, &session_cb, ws, ws->mem);
  if (rc) return rc;
  ws->session_ready = true;
  return AZR_OK;
}

static void handle_handshake_bytes(struct azr__ws *ws, uint8_t *data, size_t len) {
  long used = azr__http1_feed(&ws->http, data, len);
  if (used < 0) {
    fail_open(ws, AZR_E_PROTOCOL, NULL, ws->http.error[0] ? ws->http.error : "malformed handshake response");
    return;
  }
  if (!ws->have_response) return;
  struct azr__http_head *h = &ws->response;
  trace_response(ws, h);
  if (h->status_code != 101) {
    char detail[300];
    snprintf(detail, sizeof detail, "%d %.*s", h->status_code, (int)h->reason.len, h->reason.ptr);
    fail_open(ws, status_for_http(h->status_code), h, detail);
    return;
  }
  char err[160];
  if (azr__ws_client_check_response(h, ws->key, ws->offered_protocols, err, sizeof err) != 0) {
    fail_open(ws, AZR_E_PROTOCOL, h, err);
    return;
  }
  const struct azr__http_header *proto = azr__http_head_find(h, "Sec-WebSocket-Protocol");
  if (proto) snprintf(ws->protocol, sizeof ws->protocol, "%.*s", (int)proto->value.len, proto->value.ptr);
  if (start_session(ws, true) != AZR_OK) {
    fail_open(ws, AZR_E_NOMEM, NULL, "out of memory");
    return;
  }
  uv_timer_stop(&ws->timer);
  ws->state = WS_OPEN;
  start_keepalive(ws);
  if (ws->cb.on_open) ws->cb.on_open(ws, AZR_OK, h, "");
  if (ws->state != WS_OPEN) return;
  size_t rest = len - (size_t)used;
  if (rest) {
    int rc = azr__ws_session_recv(&ws->session, data + used, rest);
    after_session_input(ws, rc);
  } else {
    pump_output(ws);
  }
}

static void st_connect(struct azr__stream *s, int status, const char *detail) {
  struct azr__ws *ws = s->owner;
  if (status != AZR_OK) {
    fail_open(ws, status, NULL, detail);
    return;
  }
  ws->state = WS_HANDSHAKE;
  trace_request(ws);
  if (azr__stream_write(s, ws->request.data, ws->request.len) != AZR_OK)
    fail_open(ws, AZR_E_IO, NULL, "cannot send the handshake request");
  azr__buf_free(&ws->request);
}

/* Reading writes automatic pongs (and Close replies), so a peer that pings without reading would
 * grow the stream's queue to its hard cap. The send path itself keeps the queue under about
 * out_cap + ENCODE_LOW_WATER; past that, reading stops until the queue drains (st_drain). */
static void limit_input(struct azr__ws *ws) {
  if (!ws->stream || ws->input_stopped || ws->state == WS_DONE) return;
  if (azr__stream_queued(ws->stream) < ws->opt.session.out_cap + 2 * ENCODE_LOW_WATER) return;
  ws->input_stopped = true;
  azr__stream_pause(ws->stream);
}

static void st_read(struct azr__stream *s, uint8_t *data, size_t len) {
  struct azr__ws *ws = s->owner;
  azr__keepalive_received(&ws->keepalive);
  if (ws->state == WS_HANDSHAKE) {
    handle_handshake_bytes(ws, data, len);
    return;
  }
  if (ws->state != WS_OPEN && ws->state != WS_CLOSING) return;
  /* A peer still sending after our Close is alive (a half-closed stream relaying its answer): the
   * close handshake deadline counts from its last bytes, not from our Close. */
  if (ws->state == WS_CLOSING && ws->timer_purpose == TIMER_CLOSE) arm_timer(ws, TIMER_CLOSE, ws->opt.close_timeout_ms);
  int rc = azr__ws_session_recv(&ws->session, data, len);
  after_session_input(ws, rc);
  limit_input(ws);
}

static void st_end(struct azr__stream *s, int status) {
  struct azr__ws *ws = s->owner;
  if (ws->state == WS_HANDSHAKE || ws->state == WS_CONNECTING) {
    fail_open(ws, status ? status : AZR_E_CONN_RESET, NULL,
              status ? azr__stream_error(s) : "the server closed the connection during the handshake");
    return;
  }
  if (ws->state == WS_DONE) return;
  if (ws->peer_closed) {
    finish(ws, ws->source_status, ws->peer_code, ws->peer_reason);
    return;
  }
  finish(ws, status ? status : AZR_E_CONN_RESET, 1006,
         status ? azr__stream_error(s) : "connection closed without a close frame");
}

static void st_drain(struct azr__stream *s) {
  struct azr__ws *ws = s->owner;
  if (ws->input_stopped) {
    ws->input_stopped = false;
    if (!ws->paused) azr__stream_resume(s);
  }
  pump_output(ws);
}

/* ---- construction ---- */

/* pump_output stops encoding once ENCODE_LOW_WATER bytes wait in the stream, so the stream must
 * report draining from that level, not from its default (higher) mark, or output would stall. */
static void watch_drain(struct azr__stream *s) {
  azr__stream_set_watermarks(s, ENCODE_LOW_WATER / 4, ENCODE_LOW_WATER, 0);
}

static struct azr__ws *ws_new(uv_loop_t *loop, const struct azr__mem *mem, const struct azr__ws_options *opt,
                              const struct azr__ws_callbacks *cb, void *ud) {
  struct azr__ws *ws = azr__calloc(mem, 1, sizeof *ws);
  if (!ws) return NULL;
  ws->mem = mem ? mem : azr__mem_default();
  ws->loop = loop;
  if (opt) ws->opt = *opt;
  else azr__ws_options_default(&ws->opt);
  normalize_options(&ws->opt);
  if (cb) ws->cb = *cb;
  ws->ud = ud;
  azr__buf_init(&ws->request, ws->mem, AZR_MAX_HTTP_HEAD);
  azr__buf_init(&ws->leftover, ws->mem, 0);
  uv_timer_init(loop, &ws->timer);
  uv_timer_init(loop, &ws->replay_timer);
  ws->timer.data = ws->replay_timer.data = ws;
  static const struct azr__keepalive_callbacks keepalive_cb = {keepalive_send, keepalive_expired};
  azr__keepalive_init(loop, &ws->keepalive, &keepalive_cb, ws);
  ws->handles_open = 3;
  return ws;
}

int azr__ws_connect(struct azr__curl *curl, const struct azr__connect_options *transport,
                    const struct azr__ws_connect_request *req, const struct azr__ws_options *opt,
                    const struct azr__ws_callbacks *cb, void *ud, struct azr__ws **out) {
  struct azr__url u;
  if (!req || !req->url || azr__url_split(azr__span_of(req->url), &u) != AZR_OK) return AZR_E_INVALID_ARG;
  bool tls;
  if (azr__span_ieq(u.scheme, "wss") || azr__span_ieq(u.scheme, "https")) tls = true;
  else if (azr__span_ieq(u.scheme, "ws") || azr__span_ieq(u.scheme, "http")) tls = false;
  else return AZR_E_INVALID_ARG;
  if (u.host.len == 0 || u.host.len > 255) return AZR_E_INVALID_ARG;

  struct azr__connect_options o = {0};
  if (transport) o = *transport;
  char host[256];
  memcpy(host, u.host.ptr, u.host.len);
  host[u.host.len] = 0;
  o.host = host;
  o.port = u.port ? u.port : (tls ? 443 : 80);
  o.tls = tls;

  struct azr__ws *ws = ws_new(azr__curl_loop(curl), azr__curl_mem(curl), opt, cb, ud);
  if (!ws) return AZR_E_NOMEM;
  /* Request head: Host carries the port only when it is not the scheme's default. */
  char host_header[300];
  azr__host_port(host_header, sizeof host_header, host, u.port && u.port != (tls ? 443 : 80) ? u.port : 0);
  struct azr__buf target;
  azr__buf_init(&target, ws->mem, AZR_MAX_URL);
  int rc = azr__buf_append(&target, u.path.len ? u.path.ptr : "/", u.path.len ? u.path.len : 1);
  if (!rc && u.query.len) rc = azr__buf_append_byte(&target, '?');
  if (!rc && u.query.len) rc = azr__buf_append(&target, u.query.ptr, u.query.len);
  /* Extra headers plus the offered sub-protocols. */
  const char *headers[2 * 32 + 3];
  size_t nh = 0;
  for (size_t i = 0; req->extra_headers && req->extra_headers[i] && nh < 2 * 32; i += 2) {
    headers[nh++] = req->extra_headers[i];
    headers[nh++] = req->extra_headers[i + 1];
  }
  if (req->subprotocols && *req->subprotocols) {
    headers[nh++] = "Sec-WebSocket-Protocol";
    headers[nh++] = req->subprotocols;
    ws->offered_protocols = azr__strdup(ws->mem, req->subprotocols);
  }
  headers[nh] = NULL;
  if (!rc && azr__ws_new_key(ws->key) != 0) rc = AZR_E_IO;
  if (!rc) rc = azr__ws_client_request(&ws->request, host_header, azr__buf_cstr(&target), ws->key, headers);
  azr__buf_free(&target);
  if (!rc) rc = azr__http1_init(&ws->http, AZR__HTTP1_RESPONSE, ws->mem,
                                &(struct azr__http1_callbacks){http_on_head, NULL, NULL}, ws);
  if (!rc) ws->http_ready = true;
  if (!rc) rc = azr__connect(curl, &o, &stream_cb, ws, &ws->stream);
  if (!rc) watch_drain(ws->stream);
  if (rc) {
    ws->finished = true;
    destroy(ws);
    return rc;
  }
  ws->state = WS_CONNECTING;
  arm_timer(ws, TIMER_HANDSHAKE, ws->opt.handshake_timeout_ms);
  *out = ws;
  return AZR_OK;
}

int azr__ws_accept(struct azr__stream *s, const char *client_key, const char *subprotocol, const uint8_t *leftover,
                   size_t leftover_len, const struct azr__ws_options *opt, const struct azr__ws_callbacks *cb,
                   void *ud, struct azr__ws **out) {
  struct azr__ws *ws = ws_new(s->loop, s->mem, opt, cb, ud);
  if (!ws) return AZR_E_NOMEM;
  struct azr__buf resp;
  azr__buf_init(&resp, ws->mem, AZR_MAX_HTTP_HEAD);
  int rc = azr__ws_server_response(&resp, client_key, subprotocol);
  if (!rc) rc = start_session(ws, false);
  if (!rc && leftover_len) rc = azr__buf_append(&ws->leftover, leftover, leftover_len);
  if (!rc) rc = azr__stream_write(s, resp.data, resp.len);
  azr__buf_free(&resp);
  if (rc) {
    ws->finished = true;
    destroy(ws);
    return rc;
  }
  if (subprotocol) snprintf(ws->protocol, sizeof ws->protocol, "%s", subprotocol);
  ws->stream = s;
  azr__stream_set_owner(s, &stream_cb, ws);
  watch_drain(s);
  ws->state = WS_OPEN;
  start_keepalive(ws);
  if (ws->leftover.len) arm_timer(ws, TIMER_LEFTOVER, 0);
  *out = ws;
  return AZR_OK;
}

/* ---- public operations ---- */

size_t azr__ws_queued(const struct azr__ws *ws) {
  return ws->item_bytes + (ws->session_ready ? ws->session.out.len : 0) +
         (ws->stream ? azr__stream_queued(ws->stream) : 0);
}

bool azr__ws_is_open(const struct azr__ws *ws) { return ws->state == WS_OPEN; }
bool azr__ws_keepalive_expired(const struct azr__ws *ws) { return ws->keepalive_expired; }
void *azr__ws_user_data(const struct azr__ws *ws) { return ws->ud; }
void azr__ws_set_user_data(struct azr__ws *ws, void *ud) { ws->ud = ud; }
void azr__ws_set_callbacks(struct azr__ws *ws, const struct azr__ws_callbacks *cb) { ws->cb = *cb; }
struct azr__stream *azr__ws_stream(const struct azr__ws *ws) { return ws->stream; }
const char *azr__ws_protocol(const struct azr__ws *ws) { return ws->protocol; }

static int enqueue(struct azr__ws *ws, struct ws_item *it) {
  it->next = NULL;
  if (ws->tail) ws->tail->next = it;
  else ws->head = it;
  ws->tail = it;
  pump_output(ws);
  return AZR_OK;
}

int azr__ws_send_part(struct azr__ws *ws, uint8_t opcode, const void *data, size_t len, bool fin) {
  if (ws->state != WS_OPEN || ws->close_requested) return AZR_E_CLOSED;
  if (opcode != AZR__WS_TEXT && opcode != AZR__WS_BINARY) return AZR_E_INVALID_ARG;
  /* A message is always accepted when no other message waits (bytes the stream holds while corked or
   * while the socket is slow are at most a frame or two: pump_output stops encoding past
   * ENCODE_LOW_WATER), so one larger than the cap can still be sent on its own. */
  size_t queued = azr__ws_queued(ws);
  if (ws->item_bytes > 0 && queued + len > ws->opt.send_queue_cap) {
    ws->want_writable = true;
    return AZR_E_WOULDBLOCK;
  }
  struct ws_item *it = azr__malloc(ws->mem, sizeof *it + len);
  if (!it) return AZR_E_NOMEM;
  memset(it, 0, sizeof *it);
  it->opcode = opcode;
  it->fin = fin;
  it->len = len;
  if (len) memcpy(it->data, data, len);
  ws->item_bytes += len;
  return enqueue(ws, it);
}

int azr__ws_send(struct azr__ws *ws, uint8_t opcode, const void *data, size_t len) {
  return azr__ws_send_part(ws, opcode, data, len, true);
}

int azr__ws_send_source(struct azr__ws *ws, uint8_t opcode, azr__ws_source_fn fn, azr__ws_source_done_fn done,
                        void *src_ud) {
  if (ws->state != WS_OPEN || ws->close_requested) return AZR_E_CLOSED;
  if (!fn || (opcode != AZR__WS_TEXT && opcode != AZR__WS_BINARY)) return AZR_E_INVALID_ARG;
  struct ws_item *it = azr__calloc(ws->mem, 1, sizeof *it);
  if (!it) return AZR_E_NOMEM;
  it->opcode = opcode;
  it->fin = true;
  it->is_source = true;
  it->fn = fn;
  it->done = done;
  it->src_ud = src_ud;
  it->next = NULL;
  if (ws->tail) ws->tail->next = it;
  else ws->head = it;
  ws->tail = it;
  uv_timer_start(&ws->replay_timer, on_replay_timer, 0, 0);
  return AZR_OK;
}

void azr__ws_source_ready(struct azr__ws *ws) {
  if (ws->state == WS_OPEN || ws->state == WS_CLOSING) pump_output(ws);
}

static int send_control(struct azr__ws *ws, bool ping, const void *payload, size_t len) {
  if (!ws->session_ready || ws->state == WS_DONE || ws->session.close_sent) return AZR_E_CLOSED;
  if (len > AZR_MAX_WS_CONTROL_PAYLOAD) return AZR_E_TOO_BIG;
  int rc = ping ? azr__ws_session_send_ping(&ws->session, payload, len)
                : azr__ws_session_send_pong(&ws->session, payload, len);
  flush_session(ws);
  char pre[48];
  WS_TRACE(ws, AZR_LOG_DEBUG, "%ssent a %s (%zu bytes)", trace_prefix(ws, pre, sizeof pre), ping ? "ping" : "pong", len);
  return rc;
}

int azr__ws_ping(struct azr__ws *ws, const void *payload, size_t len) { return send_control(ws, true, payload, len); }
int azr__ws_pong(struct azr__ws *ws, const void *payload, size_t len) { return send_control(ws, false, payload, len); }

int azr__ws_close(struct azr__ws *ws, uint16_t code, const char *reason) {
  if (ws->state == WS_CONNECTING || ws->state == WS_HANDSHAKE) {
    azr__ws_abort(ws);
    return AZR_OK;
  }
  if (ws->state != WS_OPEN) return AZR_E_CLOSED;
  if (code && !azr__ws_close_code_valid(code)) return AZR_E_INVALID_ARG;
  ws->state = WS_CLOSING;
  ws->close_requested = true;
  ws->close_code = code;
  snprintf(ws->close_reason, sizeof ws->close_reason, "%s", reason ? reason : "");
  pump_output(ws);
  return AZR_OK;
}

void azr__ws_abort(struct azr__ws *ws) {
  if (ws->finished) return;
  if (ws->state == WS_CONNECTING || ws->state == WS_HANDSHAKE) {
    /* Not open yet: report the cancellation as a failed open, from the loop. */
    ws->finished = true;
    ws->state = WS_DONE;
    if (ws->stream) azr__stream_close(ws->stream, AZR__CLOSE_ABORT);
    ws->stream = NULL;
    ws->final_status = AZR_E_CLOSED;
    ws->cb.on_close = NULL;
    arm_timer(ws, TIMER_FINAL, 0);
    return;
  }
  finish(ws, AZR_E_CLOSED, 1006, "aborted");
}

struct azr__stream *azr__ws_detach_stream(struct azr__ws *ws) {
  struct azr__stream *s = ws->stream;
  if (!s || ws->finished) return NULL;
  ws->stream = NULL; /* finish() leaves a detached stream alone */
  finish(ws, AZR_E_CONN_RESET, 1006, "connection lost");
  return s;
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
  if (ws->deferred || ws->peer_closed) {
    /* Replay from the loop, not inside the caller. */
    ws->replay_pending = true;
    uv_timer_start(&ws->replay_timer, on_replay_timer, 0, 0);
    return;
  }
  if (ws->stream && !ws->input_stopped) azr__stream_resume(ws->stream);
}

void azr__ws_set_wait_for_close(struct azr__ws *ws, bool wait) { ws->opt.dont_wait_for_close = !wait; }

void azr__ws_notify_writable(struct azr__ws *ws) {
  ws->want_writable = true;
  maybe_writable(ws);
}
