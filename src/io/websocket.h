/* SPDX-License-Identifier: MIT */
/* A WebSocket endpoint on a stream: the opening handshake (client side), a bounded send queue that
 * fragments messages at max_frame_size and pulls streamed sources on demand, pause/resume, and the
 * close handshake. The protocol logic is proto/ws_session; this file only moves bytes and time.
 *
 * Lifetime: on_close is the last callback and fires exactly once for an endpoint that opened (also
 * after azr__ws_abort, from the loop); the endpoint is freed when it returns. A client endpoint whose
 * handshake fails gets on_open with a failure status instead, and is freed when that returns. */
#ifndef AZR_IO_WEBSOCKET_H
#define AZR_IO_WEBSOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "io/connect.h"
#include "io/stream.h"
#include "proto/http1.h"
#include "proto/ws_session.h"

struct azr__ws;

struct azr__ws_callbacks {
  /* Client handshake outcome. On failure `response` is the server's non-101 head when there was one
   * (status in response->status_code): AZR_E_AUTH for 401/403, AZR_E_ENDPOINT_NOT_FOUND for 404,
   * AZR_E_HTTP_STATUS for any other status; transport failures carry their own status. */
  void (*on_open)(struct azr__ws *ws, int status, const struct azr__http_head *response, const char *detail);
  void (*on_message_begin)(struct azr__ws *ws, uint8_t opcode);
  void (*on_message_data)(struct azr__ws *ws, uint8_t *data, size_t len, bool frame_end, bool message_end);
  void (*on_ping)(struct azr__ws *ws, const uint8_t *payload, size_t len);
  void (*on_pong)(struct azr__ws *ws, const uint8_t *payload, size_t len);
  /* Queued bytes fell below the low-water mark after a send returned AZR_E_WOULDBLOCK. */
  void (*on_writable)(struct azr__ws *ws);
  /* Final. status AZR_OK after a completed close handshake (code/reason are the peer's, or ours if the
   * peer never answered and wait_for_close_response is off); otherwise the failure (AZR_E_CONN_RESET
   * for a connection lost without a Close: code 1006; AZR_E_PROTOCOL/AZR_E_UTF8/AZR_E_TOO_BIG when
   * the peer broke the protocol: code is what we sent; AZR_E_TIMEOUT when the close handshake timed
   * out). reason is NUL-terminated. */
  void (*on_close)(struct azr__ws *ws, int status, uint16_t code, const char *reason);
  /* With session.defer_close_reply: the peer's Close arrived and every message before it was
   * delivered. The owner may still send, and must end with azr__ws_close(); when this is NULL the
   * Close is answered at once. */
  void (*on_peer_close)(struct azr__ws *ws, uint16_t code, const char *reason);
};

struct azr__ws_options {
  struct azr__ws_session_config session; /* is_client is set by the constructor */
  size_t max_frame_size;       /* outgoing fragments, default 128 KiB */
  size_t send_queue_cap;       /* WOULDBLOCK above this many unsent bytes, default 4 MiB */
  size_t send_low_water;       /* on_writable threshold, default cap / 4 */
  uint32_t close_timeout_ms;   /* wait for the peer's Close, default 5000 */
  bool dont_wait_for_close;    /* close the connection right after our Close frame */
  uint32_t handshake_timeout_ms; /* client: from connect to the 101, default 30000 */
  /* Keep-alive (io/keepalive.h), from the moment the endpoint opens: after keepalive_ms without
   * sending, an unsolicited Pong goes out (0 = off); with keepalive_reply_timeout_ms > 0 it is a Ping
   * instead, and when nothing at all arrives within that long after it, the endpoint ends with
   * AZR_E_TIMEOUT (code 1006). While the owner has paused reading no deadline runs. */
  uint32_t keepalive_ms;
  uint32_t keepalive_reply_timeout_ms;
  /* After our Close, input that arrives while the owner has paused reading is dropped, so the
   * peer's Close reply can be read (the owner asked to close; nothing else will read it). */
  bool drop_input_after_close;
  /* Optional trace: handshake heads at AZR_LOG_VERBOSE, frames at AZR_LOG_DEBUG (redacted by the
   * log). log_category must be static; log_id, when not 0, names the connection in each line. */
  const struct azr__log *log;
  const char *log_category;
  uint64_t log_id;
};

void azr__ws_options_default(struct azr__ws_options *o);

