/* SPDX-License-Identifier: MIT */
/* A bidirectional byte stream on a non-blocking socket, driven by the libuv loop.
 *
 * One shape for every transport: plain TCP, TLS on an accepted socket (emulator side) and libcurl
 * CONNECT_ONLY connections (client side: DNS, proxies, SOCKS, TLS). Reads are pushed to the owner
 * (on_read, with a pointer into the stream's read buffer, valid during the call). Writes are tried at
 * once and only what the socket does not take is queued, up to a hard cap; the owner watches
 * azr__stream_queued() and gets on_drain when the queue falls below the low-water mark.
 *
 * Lifetime: the owner calls azr__stream_close() exactly once; no callback runs after that and the
 * memory is released on a later loop iteration. */
#ifndef AZR_IO_STREAM_H
#define AZR_IO_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"

struct azr__stream;
struct azr__tls_server;

struct azr__stream_callbacks {
  /* Connection (and TLS handshake) complete: status AZR_OK, or the failure with a detail text. On
   * failure the owner must still call azr__stream_close(). */
  void (*on_connect)(struct azr__stream *s, int status, const char *detail);
  /* Received bytes (len > 0). `data` is writable and valid during the call only. */
  void (*on_read)(struct azr__stream *s, uint8_t *data, size_t len);
  /* The peer ended the stream: status AZR_OK for an orderly EOF, else AZR_E_CONN_RESET, AZR_E_IO,
   * AZR_E_TLS_HANDSHAKE... (detail in azr__stream_error()). Reading stops; writing may still work
   * after an orderly EOF (half close). */
  void (*on_end)(struct azr__stream *s, int status);
  /* The write queue fell below the low-water mark after having reached the high-water mark. */
  void (*on_drain)(struct azr__stream *s);
};

/* Transport operations behind a stream. read/write return a byte count > 0, 0 for EOF (read only),
 * or one of these. */
#define AZR__IO_WANT_READ (-1)
#define AZR__IO_WANT_WRITE (-2)
#define AZR__IO_ERROR (-3) /* s->error and s->error_text are set */

struct azr__stream_transport {
  const char *name;
  ssize_t (*read)(struct azr__stream *s, uint8_t *buf, size_t len);
  ssize_t (*write)(struct azr__stream *s, const uint8_t *buf, size_t len);
  /* Continues a handshake: 0 when done, AZR__IO_WANT_* or AZR__IO_ERROR. NULL = none. */
  int (*handshake)(struct azr__stream *s);
  /* Orderly shutdown before close (TLS close_notify); best effort. NULL = none. */
  void (*shutdown)(struct azr__stream *s);
  /* Releases transport state (not the fd unless the transport owns it). */
  void (*release)(struct azr__stream *s);
  /* Whether the transport may hold decrypted bytes not visible as socket readability. */
  bool (*has_pending)(struct azr__stream *s);
  /* Transports that hold encoded output of their own (TLS records): bytes waiting for the socket,
   * and a flush (0 = empty, AZR__IO_WANT_WRITE, AZR__IO_ERROR). NULL = none. */
  size_t (*pending_output)(struct azr__stream *s);
  int (*flush)(struct azr__stream *s);
};

enum azr__stream_state {
  AZR__STREAM_CONNECTING, /* TCP/proxy/TLS setup in progress */
  AZR__STREAM_OPEN,
  AZR__STREAM_FAILED,     /* on_connect reported a failure */
  AZR__STREAM_CLOSING     /* azr__stream_close called: flushing, then freed */
};

