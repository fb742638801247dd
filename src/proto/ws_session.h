/* SPDX-License-Identifier: MIT */
/* A WebSocket endpoint's protocol state, sans-I/O: bytes in -> message events; frames out -> bytes
 * appended to an output buffer the I/O layer drains. Client or server role (clients mask what they
 * send and require unmasked input; servers the reverse).
 *
 * Priority of control frames comes from granularity: each call that produces output appends whole
 * frames to `out`, so a Pong or Close written between two data frames of a long message goes out
 * before the rest of that message. The I/O layer feeds large messages frame by frame, only while
 * `out` is below its low-water mark. */
#ifndef AZR_PROTO_WS_SESSION_H
#define AZR_PROTO_WS_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/ws_frame.h"
#include "util/buf.h"
#include "util/utf8.h"

/* Message cap in buffered mode when the configuration gives none. */
#define AZR__WS_DEFAULT_MAX_BUFFERED (16u * 1024u * 1024u)

struct azr__ws_session;

struct azr__ws_session_callbacks {
  /* A data message starts (opcode TEXT or BINARY). */
  void (*on_message_begin)(void *ud, uint8_t opcode);
  /* Payload bytes of the current message, unmasked. In streaming mode one call per received piece of
   * a frame; `frame_end` is true on the last piece of a frame and `message_end` on the last piece of
   * the message (a zero-length call can carry the ends). In buffered mode exactly one call with the
   * whole message, both flags true. The data pointer is valid during the call only; it is writable
   * (it points into the caller's input buffer or the session's message buffer). */
  void (*on_message_data)(void *ud, uint8_t *data, size_t len, bool frame_end, bool message_end);
  /* A Ping (already answered with a Pong when auto_pong) or a Pong arrived. */
  void (*on_ping)(void *ud, const uint8_t *payload, size_t len);
  void (*on_pong)(void *ud, const uint8_t *payload, size_t len);
  /* The peer's Close arrived (code 1005 when it had none). If we had not sent a Close yet the session
   * has already appended the echo (same code) to `out`. */
  void (*on_close)(void *ud, uint16_t code, const uint8_t *reason, size_t reason_len);
  /* Optional (client role): fills the masking key of one outgoing frame; non-zero = failure. NULL
   * draws keys from util/crypto's CSPRNG. Tests use it to get reproducible output. */
  int (*genmask)(void *ud, uint8_t key[4]);
};

struct azr__ws_session_config {
  bool is_client;
  /* Buffered mode: deliver whole messages (up to max_message_size); streaming mode: deliver pieces. */
  bool buffer_messages;
  /* Largest message accepted in buffered mode, and largest total of a streamed message (0 = no limit
   * in streaming mode, AZR__WS_DEFAULT_MAX_BUFFERED in buffered mode). Exceeding it fails the session
   * with close code 1009 as soon as a frame header announces it. */
  uint64_t max_message_size;
  /* Validate text messages as UTF-8 (close 1007 on failure). */
  bool validate_utf8;
  /* Answer Pings with Pongs automatically. */
  bool auto_pong;
  /* Cap on the output buffer (bytes; 0 = none); appends beyond it fail with AZR_E_WOULDBLOCK for data
   * frames, except that a frame is always accepted into an empty buffer. Control frames (<= 131 bytes)
   * are always accepted up to cap + 4 KiB so a Pong/Close never waits; automatic Pongs beyond that are
   * dropped (a peer flooding Pings while not reading), and our one Close is never refused. */
  size_t out_cap;
  /* Do not answer a received Close automatically: the owner still sends what it has, then calls
   * azr__ws_session_send_close (a TCP-style half-close, as forwarded byte streams need). */
  bool defer_close_reply;
};

struct azr__ws_session {
  struct azr__ws_session_config cfg;
  struct azr__ws_session_callbacks cb;
  void *ud;
  const struct azr__mem *mem;
  struct azr__buf out; /* bytes to send, drained by the I/O layer (azr__buf_consume) */
  /* receive state */
  uint8_t hdr[AZR__WS_MAX_HEADER];
  size_t hdr_len;
  struct azr__ws_frame_header frame; /* current frame header once hdr is complete */
  bool in_frame;
  uint64_t frame_off;      /* payload bytes of the current frame seen so far */
  uint8_t msg_opcode;      /* opcode of the data message in progress, 0 = none */
  uint64_t msg_len;        /* payload bytes of that message so far */
  struct azr__utf8 utf8;
  struct azr__buf msg;     /* buffered-mode message being assembled */
  uint8_t ctrl[125];       /* control frame payload being assembled (unmasked) */
  size_t ctrl_len;
  /* send state */
  uint8_t mask_pool[64];   /* client role: random bytes for masking keys, used 4 at a time */
  size_t mask_pool_left;
  uint8_t send_opcode;     /* 0 = no fragmented message in progress, else its opcode */
  bool close_sent, close_received;
  uint16_t close_code_sent, close_code_received;
  /* failure */
  int error;               /* 0 or an AZR_E_* after a protocol violation */
  char error_text[96];
};

int azr__ws_session_init(struct azr__ws_session *s, const struct azr__ws_session_config *cfg,
                         const struct azr__ws_session_callbacks *cb, void *ud, const struct azr__mem *mem);
void azr__ws_session_free(struct azr__ws_session *s);

/* Feeds received bytes (the buffer may be modified in place: unmasking). Returns AZR_OK, or an
 * AZR_E_PROTOCOL / AZR_E_TOO_BIG / AZR_E_UTF8 status after a violation (AZR_E_NOMEM when a buffered
 * message cannot be allocated), in which case a Close with 1002 / 1009 / 1007 (1011) has been
 * appended to `out` unless we had sent one, error/error_text are set, and every later call returns
 * the same status without looking at its input. Bytes after the peer's Close are ignored (AZR_OK).
 * Callbacks run inside this call; they may use the send functions but must not call recv or free
 * the session. */
int azr__ws_session_recv(struct azr__ws_session *s, uint8_t *data, size_t len);

/* Appends one data frame. `opcode` is TEXT or BINARY for the first frame of a message and is ignored
 * for later frames (CONTINUATION is written); `fin` ends the message. AZR_E_BAD_STATE after our
 * Close (or a failure); AZR_E_INVALID_ARG for another opcode on a first frame; AZR_E_WOULDBLOCK when
 * `out` is at its cap (nothing appended, state unchanged). */
int azr__ws_session_send_frame(struct azr__ws_session *s, uint8_t opcode, const uint8_t *data, size_t len,
                               bool fin);
/* Control frames: AZR_E_INVALID_ARG for payloads over 125 bytes, AZR_E_BAD_STATE after our Close,
 * AZR_E_WOULDBLOCK past out_cap + 4 KiB. */
int azr__ws_session_send_ping(struct azr__ws_session *s, const uint8_t *payload, size_t len);
int azr__ws_session_send_pong(struct azr__ws_session *s, const uint8_t *payload, size_t len);
/* Appends a Close (once; AZR_E_BAD_STATE afterwards). code 0 or 1005 sends an empty Close payload;
 * other codes must be valid on the wire (azr__ws_close_code_valid) or AZR_E_INVALID_ARG. The reason
 * is cut to 123 bytes on a character boundary, and dropped if it is not UTF-8. */
int azr__ws_session_send_close(struct azr__ws_session *s, uint16_t code, const char *reason);

/* True after both Closes were exchanged (the TCP connection may now be closed). */
bool azr__ws_session_closed(const struct azr__ws_session *s);

#endif