struct azr__ws_connect_request {
  const char *url;                   /* ws://host[:port]/path?query or wss://... */
  const char *const *extra_headers;  /* NULL, or {name, value, ..., NULL} */
  const char *subprotocols;          /* offered Sec-WebSocket-Protocol list, or NULL */
};

/* Client: connects through libcurl (transport options from `transport`; host, port and TLS come from
 * the URL) and performs the opening handshake. */
int azr__ws_connect(struct azr__curl *curl, const struct azr__connect_options *transport,
                    const struct azr__ws_connect_request *req, const struct azr__ws_options *opt,
                    const struct azr__ws_callbacks *cb, void *ud, struct azr__ws **out);

/* Server: takes over an open stream whose upgrade request was validated, writes the 101 response for
 * client_key (with subprotocol when not NULL) and feeds `leftover` (bytes after the request head) to
 * the session. */
int azr__ws_accept(struct azr__stream *s, const char *client_key, const char *subprotocol, const uint8_t *leftover,
                   size_t leftover_len, const struct azr__ws_options *opt, const struct azr__ws_callbacks *cb,
                   void *ud, struct azr__ws **out);

/* Queues a whole message (copied). AZR_E_WOULDBLOCK when the queue is over its cap (a message is
 * always accepted into an empty queue), AZR_E_CLOSED once closing. */
int azr__ws_send(struct azr__ws *ws, uint8_t opcode, const void *data, size_t len);
/* Queues part of a message: the first part of a message chooses the opcode; `fin` ends the message. */
int azr__ws_send_part(struct azr__ws *ws, uint8_t opcode, const void *data, size_t len, bool fin);

/* A pull source: fills buf (up to len) and returns the byte count; sets *eof on the last piece.
 * Return 0 without eof when nothing is available yet (call azr__ws_source_ready later), or a
 * negative -status to fail the send (the connection is then closed with 1011). */
typedef ssize_t (*azr__ws_source_fn)(void *src_ud, uint8_t *buf, size_t len, bool *eof);
/* Completion of a source (status AZR_OK, or why it did not finish). Called from the loop. */
typedef void (*azr__ws_source_done_fn)(void *src_ud, int status);
int azr__ws_send_source(struct azr__ws *ws, uint8_t opcode, azr__ws_source_fn fn, azr__ws_source_done_fn done,
                        void *src_ud);
void azr__ws_source_ready(struct azr__ws *ws);

int azr__ws_ping(struct azr__ws *ws, const void *payload, size_t len);
int azr__ws_pong(struct azr__ws *ws, const void *payload, size_t len);
/* Starts the close handshake after everything queued has been sent. */
int azr__ws_close(struct azr__ws *ws, uint16_t code, const char *reason);
/* Drops the connection at once (TCP reset); on_close follows from the loop with AZR_E_CLOSED. */
void azr__ws_abort(struct azr__ws *ws);
/* Takes the stream away from an open endpoint without a byte or a close reaching it: the endpoint
 * ends as if the connection were lost (on_close from the loop: AZR_E_CONN_RESET, 1006) and the
 * caller owns the stream and must set its owner at once. NULL when there is no stream (any more). */
struct azr__stream *azr__ws_detach_stream(struct azr__ws *ws);

/* Pausing stops message events at once (events of bytes already read are kept and replayed on
 * resume) and stops reading, so TCP flow control reaches the peer. */
void azr__ws_pause(struct azr__ws *ws);
void azr__ws_resume(struct azr__ws *ws);
void azr__ws_set_wait_for_close(struct azr__ws *ws, bool wait);
/* Asks for on_writable once the queue is below its low-water mark (at once if it already is), for
 * owners that pause their source before the queue fills instead of waiting for AZR_E_WOULDBLOCK. */
void azr__ws_notify_writable(struct azr__ws *ws);

/* Unsent bytes: queued messages + encoded frames + the stream's queue. */
size_t azr__ws_queued(const struct azr__ws *ws);
bool azr__ws_is_open(const struct azr__ws *ws);
/* During on_close: the end came from keepalive_reply_timeout_ms (a silent peer). */
bool azr__ws_keepalive_expired(const struct azr__ws *ws);
void *azr__ws_user_data(const struct azr__ws *ws);
void azr__ws_set_user_data(struct azr__ws *ws, void *ud);
void azr__ws_set_callbacks(struct azr__ws *ws, const struct azr__ws_callbacks *cb);
struct azr__stream *azr__ws_stream(const struct azr__ws *ws);
/* The Sec-WebSocket-Protocol the server chose (client side), or "". */
const char *azr__ws_protocol(const struct azr__ws *ws);

#endif
