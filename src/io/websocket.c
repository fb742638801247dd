/* SPDX-License-Identifier: MIT */
/* WebSocket endpoint core: the endpoint's states, its life and end, and the close handshake.
 *
 * The files of the endpoint (shared declarations in websocket_internal.h):
 *   websocket.c            states and transitions, lifetime, stream events, close handshake, keep-alive
 *   ws_client_handshake.c  azr__ws_connect: the upgrade request and the server's answer
 *   ws_server_accept.c     azr__ws_accept: the 101 answer and the bytes that followed the request
 *   ws_send_queue.c        the send queue (fragmenting, pull sources), control frames, on_writable
 *   ws_input.c             message events to the owner, pause/resume and the replay of held events
 *
 * States (enum azr__ws_state). Every change goes through azr__ws_set_state, which checks it against
 * this table and runs the state's deadline (one timer: what it guards follows from the state).
 *
 *   CONNECTING   client: transport connecting        -> HANDSHAKE (connected, request written), DONE
 *   HANDSHAKE    client: waiting for the 101         -> OPEN (101 checked), DONE (refused, failed, timeout)
 *   OPEN         messages both ways                  -> CLOSING (azr__ws_close, a send source failed),
 *                                                       PEER_CLOSED (peer's Close, defer_close_reply),
 *                                                       CLOSED (peer's Close, answered at once), DONE
 *   PEER_CLOSED  peer's Close read; what came before   -> HALF_CLOSED (delivered: on_peer_close),
 *                it still goes to the owner              ANSWERING (azr__ws_close), DONE
 *   HALF_CLOSED  the owner still sends, then closes  -> ANSWERING (azr__ws_close), DONE
 *   CLOSING      queue drains, then our Close        -> CLOSE_SENT (Close written), ANSWERING (peer's
 *                                                       Close, deferred reply), CLOSED (peer's Close,
 *                                                       answered by the session), DONE
 *   ANSWERING    queue drains, then our Close ends   -> DONE (Close written: the handshake is complete)
 *                the handshake
 *   CLOSE_SENT   close deadline runs (restarted by   -> CLOSED (peer's Close), DONE (deadline, loss)
 *                the peer's bytes)
 *   CLOSED       both Closes exchanged; held events  -> DONE (delivered, deadline, loss)
 *                go to a paused owner first
 *   DONE         on_close from the loop, then freed  (final)
 *
 * Deadlines: CONNECTING/HANDSHAKE the handshake timeout (armed by azr__ws_connect), CLOSE_SENT and
 * CLOSED the close timeout (armed on entering CLOSE_SENT), DONE 0 ms (on_close from the loop).
 * Flags that are not states: paused, input_stopped (reading held back), want_writable,
 * replay_pending, peer_close_reported (on_peer_close is delivered once), keepalive_expired. */
#include "io/websocket_internal.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "azrelay/common.h"
#include "util/limits.h"

#define DEFAULT_MAX_FRAME (128u * 1024u)
#define DEFAULT_SEND_CAP (4u * 1024u * 1024u)
#define DEFAULT_CLOSE_TIMEOUT_MS 5000u
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 30000u

#define BIT(s) (1u << (s))
/* allowed[from] = the states `from` may change to. */
static const unsigned allowed[] = {
    [WS_CONNECTING] = BIT(WS_HANDSHAKE) | BIT(WS_DONE),
    [WS_HANDSHAKE] = BIT(WS_OPEN) | BIT(WS_DONE),
    [WS_OPEN] = BIT(WS_CLOSING) | BIT(WS_PEER_CLOSED) | BIT(WS_CLOSED) | BIT(WS_DONE),
    [WS_PEER_CLOSED] = BIT(WS_HALF_CLOSED) | BIT(WS_ANSWERING) | BIT(WS_DONE),
    [WS_HALF_CLOSED] = BIT(WS_ANSWERING) | BIT(WS_DONE),
    [WS_CLOSING] = BIT(WS_CLOSE_SENT) | BIT(WS_ANSWERING) | BIT(WS_CLOSED) | BIT(WS_DONE),
    [WS_ANSWERING] = BIT(WS_DONE),
    [WS_CLOSE_SENT] = BIT(WS_CLOSED) | BIT(WS_DONE),
    [WS_CLOSED] = BIT(WS_DONE),
    [WS_DONE] = 0,
};

