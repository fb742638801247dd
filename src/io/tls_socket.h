/* SPDX-License-Identifier: MIT */
/* A TLS session on a non-blocking socket, shared by the emulator's TLS server transport and the
 * client connections (transport_curl.c: our own handshake on the socket libcurl connected, or the
 * session libcurl set up, after its handshake).
 *
 * Per-record system calls dominate small-message relaying, so the session's BIO is our own: reads
 * go through OpenSSL's read-ahead (one recv for many records, handed over together), and the
 * records of one write are gathered in a wire buffer and sent with one send(MSG_NOSIGNAL)
 * (OpenSSL's socket BIO would write each record on its own, and with write(2), which raises
 * SIGPIPE in the host process). What the socket does not take waits in the wire buffer; an
 * uncorked write reports "want write" until it is out, while a corked stream's writes add records
 * behind it (sent at the uncork) as long as the buffer has room.
 * The wire buffer is allocated on first use and given back whenever it empties, so an idle
 * connection holds none. */
#ifndef AZR_IO_TLS_SOCKET_H
#define AZR_IO_TLS_SOCKET_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "io/stream.h"

struct azr__tls_socket {
  SSL *ssl;
  int fd;
  uint8_t *wire;
  size_t wire_len, wire_off;
  ssize_t read_result; /* a read's end or failure found after some bytes, reported next time */
  bool starved;        /* the last read wanted more bytes from the socket */
};

#define AZR__TLS_READ_EOF 1 /* read_result for the peer's close (0 means none) */

/* OpenSSL's read-ahead buffer for these sessions (SSL_CTX_set_default_read_buffer_len): one recv
 * takes many records, and a read hands over up to this much at once. */
#define AZR__TLS_READ_AHEAD (64u * 1024u)

/* The BIO method of these sessions: make one per owner (it is not tied to a loop) and free it
 * with BIO_meth_free after the last session using it. NULL when out of memory. */
BIO_METHOD *azr__tls_socket_method(void);

/* Puts ssl (owned by the caller) on fd through a BIO of `method`; t must stay at its address while
 * the session is used. AZR_E_NOMEM when the BIO cannot be made (the session keeps its old BIO). */
int azr__tls_socket_attach(struct azr__tls_socket *t, SSL *ssl, int fd, BIO_METHOD *method);

/* Stream transport operations; see stream.h for their results. */
int azr__tls_socket_handshake(struct azr__stream *s, struct azr__tls_socket *t, bool server);
ssize_t azr__tls_socket_read(struct azr__stream *s, struct azr__tls_socket *t, uint8_t *buf, size_t len);
ssize_t azr__tls_socket_write(struct azr__stream *s, struct azr__tls_socket *t, const uint8_t *buf, size_t len);
int azr__tls_socket_flush(struct azr__stream *s, struct azr__tls_socket *t);
size_t azr__tls_socket_pending_output(const struct azr__tls_socket *t);
/* Whether a read would return something the poll cannot announce: decrypted bytes, whole records
 * in the read-ahead buffer, or an end found earlier. */
bool azr__tls_socket_has_pending(const struct azr__tls_socket *t);
/* Sends close_notify (best effort). */
void azr__tls_socket_shutdown(struct azr__stream *s, struct azr__tls_socket *t);
/* Frees the wire buffer (not the SSL object, not the fd). */
void azr__tls_socket_release(struct azr__tls_socket *t);

#endif
