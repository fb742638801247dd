/* SPDX-License-Identifier: MIT */
/* TLS server transport over OpenSSL on an accepted socket (the emulator's side of every connection). */
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

static void tls_error(struct azr__stream *s, int status, const char *what, int ssl_err) {
  unsigned long e = ERR_get_error();
  char detail[160] = "";
  if (e) ERR_error_string_n(e, detail, sizeof detail);
  else if (ssl_err == SSL_ERROR_SYSCALL && errno) snprintf(detail, sizeof detail, "%s", strerror(errno));
  else snprintf(detail, sizeof detail, "connection closed");
  ERR_clear_error();
  azr__stream_fail(s, status, "TLS %s: %s", what, detail);
}

static int tls_handshake(struct azr__stream *s) {
  SSL *ssl = s->transport_data;
  ERR_clear_error();
  int r = SSL_accept(ssl);
  if (r == 1) return 0;
  int err = SSL_get_error(ssl, r);
  if (err == SSL_ERROR_WANT_READ) return AZR__IO_WANT_READ;
  if (err == SSL_ERROR_WANT_WRITE) return AZR__IO_WANT_WRITE;
  tls_error(s, AZR_E_TLS_HANDSHAKE, "handshake", err);
  return AZR__IO_ERROR;
}

static ssize_t tls_read(struct azr__stream *s, uint8_t *buf, size_t len) {
  SSL *ssl = s->transport_data;
  size_t n = 0;
  ERR_clear_error();
  if (SSL_read_ex(ssl, buf, len, &n) == 1) return (ssize_t)n;
  int err = SSL_get_error(ssl, 0);
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
  SSL *ssl = s->transport_data;
  size_t n = 0;
  ERR_clear_error();
  if (SSL_write_ex(ssl, buf, len, &n) == 1) return (ssize_t)n;
  int err = SSL_get_error(ssl, 0);
  if (err == SSL_ERROR_WANT_READ) return AZR__IO_WANT_READ;
  if (err == SSL_ERROR_WANT_WRITE) return AZR__IO_WANT_WRITE;
  tls_error(s, err == SSL_ERROR_SYSCALL ? azr__status_from_errno(errno) : AZR_E_IO, "write", err);
  return AZR__IO_ERROR;
}

static bool tls_has_pending(struct azr__stream *s) { return SSL_pending(s->transport_data) > 0; }

static void tls_shutdown(struct azr__stream *s) {
  ERR_clear_error();
  SSL_shutdown(s->transport_data);
  ERR_clear_error();
}

static void tls_release(struct azr__stream *s) {
  SSL_free(s->transport_data);
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
                                                         .has_pending = tls_has_pending};

/* Socket BIO writes with MSG_NOSIGNAL so a vanished peer cannot raise SIGPIPE in the process. */
static int bio_nosig_write(BIO *b, const char *data, int len) {
  int fd = (int)BIO_get_fd(b, NULL);
  errno = 0;
  ssize_t n = send(fd, data, (size_t)len, MSG_NOSIGNAL);
  BIO_clear_retry_flags(b);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(b);
  return (int)n;
}

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
  /* Socket BIO whose writes use MSG_NOSIGNAL, so a vanished peer cannot raise SIGPIPE. */
  const BIO_METHOD *base = BIO_s_socket();
  t->bio_method = BIO_meth_new(BIO_TYPE_SOCKET, "azrelay socket");
  if (!t->bio_method) goto fail;
  BIO_meth_set_write(t->bio_method, bio_nosig_write);
  BIO_meth_set_read(t->bio_method, BIO_meth_get_read(base));
  BIO_meth_set_puts(t->bio_method, BIO_meth_get_puts(base));
  BIO_meth_set_ctrl(t->bio_method, BIO_meth_get_ctrl(base));
  BIO_meth_set_create(t->bio_method, BIO_meth_get_create(base));
  BIO_meth_set_destroy(t->bio_method, BIO_meth_get_destroy(base));
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
  SSL *ssl = SSL_new(tls->ctx);
  if (!ssl) return AZR_E_NOMEM;
  BIO *bio = BIO_new(tls->bio_method);
  if (!bio) {
    SSL_free(ssl);
    return AZR_E_NOMEM;
  }
  BIO_set_fd(bio, fd, BIO_NOCLOSE);
  SSL_set_bio(ssl, bio, bio);
  SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_set_accept_state(ssl);
  s->transport_data = ssl;
  s->transport = &tls_server;
  return AZR_OK;
}