static void on_deadline(uv_timer_t *t);

void azr__ws_arm_deadline(struct azr__ws *ws, uint64_t ms) { uv_timer_start(&ws->deadline, on_deadline, ms, 0); }

void azr__ws_set_state(struct azr__ws *ws, enum azr__ws_state next) {
  if (!(allowed[ws->state] & BIT(next))) {
    /* A bug here, not the peer's doing: caught by the tests' debug builds, ignored otherwise. */
    assert(!"WebSocket state change outside the table");
    return;
  }
  ws->state = next;
  switch (next) {
  case WS_OPEN: /* the handshake deadline is over */
    uv_timer_stop(&ws->deadline);
    break;
  case WS_CLOSE_SENT:
    azr__ws_arm_deadline(ws, ws->opt.close_timeout_ms);
    break;
  case WS_DONE: /* on_close from the loop, never inside the caller */
    azr__ws_arm_deadline(ws, 0);
    break;
  default:
    break;
  }
}

bool azr__ws_running(const struct azr__ws *ws) { return ws->state >= WS_OPEN && ws->state < WS_DONE; }

bool azr__ws_peer_closed(const struct azr__ws *ws) {
  return ws->state == WS_PEER_CLOSED || ws->state == WS_HALF_CLOSED || ws->state == WS_ANSWERING ||
         ws->state == WS_CLOSED;
}

/* ---- options ---- */

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
  if (!o->session.out_cap) o->session.out_cap = o->max_frame_size + AZR__WS_ENCODE_LOW_WATER + 64;
}

/* ---- trace ---- */

const char *azr__ws_opcode_name(uint8_t opcode) {
  switch (opcode) {
  case AZR__WS_CONTINUATION: return "continuation";
  case AZR__WS_TEXT: return "text";
  case AZR__WS_BINARY: return "binary";
  default: return "control";
  }
}

const char *azr__ws_trace_prefix(const struct azr__ws *ws, char *buf, size_t cap) {
  if (!ws->opt.log_id) return "";
  snprintf(buf, cap, "connection %llu: ", (unsigned long long)ws->opt.log_id);
  return buf;
}

/* ---- lifetime ---- */

static void on_handle_closed(uv_handle_t *h) {
  struct azr__ws *ws = h->data;
  if (--ws->handles_open > 0) return;
  azr__ws_free_items(ws, AZR_E_CLOSED);
  azr__ws_free_deferred(ws);
  if (ws->session_ready) azr__ws_session_free(&ws->session);
  if (ws->http_ready) azr__http1_free(&ws->http);
  azr__http_head_free(&ws->response);
  azr__buf_free(&ws->request);
  azr__buf_free(&ws->leftover);
  azr__free(ws->mem, ws->offered_protocols);
  azr__free(ws->mem, ws->scratch);
  azr__free(ws->mem, ws);
}

void azr__ws_destroy(struct azr__ws *ws) {
  uv_timer_stop(&ws->deadline);
  uv_timer_stop(&ws->soon);
  uv_close((uv_handle_t *)&ws->deadline, on_handle_closed);
  uv_close((uv_handle_t *)&ws->soon, on_handle_closed);
  azr__keepalive_close(&ws->keepalive, on_handle_closed);
}

void azr__ws_finish(struct azr__ws *ws, int status, uint16_t code, const char *reason) {
  if (ws->state == WS_DONE) return;
  azr__ws_set_state(ws, WS_DONE);
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
}

void azr__ws_fail_open(struct azr__ws *ws, int status, const struct azr__http_head *head, const char *detail) {
  azr__ws_set_state(ws, WS_DONE);
  if (ws->stream) {
    azr__stream_close(ws->stream, AZR__CLOSE_ABORT);
    ws->stream = NULL;
  }
  if (ws->cb.on_open) ws->cb.on_open(ws, status, head, detail);
  azr__ws_destroy(ws);
}

