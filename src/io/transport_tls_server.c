/* SPDX-License-Identifier: MIT */
/* TLS server transport over OpenSSL on an accepted socket (the emulator's side of every connection).
 *
 * Relaying is dominated by per-record system calls, so the socket BIO is our own: reads go through
 * OpenSSL's read-ahead (one recv for many records), and the records of one SSL_write are gathered in
 * a per-connection wire buffer and sent with one send(); what the socket does not take waits there
 * and makes the transport report "want write" until it is out. */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "azrelay/common.h"
#include "io/transports.h"

#define WIRE_CAP (256u * 1024u) /* encrypted bytes held for the socket */
#define READ_BUFFER (64u * 1024u)

struct tls_conn {
  SSL *ssl;
  int fd;
  uint8_t *wire;
  size_t wire_len, wire_off;
  int wire_errno; /* a send() failure, reported on the next write */
};

static void tls_error(struct azr__stream *s, int status, const char *what, int ssl_err) {
  unsigned long e = ERR_get_error();
  char detail[160] = "";
  if (e) ERR_error_string_n(e, detail, sizeof detail);
  else if (ssl_err == SSL_ERROR_SYSCALL && errno) snprintf(detail, sizeof detail, "%s", strerror(errno));
  else snprintf(detail, sizeof detail, "connection closed");
  ERR_clear_error();
  azr__stream_fail(s, status, "TLS %s: %s", what, detail);
}

/* ---- the socket BIO ---- */

static int bio_write(BIO *b, const char *data, int len) {
  struct tls_conn *t = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  if (len <= 0) return 0;
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
  struct tls_conn *t = BIO_get_data(b);
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

/* Sends what the wire buffer holds. 0 when empty, AZR__IO_WANT_WRITE when some is left. */
static int flush_wire(struct azr__stream *s, struct tls_conn *t) {
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
  t->wire_off = t->wire_len = 0;
  return 0;
}

/* ---- transport operations ---- */

static int tls_handshake(struct azr__stream *s) {
  struct tls_conn *t = s->transport_data;
  ERR_clear_error();
  int r = SSL_accept(t->ssl);
  int err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, r);
  int f = flush_wire(s, t);
  if (f == AZR__IO_ERROR) return f;
  if (f == AZR__IO_WANT_WRITE) return AZR__IO_WANT_WRITE; /* on writable we are called again */
  if (r == 1) return 0;
  if (err == SSL_ERROR_WANT_READ) return AZR__IO_WANT_READ;
  if (err == SSL_ERROR_WANT_WRITE) return AZR__IO_WANT_WRITE;
  tls_error(s, AZR_E_TLS_HANDSHAKE, "handshake", err);
  return AZR__IO_ERROR;
}

static ssize_t tls_read(struct azr__stream *s, uint8_t *buf, size_t len) {
  struct tls_conn *t = s->transport_data;
  size_t n = 0;
  ERR_clear_error();
  int ok = SSL_read_ex(t->ssl, buf, len, &n);
  /* Reading may produce records to send (alerts, key updates). */
  if (t->wire_len > t->wire_off && flush_wire(s, t) == AZR__IO_ERROR) return AZR__IO_ERROR;
  if (ok == 1) return (ssize_t)n;
  int err = SSL_get_error(t->ssl, 0);
  switch (err) {
  case SSL_ERROR_WANT_READ:
    return AZR__IO_WANT_READ;
  case SSL_ERROR_WANT_WRITE:
    return AZR__IO_WANT_WRITE;
  case SSL_ERROR_ZERO_RETURN:
    return 0;
  case SSL_ERROR_SYSCALL:
    if (errno == 0) return 0;
    tls_error(s, azr__status_from_errno(errno), "read", err);
    return AZR__IO_ERROR;
  default:
    tls_error(s, AZR_E_IO, "read", err);
    return AZR__IO_ERROR;
  }
}

static ssize_t tls_write(struct azr__stream *s, const uint8_t *buf, size_t len) {
  struct tls_conn *t = s->transport_data;
  int f = flush_wire(s, t);
  if (f) return f; /* earlier records still wait for the socket */
  size_t n = 0;
  ERR_clear_error();
  int ok = SSL_write_ex(t->ssl, buf, len, &n);
  int err = ok == 1 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, 0);
  f = flush_wire(s, t);
  if (f == AZR__IO_ERROR) return f;
  if (ok == 1) return (ssize_t)n; /* accepted: whatever the socket did not take is in the wire buffer */
  if (err == SSL_ERROR_WANT_READ) return AZR__IO_WANT_READ;
  if (err == SSL_ERROR_WANT_WRITE) return AZR__IO_WANT_WRITE;
  tls_error(s, err == SSL_ERROR_SYSCALL ? azr__status_from_errno(errno) : AZR_E_IO, "write", err);
  return AZR__IO_ERROR;
}

