/* SPDX-License-Identifier: MIT */
/* What the files of the WebSocket endpoint share (io/websocket.c and io/ws_*.c); nothing outside
 * src/io includes this but the endpoint's unit test. The states are described in websocket.c. */
#ifndef AZR_IO_WEBSOCKET_INTERNAL_H
#define AZR_IO_WEBSOCKET_INTERNAL_H

#include "io/keepalive.h"
#include "io/websocket.h"
#include "util/buf.h"
#include "util/log.h"

/* Frames are encoded into the session's buffer only while less than this is waiting to be written,
 * so control frames never wait behind more than about one data frame. */
#define AZR__WS_ENCODE_LOW_WATER (64u * 1024u)

/* In the order of an endpoint's life: OPEN up to CLOSED are the running states (azr__ws_running). */
enum azr__ws_state {
  WS_CONNECTING,  /* client: the transport (TCP, proxy, TLS) is connecting */
  WS_HANDSHAKE,   /* client: our upgrade request is sent, waiting for the 101 */
  WS_OPEN,        /* messages both ways */
  WS_PEER_CLOSED, /* defer_close_reply: the peer's Close arrived, messages before it still go to the owner */
  WS_HALF_CLOSED, /* defer_close_reply: on_peer_close was called; the owner sends, then azr__ws_close */
  WS_CLOSING,     /* azr__ws_close (or a failed send source): the queue goes out, then our Close */
  WS_ANSWERING,   /* as WS_CLOSING, but the peer's Close already arrived: our Close completes it */
  WS_CLOSE_SENT,  /* our Close is out; the close deadline waits for the peer's */
  WS_CLOSED,      /* both Closes exchanged; messages read before the peer's still go to the owner */
  WS_DONE         /* finished: on_close (if any) runs from the loop, then the endpoint is freed */
};

/* A queued message (or a part of one), or a pull source. */
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

struct azr__ws {
  const struct azr__mem *mem;
  uv_loop_t *loop;
  struct azr__stream *stream;
  struct azr__ws_session session;
  bool session_ready;
  struct azr__ws_options opt;
  struct azr__ws_callbacks cb;
  void *ud;
  enum azr__ws_state state; /* changed only by azr__ws_set_state */
  /* client handshake (ws_client_handshake.c) */
  struct azr__http1 http;
  bool http_ready;
  struct azr__http_head response;
  bool have_response;
  char key[25];
  struct azr__buf request;
  char *offered_protocols;
  char protocol[128];
  /* server: bytes that followed the upgrade request (ws_server_accept.c) */
  struct azr__buf leftover;
  /* send queue (ws_send_queue.c) */
  struct ws_item *head, *tail;
  size_t item_bytes;
  uint8_t *scratch;
  bool want_writable;
  bool in_send; /* inside a caller's send: on_writable waits for the loop (ws->soon) */
  int source_status; /* a send source failed: the status the end reports */
  uint16_t close_code; /* our Close, once asked for */
  char close_reason[124];
  /* input and pause (ws_input.c) */
  bool paused;
  bool input_stopped; /* our output (pongs) piled up: reading waits for the stream's drain */
  bool replay_pending;
  bool peer_close_reported; /* on_peer_close was delivered (once) */
  struct ws_deferred *deferred, *deferred_tail;
  uint16_t peer_code; /* the peer's Close, once received */
  char peer_reason[128];
  /* "soon": work for the next loop iteration (replay, a source's first pull, the leftover bytes) */
  uv_timer_t soon;
  int handles_open;
  struct azr__keepalive keepalive;
  bool keepalive_expired;
  /* the deadline of the current state: the handshake, the close handshake, or (0 ms) the end */
  uv_timer_t deadline;
  int final_status;
  uint16_t final_code;
  char final_reason[128];
};

/* ---- websocket.c: states, lifetime, close handshake ---- */
void azr__ws_set_state(struct azr__ws *ws, enum azr__ws_state next);
struct azr__ws *azr__ws_create(uv_loop_t *loop, const struct azr__mem *mem, const struct azr__ws_options *opt,
                               const struct azr__ws_callbacks *cb, void *ud, enum azr__ws_state initial);