static void on_deadline(uv_timer_t *t) {
  struct azr__ws *ws = t->data;
  switch (ws->state) {
  case WS_CONNECTING:
  case WS_HANDSHAKE:
    azr__ws_fail_open(ws, AZR_E_TIMEOUT, NULL, "no WebSocket handshake response in time");
    break;
  case WS_CLOSE_SENT:
  case WS_CLOSED:
    azr__ws_finish(ws, ws->source_status ? ws->source_status : AZR_E_TIMEOUT, ws->close_code,
                   "the peer did not answer the close handshake");
    break;
  case WS_DONE:
    azr__ws_free_items(ws, AZR_E_CLOSED);
    if (ws->cb.on_close) ws->cb.on_close(ws, ws->final_status, ws->final_code, ws->final_reason);
    azr__ws_destroy(ws);
    break;
  default:
    break;
  }
}

/* Runs from the loop: the server's leftover bytes, a resume's replay, and the first pull of a send
 * source (so that its callbacks never run inside the call that queued it). */
static void on_soon(uv_timer_t *t) {
  struct azr__ws *ws = t->data;
  azr__ws_server_leftover(ws);
  if (ws->replay_pending) {
    ws->replay_pending = false;
    azr__ws_replay_deferred(ws);
  }
  if (azr__ws_running(ws)) azr__ws_pump_output(ws);
}

void azr__ws_arm_soon(struct azr__ws *ws) { uv_timer_start(&ws->soon, on_soon, 0, 0); }

/* ---- keep-alive ---- */

static void keepalive_send(struct azr__keepalive *ka, bool probe) {
  struct azr__ws *ws = ka->owner;
  if (azr__ws_running(ws)) (void)azr__ws_send_control(ws, probe, NULL, 0);
}

static void keepalive_expired(struct azr__keepalive *ka) {
  struct azr__ws *ws = ka->owner;
  char reason[96];
  snprintf(reason, sizeof reason, "no answer to a keep-alive ping within %u ms", ws->opt.keepalive_reply_timeout_ms);
  ws->keepalive_expired = true;
  azr__ws_finish(ws, AZR_E_TIMEOUT, 1006, reason);
}

void azr__ws_opened(struct azr__ws *ws) {
  if (ws->state != WS_OPEN) azr__ws_set_state(ws, WS_OPEN);
  azr__keepalive_start(&ws->keepalive, ws->opt.keepalive_ms, ws->opt.keepalive_reply_timeout_ms);
  azr__keepalive_suspend_replies(&ws->keepalive, ws->paused);
}

/* ---- construction ---- */

struct azr__ws *azr__ws_create(uv_loop_t *loop, const struct azr__mem *mem, const struct azr__ws_options *opt,
                               const struct azr__ws_callbacks *cb, void *ud, enum azr__ws_state initial) {
  struct azr__ws *ws = azr__calloc(mem, 1, sizeof *ws);
  if (!ws) return NULL;
  ws->mem = mem ? mem : azr__mem_default();
  ws->loop = loop;
  ws->state = initial;
  if (opt) ws->opt = *opt;
  else azr__ws_options_default(&ws->opt);
  normalize_options(&ws->opt);
  if (cb) ws->cb = *cb;
  ws->ud = ud;
  azr__buf_init(&ws->request, ws->mem, AZR_MAX_HTTP_HEAD);
  azr__buf_init(&ws->leftover, ws->mem, 0);
  uv_timer_init(loop, &ws->deadline);
  uv_timer_init(loop, &ws->soon);
  ws->deadline.data = ws->soon.data = ws;
  static const struct azr__keepalive_callbacks keepalive_cb = {keepalive_send, keepalive_expired};
  azr__keepalive_init(loop, &ws->keepalive, &keepalive_cb, ws);
  ws->handles_open = 3;
  return ws;
}

int azr__ws_start_session(struct azr__ws *ws, bool is_client) {
  ws->opt.session.is_client = is_client;
  int rc = azr__ws_session_init(&ws->session, &ws->opt.session, &azr__ws_input_callbacks, ws, ws->mem);
  if (rc) return rc;
  ws->session_ready = true;
  return AZR_OK;
}