static int tls_flush(struct azr__stream *s) { return flush_wire(s, s->transport_data); }

static size_t tls_pending_output(struct azr__stream *s) {
  struct tls_conn *t = s->transport_data;
  return t->wire_len - t->wire_off;
}

static bool tls_has_pending(struct azr__stream *s) {
  struct tls_conn *t = s->transport_data;
  return SSL_has_pending(t->ssl) != 0; /* decrypted or read-ahead bytes the poll cannot see */
}

static void tls_shutdown(struct azr__stream *s) {
  struct tls_conn *t = s->transport_data;
  ERR_clear_error();
  SSL_shutdown(t->ssl);
  ERR_clear_error();
  (void)flush_wire(s, t); /* best effort: the close_notify */
}

static void tls_release(struct azr__stream *s) {
  struct tls_conn *t = s->transport_data;
  if (t) {
    SSL_free(t->ssl);
    free(t->wire);
    free(t);
  }
  s->transport_data = NULL;
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
}

static const struct azr__stream_transport tls_server = {.name = "tls",
                                                         .read = tls_read,
                                                         .write = tls_write,
                                                         .handshake = tls_handshake,
                                                         .shutdown = tls_shutdown,
                                                         .release = tls_release,
                                                         .has_pending = tls_has_pending,
                                                         .flush = tls_flush,
                                                         .pending_output = tls_pending_output};

/* ---- identity ---- */

struct azr__tls_server {
  SSL_CTX *ctx;
  BIO_METHOD *bio_method;
};

static int load_failed(char *err, size_t err_len, const char *what) {
  unsigned long e = ERR_get_error();
  char detail[160] = "unknown error";
  if (e) ERR_error_string_n(e, detail, sizeof detail);
  ERR_clear_error();
  snprintf(err, err_len, "%s: %s", what, detail);
  return AZR_E_TLS_CREDENTIALS;
}

int azr__tls_server_new(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                        struct azr__tls_server **out, char *err, size_t err_len) {
  struct azr__tls_server *t = calloc(1, sizeof *t);
  if (!t) return AZR_E_NOMEM;
  int rc = AZR_E_NOMEM;
  t->ctx = SSL_CTX_new(TLS_server_method());
  if (!t->ctx) goto fail;
  SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
  /* A peer that drops TCP without close_notify is an EOF to us (the WebSocket layer judges it). */
  SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_read_ahead(t->ctx, 1);
  SSL_CTX_set_default_read_buffer_len(t->ctx, READ_BUFFER);
  BIO *cb = BIO_new_mem_buf(cert_pem, (int)cert_len);
  BIO *kb = BIO_new_mem_buf(key_pem, (int)key_len);
  X509 *cert = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
  EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
  BIO_free(cb);
  BIO_free(kb);
  if (!cert || !key) {
    X509_free(cert);
    EVP_PKEY_free(key);
    rc = load_failed(err, err_len, cert ? "private key" : "certificate");
    goto fail;
  }
  int ok = SSL_CTX_use_certificate(t->ctx, cert) == 1 && SSL_CTX_use_PrivateKey(t->ctx, key) == 1 &&
           SSL_CTX_check_private_key(t->ctx) == 1;
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!ok) {
    rc = load_failed(err, err_len, "certificate and key");
    goto fail;
  }
  t->bio_method = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "azrelay socket");
  if (!t->bio_method) goto fail;
  BIO_meth_set_write(t->bio_method, bio_write);
  BIO_meth_set_read(t->bio_method, bio_read);
  BIO_meth_set_ctrl(t->bio_method, bio_ctrl);
  BIO_meth_set_create(t->bio_method, bio_create);
  BIO_meth_set_destroy(t->bio_method, bio_destroy);
  *out = t;
  return AZR_OK;
fail:
  azr__tls_server_free(t);
  return rc;
}

void azr__tls_server_free(struct azr__tls_server *t) {
  if (!t) return;
  SSL_CTX_free(t->ctx);
  if (t->bio_method) BIO_meth_free(t->bio_method);
  free(t);
}

int azr__transport_tls_server_attach(struct azr__stream *s, struct azr__tls_server *tls, int fd) {
  struct tls_conn *t = calloc(1, sizeof *t);
  if (!t) return AZR_E_NOMEM;
  t->fd = fd;
  t->wire = malloc(WIRE_CAP);
  t->ssl = SSL_new(tls->ctx);
  BIO *bio = t->ssl && t->wire ? BIO_new(tls->bio_method) : NULL;
  if (!bio) {
    SSL_free(t->ssl);
    free(t->wire);
    free(t);
    return AZR_E_NOMEM;
  }
  BIO_set_data(bio, t);
  SSL_set_bio(t->ssl, bio, bio);
  SSL_set_mode(t->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_set_accept_state(t->ssl);
  s->transport_data = t;
  s->transport = &tls_server;
  return AZR_OK;
}