struct azr__stream {
  uv_loop_t *loop;
  const struct azr__mem *mem;
  const struct azr__log *log;
  const struct azr__stream_transport *transport;
  void *transport_data;
  int fd;
  uv_poll_t poll;
  uv_timer_t defer;    /* work for the next loop iteration (never inside the caller's stack) */
  uv_timer_t deadline; /* connect deadline, close linger */
  bool poll_active;
  int poll_events;
  enum azr__stream_state state;
  struct azr__stream_callbacks cb;
  void *owner;
  /* reading */
  uint8_t *rbuf;
  size_t rbuf_size;
  bool read_paused;
  bool read_ended;
  bool read_wants_write;  /* TLS read needs the socket writable */
  bool write_wants_read;  /* TLS write needs the socket readable */
  bool in_read_pump;
  /* writing */
  struct azr__buf wq;  /* queued bytes are wq.data[wq_head .. wq.len) */
  size_t wq_head;
  size_t low_water, high_water;
  bool above_high;
  bool draining;        /* closing: our side is shut, discarding input until EOF or the deadline */
  bool pending_connect;  /* deferred on_connect */
  bool pending_read;     /* deferred read attempt (bytes may sit in the TLS layer) */
  bool pending_end;      /* deferred on_end after a failed write */
  bool pending_drain;    /* deferred on_drain after a flush outside the poll callback */
  bool shut_write_wanted; /* azr__stream_shutdown_write: FIN once the queue is empty */
  bool write_shut;
  bool end_reported;
  bool close_reset_pending; /* skip the orderly shutdown: release at once */
  bool released;            /* transport released, handles closing */
  bool corked;
  /* Corked with this stream while it handles a read batch (the other leg of a relay); the owner
   * clears it before either stream goes away. */
  struct azr__stream *cork_partner;
  int handles_open;      /* initialized uv handles, counted down by close callbacks */
  uint64_t bytes_read, bytes_written;
  /* error */
  int error;
  char error_text[256];
  char peer_addr[64];
  uint16_t peer_port;
};

/* A TLS server identity (certificate + key) shared by accepted streams. Not tied to a loop. */
int azr__tls_server_new(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                        struct azr__tls_server **out, char *err, size_t err_len);
void azr__tls_server_free(struct azr__tls_server *t);

/* Server side: wraps an accepted socket `fd` (ownership passes to the stream, also on failure). With
 * tls != NULL a TLS server handshake runs first; on_connect reports its result. With tls == NULL
 * on_connect fires on the next loop iteration with AZR_OK. */
int azr__stream_accept(uv_loop_t *loop, const struct azr__mem *mem, const struct azr__log *log, int fd,
                       struct azr__tls_server *tls, const struct azr__stream_callbacks *cb, void *owner,
                       struct azr__stream **out);

/* Common constructor used by transports: allocates a stream for `fd` (may be -1 while connecting). */
int azr__stream_new(uv_loop_t *loop, const struct azr__mem *mem, const struct azr__log *log,
                    const struct azr__stream_callbacks *cb, void *owner, struct azr__stream **out);
/* Transports call this when their connection is ready (fd known) or failed. */
void azr__stream_connected(struct azr__stream *s, int fd, int status, const char *detail);

/* Queues bytes for sending, trying the socket first. AZR_E_CLOSED after close/failure,
 * AZR_E_TOO_BIG when the queue would exceed its hard cap (nothing queued). */
int azr__stream_write(struct azr__stream *s, const void *data, size_t len);
/* Two pieces in one call (a frame header and its payload). */
int azr__stream_write2(struct azr__stream *s, const void *a, size_t alen, const void *b, size_t blen);
size_t azr__stream_queued(const struct azr__stream *s);
/* While corked, writes are only queued; uncorking sends them together (one TLS record run and one
 * system call for a frame header and its payload instead of several). */
void azr__stream_cork(struct azr__stream *s);
void azr__stream_uncork(struct azr__stream *s);
/* Low/high water marks for on_drain (defaults 64 KiB / 256 KiB) and the hard cap (default 64 MiB). */
void azr__stream_set_watermarks(struct azr__stream *s, size_t low, size_t high, size_t cap);

void azr__stream_pause(struct azr__stream *s);
/* Half-close: sends FIN (after TLS close_notify) once every queued byte is written; reading goes on.
 * Later writes fail with AZR_E_CLOSED. */
void azr__stream_shutdown_write(struct azr__stream *s);
void azr__stream_resume(struct azr__stream *s);
/* Replaces callbacks and owner (hand-over between protocol layers). */
void azr__stream_set_owner(struct azr__stream *s, const struct azr__stream_callbacks *cb, void *owner);
/* Size of the read buffer (default 64 KiB), allocated while bytes arrive and released when the stream
 * is drained, so idle streams hold none. */
void azr__stream_set_read_size(struct azr__stream *s, size_t size);

enum azr__stream_close_mode {
  AZR__CLOSE_FLUSH, /* send what is queued (bounded by a linger timeout), TLS close_notify, FIN */
  AZR__CLOSE_ABORT  /* drop the queue and reset the connection (RST) */
};
void azr__stream_close(struct azr__stream *s, enum azr__stream_close_mode mode);

const char *azr__stream_error(const struct azr__stream *s);
/* Sets s->error/error_text (for transports). */
void azr__stream_fail(struct azr__stream *s, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));


#endif