void azr__ws_watch_drain(struct azr__stream *s) {
  azr__stream_set_watermarks(s, AZR__WS_ENCODE_LOW_WATER / 4, AZR__WS_ENCODE_LOW_WATER, 0);
}

/* ---- close handshake ---- */

void azr__ws_request_close(struct azr__ws *ws, uint16_t code, const char *reason) {
  if (ws->state == WS_OPEN) azr__ws_set_state(ws, WS_CLOSING);
  else if (ws->state == WS_PEER_CLOSED || ws->state == WS_HALF_CLOSED) azr__ws_set_state(ws, WS_ANSWERING);
  ws->close_code = code;
  snprintf(ws->close_reason, sizeof ws->close_reason, "%s", reason ? reason : "");
}

void azr__ws_send_close_frame(struct azr__ws *ws) {
  azr__ws_session_send_close(&ws->session, ws->close_code, ws->close_reason);
  azr__ws_flush_session(ws);
  if (ws->state == WS_DONE) return; /* the stream could not take it */
  char pre[48];
  WS_TRACE(ws, AZR_LOG_DEBUG, "%ssent a close frame: %u %s", azr__ws_trace_prefix(ws, pre, sizeof pre),
           ws->close_code, ws->close_reason);
  if (ws->state == WS_ANSWERING) { /* a deferred answer to the peer's Close: the handshake is complete */
    azr__ws_finish(ws, ws->source_status, ws->peer_code, ws->peer_reason);
    return;
  }
  if (ws->opt.dont_wait_for_close) {
    azr__ws_finish(ws, ws->source_status, ws->close_code, ws->close_reason);
    return;
  }
  azr__ws_set_state(ws, WS_CLOSE_SENT);
  if (ws->paused && ws->stream && ws->opt.drop_input_after_close && !ws->input_stopped)
    azr__stream_resume(ws->stream);
}

/* The peer's Close arrived and everything before it was delivered. Either the session answered it
 * (the handshake is complete), or the owner deferred the answer (half-close): it still sends what
 * it has and ends with azr__ws_close(). */
void azr__ws_peer_close_complete(struct azr__ws *ws) {
  if (ws->state == WS_CLOSED) {
    azr__ws_free_deferred(ws);
    azr__ws_finish(ws, ws->source_status, ws->peer_code, ws->peer_reason);
    return;
  }
  if (ws->state == WS_PEER_CLOSED) azr__ws_set_state(ws, WS_HALF_CLOSED);
  if (!ws->peer_close_reported && (ws->state == WS_HALF_CLOSED || ws->state == WS_ANSWERING)) {
    ws->peer_close_reported = true;
    if (ws->cb.on_peer_close) ws->cb.on_peer_close(ws, ws->peer_code, ws->peer_reason);
    else (void)azr__ws_close(ws, ws->peer_code == 1005 ? 0 : ws->peer_code, "");
  }
  if (azr__ws_running(ws)) azr__ws_pump_output(ws);
}

void azr__ws_after_input(struct azr__ws *ws, int rc) {
  azr__ws_flush_session(ws);
  if (ws->state == WS_DONE) return;
  if (rc != AZR_OK) {
    azr__ws_finish(ws, rc, ws->session.close_code_sent, ws->session.error_text);
    return;
  }
  if (azr__ws_peer_closed(ws) && (!ws->deferred || azr__ws_discarding(ws))) {
    if (azr__ws_discarding(ws)) azr__ws_free_deferred(ws);
    azr__ws_peer_close_complete(ws);
    return;
  }
  azr__ws_pump_output(ws);
}

/* ---- stream events ---- */

static void st_read(struct azr__stream *s, uint8_t *data, size_t len) {
  struct azr__ws *ws = s->owner;
  azr__keepalive_received(&ws->keepalive);
  if (ws->state == WS_HANDSHAKE) {
    azr__ws_client_handshake_bytes(ws, data, len);
    return;
  }
  if (!azr__ws_running(ws)) return;
  /* A peer still sending after our Close is alive (a half-closed stream relaying its answer): the
   * close handshake deadline counts from its last bytes, not from our Close. */
  if (ws->state == WS_CLOSE_SENT) azr__ws_arm_deadline(ws, ws->opt.close_timeout_ms);
  int rc = azr__ws_session_recv(&ws->session, data, len);
  azr__ws_after_input(ws, rc);
  azr__ws_limit_input(ws);
}