/* Releases an endpoint no callback will be delivered for (a failed constructor, a failed open). */
void azr__ws_destroy(struct azr__ws *ws);
/* Ends an endpoint that opened: closes the stream and delivers on_close from the loop. */
void azr__ws_finish(struct azr__ws *ws, int status, uint16_t code, const char *reason);
/* Ends a client endpoint before it opened: on_open with the failure, then freed. */
void azr__ws_fail_open(struct azr__ws *ws, int status, const struct azr__http_head *head, const char *detail);
void azr__ws_arm_deadline(struct azr__ws *ws, uint64_t ms);
void azr__ws_arm_soon(struct azr__ws *ws);
int azr__ws_start_session(struct azr__ws *ws, bool is_client);
/* HANDSHAKE -> OPEN, or the server's start: keep-alive runs from here. */
void azr__ws_opened(struct azr__ws *ws);
/* After the session consumed input: send what it produced, end on a violation, finish the close. */
void azr__ws_after_input(struct azr__ws *ws, int rc);
/* Our Close goes out once the queue is empty (from the open or half-closed states). */
void azr__ws_request_close(struct azr__ws *ws, uint16_t code, const char *reason);
/* The send queue is empty and a Close was asked for: sends it. */
void azr__ws_send_close_frame(struct azr__ws *ws);
/* The peer's Close arrived and every message before it was delivered. */
void azr__ws_peer_close_complete(struct azr__ws *ws);
/* States in which the endpoint still runs (reads, sends what is queued). */
bool azr__ws_running(const struct azr__ws *ws);
/* The peer's Close arrived (in any state after it). */
bool azr__ws_peer_closed(const struct azr__ws *ws);
extern const struct azr__stream_callbacks azr__ws_stream_callbacks;
/* pump_output stops encoding once AZR__WS_ENCODE_LOW_WATER bytes wait in the stream, so the stream
 * must report draining from that level, not from its default (higher) mark. */
void azr__ws_watch_drain(struct azr__stream *s);

/* Trace lines: "connection 7: " or "" as their prefix. */
#define WS_TRACE(ws, lvl, ...) AZR_LOG((ws)->opt.log, (lvl), (ws)->opt.log_category, __VA_ARGS__)
const char *azr__ws_trace_prefix(const struct azr__ws *ws, char *buf, size_t cap);
const char *azr__ws_opcode_name(uint8_t opcode);

/* ---- ws_input.c: session events, pause and replay ---- */
extern const struct azr__ws_session_callbacks azr__ws_input_callbacks;
/* Delivers deferred events until the owner pauses again; then reading resumes. */
void azr__ws_replay_deferred(struct azr__ws *ws);
void azr__ws_free_deferred(struct azr__ws *ws);
/* We sent our Close while the owner had paused reading (drop_input_after_close): input is dropped. */
bool azr__ws_discarding(const struct azr__ws *ws);
/* Stops reading while our own output (automatic pongs) piles up in the stream. */
void azr__ws_limit_input(struct azr__ws *ws);

/* ---- ws_send_queue.c: the send queue, pull sources, control frames ---- */
void azr__ws_pump_output(struct azr__ws *ws);
void azr__ws_flush_session(struct azr__ws *ws);
void azr__ws_free_items(struct azr__ws *ws, int status);
void azr__ws_maybe_writable(struct azr__ws *ws);
int azr__ws_send_control(struct azr__ws *ws, bool ping, const void *payload, size_t len);

/* ---- ws_client_handshake.c ---- */
/* azr__ws_connect in two steps, so that a test can run the handshake on a stream of its own: the
 * endpoint with its request (CONNECTING), then its stream, whose callbacks must be
 * azr__ws_stream_callbacks with the endpoint as owner; on_connect sends the request. */
int azr__ws_client_new(uv_loop_t *loop, const struct azr__mem *mem, const char *host_header, const char *target,
                       const struct azr__ws_connect_request *req, const struct azr__ws_options *opt,
                       const struct azr__ws_callbacks *cb, void *ud, struct azr__ws **out);
void azr__ws_client_start(struct azr__ws *ws, struct azr__stream *s);
void azr__ws_client_connected(struct azr__stream *s, int status, const char *detail);
void azr__ws_client_handshake_bytes(struct azr__ws *ws, uint8_t *data, size_t len);

/* ---- ws_server_accept.c ---- */
/* Feeds the bytes that followed the upgrade request (from the loop, once open). */
void azr__ws_server_leftover(struct azr__ws *ws);

#endif
