/* SPDX-License-Identifier: MIT */
/* TLS on a socket with a gathering BIO (see tls_socket.h). */
#include "io/tls_socket.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "azrelay/common.h"
#include "io/transports.h"

/* Encrypted bytes held for the socket at most: a 256 KiB write (the stream's high-water mark) as
 * 16 full records with their TLS 1.3 overhead (22 bytes each), so a corked batch leaves in one send. */
#define WIRE_CAP (256u * 1024u + 16u * 64u)

static void tls_error(struct azr__stream *s, int status, const char *what, int ssl_err) {
  unsigned long e = ERR_get_error();
  char detail[160] = "";
  if (e) ERR_error_string_n(e, detail, sizeof detail);
  else if (ssl_err == SSL_ERROR_SYSCALL && errno) snprintf(detail, sizeof detail, "%s", strerror(errno));
  else snprintf(detail, sizeof detail, "connection closed");
  ERR_clear_error();
  azr__stream_fail(s, status, "TLS %s: %s", what, detail);
}

/* ---- the BIO ---- */

static int bio_write(BIO *b, const char *data, int len) {
  struct azr__tls_socket *t = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  if (len <= 0) return 0;
  if (!t->wire) {
    t->wire = malloc(WIRE_CAP);
    if (!t->wire) return -1;
  }
  if (t->wire_off == t->wire_len) t->wire_off = t->wire_len = 0;
  if (t->wire_len + (size_t)len > WIRE_CAP) {
    if (t->wire_off) {
      memmove(t->wire, t->wire + t->wire_off, t->wire_len - t->wire_off);
      t->wire_len -= t->wire_off;
      t->wire_off = 0;
    }
    if (t->wire_len + (size_t)len > WIRE_CAP) {
      BIO_set_retry_write(b);
      return -1;
    }
  }
  memcpy(t->wire + t->wire_len, data, (size_t)len);
  t->wire_len += (size_t)len;
  return len;
}

static int bio_read(BIO *b, char *out, int len) {
  struct azr__tls_socket *t = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  for (;;) {
    ssize_t n = recv(t->fd, out, (size_t)len, 0);
    if (n >= 0) return (int)n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(b);
    return -1;
  }
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
  (void)b;
  (void)num;
  (void)ptr;
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b) {
  BIO_set_init(b, 1);
  return 1;
}

static int bio_destroy(BIO *b) {
  (void)b;
  return 1;
}

BIO_METHOD *azr__tls_socket_method(void) {
  BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "azrelay socket");
  if (!m) return NULL;
  BIO_meth_set_write(m, bio_write);
  BIO_meth_set_read(m, bio_read);
  BIO_meth_set_ctrl(m, bio_ctrl);
  BIO_meth_set_create(m, bio_create);
  BIO_meth_set_destroy(m, bio_destroy);
  return m;
}

int azr__tls_socket_attach(struct azr__tls_socket *t, SSL *ssl, int fd, BIO_METHOD *method) {
  BIO *bio = method ? BIO_new(method) : NULL;
  if (!bio) return AZR_E_NOMEM;
  t->ssl = ssl;
  t->fd = fd;
  BIO_set_data(bio, t);
  SSL_set_bio(ssl, bio, bio);
  /* A write that would block is retried from the stream's queue, at another address. */
  SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  (void)SSL_free_buffers(ssl); /* what the handshake left behind, unless bytes still wait in them */
  return AZR_OK;
}

/* ---- operations ---- */

int azr__tls_socket_flush(struct azr__stream *s, struct azr__tls_socket *t) {
  while (t->wire_off < t->wire_len) {
    ssize_t n = send(t->fd, t->wire + t->wire_off, t->wire_len - t->wire_off, MSG_NOSIGNAL);
    if (n > 0) {
      t->wire_off += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return AZR__IO_WANT_WRITE;
    azr__stream_fail(s, azr__status_from_errno(errno), "send: %s", strerror(errno));
    return AZR__IO_ERROR;
  }
  /* Empty: give the buffer back, so idle connections hold none. */
  free(t->wire);
  t->wire = NULL;
  t->wire_off = t->wire_len = 0;
  return 0;
}

bool azr__tls_socket_has_pending(const struct azr__tls_socket *t) {
  if (t->read_result && t->read_result != AZR__IO_WANT_READ) return true;
  /* Buffered bytes after "want read" are the start of a record whose rest the poll will report. */
  return SSL_pending(t->ssl) > 0 || (!t->starved && SSL_has_pending(t->ssl));
}

size_t azr__tls_socket_pending_output(const struct azr__tls_socket *t) { return t->wire_len - t->wire_off; }

int azr__tls_socket_handshake(struct azr__stream *s, struct azr__tls_socket *t, bool server) {
  ERR_clear_error();
  int r = server ? SSL_accept(t->ssl) : SSL_connect(t->ssl);
  int err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, r);
  int f = azr__tls_socket_flush(s, t);
  if (f == AZR__IO_ERROR) return f;
  if (f == AZR__IO_WANT_WRITE) return AZR__IO_WANT_WRITE; /* on writable we are called again */
  if (r == 1) return 0;
  if (err == SSL_ERROR_WANT_READ) return AZR__IO_WANT_READ;
  if (err == SSL_ERROR_WANT_WRITE) return AZR__IO_WANT_WRITE;
  tls_error(s, AZR_E_TLS_HANDSHAKE, "handshake", err);
  return AZR__IO_ERROR;
}