static void st_end(struct azr__stream *s, int status) {
  struct azr__ws *ws = s->owner;
  if (ws->state == WS_HANDSHAKE || ws->state == WS_CONNECTING) {
    azr__ws_fail_open(ws, status ? status : AZR_E_CONN_RESET, NULL,
                      status ? azr__stream_error(s) : "the server closed the connection during the handshake");
    return;
  }
  if (ws->state == WS_DONE) return;
  if (azr__ws_peer_closed(ws)) {
    azr__ws_finish(ws, ws->source_status, ws->peer_code, ws->peer_reason);
    return;
  }
  azr__ws_finish(ws, status ? status : AZR_E_CONN_RESET, 1006,
                 status ? azr__stream_error(s) : "connection closed without a close frame");
}

static void st_drain(struct azr__stream *s) {
  struct azr__ws *ws = s->owner;
  if (ws->input_stopped) {
    ws->input_stopped = false;
    if (!ws->paused) azr__stream_resume(s);
  }
  azr__ws_pump_output(ws);
}

const struct azr__stream_callbacks azr__ws_stream_callbacks = {azr__ws_client_connected, st_read, st_end, st_drain};

/* ---- public operations ---- */

bool azr__ws_is_open(const struct azr__ws *ws) {
  return ws->state == WS_OPEN || ws->state == WS_PEER_CLOSED || ws->state == WS_HALF_CLOSED;
}
bool azr__ws_keepalive_expired(const struct azr__ws *ws) { return ws->keepalive_expired; }
void *azr__ws_user_data(const struct azr__ws *ws) { return ws->ud; }
void azr__ws_set_user_data(struct azr__ws *ws, void *ud) { ws->ud = ud; }
void azr__ws_set_callbacks(struct azr__ws *ws, const struct azr__ws_callbacks *cb) { ws->cb = *cb; }
struct azr__stream *azr__ws_stream(const struct azr__ws *ws) { return ws->stream; }
const char *azr__ws_protocol(const struct azr__ws *ws) { return ws->protocol; }
void azr__ws_set_wait_for_close(struct azr__ws *ws, bool wait) { ws->opt.dont_wait_for_close = !wait; }

int azr__ws_close(struct azr__ws *ws, uint16_t code, const char *reason) {
  if (ws->state == WS_CONNECTING || ws->state == WS_HANDSHAKE) {
    azr__ws_abort(ws);
    return AZR_OK;
  }
  if (!azr__ws_is_open(ws)) return AZR_E_CLOSED;
  if (code && !azr__ws_close_code_valid(code)) return AZR_E_INVALID_ARG;
  azr__ws_request_close(ws, code, reason);
  azr__ws_pump_output(ws);
  return AZR_OK;
}

void azr__ws_abort(struct azr__ws *ws) {
  if (ws->state == WS_DONE) return;
  if (ws->state == WS_CONNECTING || ws->state == WS_HANDSHAKE) {
    /* Not open yet: no callback (the owner gave up on it); freed from the loop. */
    azr__ws_set_state(ws, WS_DONE);
    if (ws->stream) azr__stream_close(ws->stream, AZR__CLOSE_ABORT);
    ws->stream = NULL;
    ws->final_status = AZR_E_CLOSED;
    ws->cb.on_close = NULL;
    return;
  }
  azr__ws_finish(ws, AZR_E_CLOSED, 1006, "aborted");
}

struct azr__stream *azr__ws_detach_stream(struct azr__ws *ws) {
  struct azr__stream *s = ws->stream;
  if (!s || ws->state == WS_DONE) return NULL;
  ws->stream = NULL; /* finish() leaves a detached stream alone */
  azr__ws_finish(ws, AZR_E_CONN_RESET, 1006, "connection lost");
  return s;
}