/* What a failed SSL_read means for the stream: 0 for the peer's close, or AZR__IO_*. */
static ssize_t read_failure(struct azr__stream *s, struct azr__tls_socket *t) {
  int err = SSL_get_error(t->ssl, 0);
  switch (err) {
  case SSL_ERROR_WANT_READ:
    return AZR__IO_WANT_READ;
  case SSL_ERROR_WANT_WRITE:
    return AZR__IO_WANT_WRITE;
  case SSL_ERROR_ZERO_RETURN:
    return 0;
  case SSL_ERROR_SYSCALL:
    if (errno == 0) return 0; /* EOF without close_notify: the WebSocket layer judges it */
    tls_error(s, azr__status_from_errno(errno), "read", err);
    return AZR__IO_ERROR;
  default:
    tls_error(s, AZR_E_IO, "read", err);
    return AZR__IO_ERROR;
  }
}

/* SSL_read returns one record (at most 16 KiB) per call. Records already in the read-ahead buffer
 * are taken in the same call, up to len, so the owner handles a 64 KiB batch at once and what it
 * writes back leaves together. A failure after some bytes is kept for the next call: the bytes are
 * delivered first, and the error keeps its own message. */
ssize_t azr__tls_socket_read(struct azr__stream *s, struct azr__tls_socket *t, uint8_t *buf, size_t len) {
  if (t->read_result) {
    ssize_t r = t->read_result;
    t->read_result = 0;
    return r == AZR__TLS_READ_EOF ? 0 : r;
  }
  size_t total = 0;
  for (;;) {
    size_t n = 0;
    ERR_clear_error();
    errno = 0;
    int ok = SSL_read_ex(t->ssl, buf + total, len - total, &n);
    /* Reading may produce records to send (alerts, key updates). */
    if (t->wire_len > t->wire_off && !s->corked && azr__tls_socket_flush(s, t) == AZR__IO_ERROR) return AZR__IO_ERROR;
    if (ok == 1) {
      t->starved = false;
      total += n;
      if (total < len && SSL_has_pending(t->ssl)) continue;
      return (ssize_t)total;
    }
    ssize_t r = read_failure(s, t);
    if (r == AZR__IO_WANT_READ) {
      t->starved = true;
      /* A post-handshake message (a TLS 1.3 session ticket) sets up OpenSSL's write buffer too, and
       * SSL_MODE_RELEASE_BUFFERS frees that only after a write: an idle connection would keep
       * 16 KiB. With nothing buffered either way this gives both back. */
      if (total == 0) (void)SSL_free_buffers(t->ssl);
    }
    if (total == 0) return r;
    /* "Want read" too: the socket was just found empty, and the poll reports new bytes. */
    if (r != AZR__IO_WANT_WRITE) t->read_result = r == 0 ? AZR__TLS_READ_EOF : r;
    return (ssize_t)total;
  }
}

/* With SSL_MODE_ENABLE_PARTIAL_WRITE an SSL_write encrypts one record; the loop encrypts as many as
 * the wire buffer holds, then one send takes them all. While the stream is corked nothing is sent:
 * the records wait in the wire buffer for the uncork's flush, and the stream needs no copy of the
 * plaintext in its own queue. */
ssize_t azr__tls_socket_write(struct azr__stream *s, struct azr__tls_socket *t, const uint8_t *buf, size_t len) {
  if (!s->corked) {
    int f = azr__tls_socket_flush(s, t);
    if (f) return f; /* earlier records still wait for the socket */
  }
  size_t total = 0;
  int ok = 1, err = SSL_ERROR_NONE;
  while (total < len) {
    size_t n = 0;
    ERR_clear_error();
    errno = 0;
    ok = SSL_write_ex(t->ssl, buf + total, len - total, &n);
    if (ok != 1) {
      err = SSL_get_error(t->ssl, 0);
      break;
    }
    total += n;
  }
  if (!s->corked && azr__tls_socket_flush(s, t) == AZR__IO_ERROR) return AZR__IO_ERROR;
  /* Accepted bytes are encrypted: what the socket did not take is in the wire buffer. A record that
   * did not fit waits inside OpenSSL and goes out when the same bytes are written again (the
   * stream queues them from here on). */
  if (total > 0) return (ssize_t)total;
  if (err == SSL_ERROR_WANT_READ) return AZR__IO_WANT_READ;
  if (err == SSL_ERROR_WANT_WRITE) return AZR__IO_WANT_WRITE;
  tls_error(s, err == SSL_ERROR_SYSCALL ? azr__status_from_errno(errno) : AZR_E_IO, "write", err);
  return AZR__IO_ERROR;
}

void azr__tls_socket_shutdown(struct azr__stream *s, struct azr__tls_socket *t) {
  ERR_clear_error();
  SSL_shutdown(t->ssl);
  ERR_clear_error();
  (void)azr__tls_socket_flush(s, t); /* best effort: the close_notify */
}

void azr__tls_socket_release(struct azr__tls_socket *t) {
  free(t->wire);
  t->wire = NULL;
  t->wire_len = t->wire_off = 0;
}
