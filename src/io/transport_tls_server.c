/* SPDX-License-Identifier: MIT */
/* TLS server transport over OpenSSL on an accepted socket (the emulator's side of every connection);
 * the session runs on io/tls_socket (records gathered into one send, read-ahead, MSG_NOSIGNAL). */
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
#include "io/tls_socket.h"
#include "io/transports.h"

struct tls_conn {
  struct azr__tls_socket sock;
};

static int tls_handshake(struct azr__stream *s) {
  struct tls_conn *t = s->transport_data;
  return azr__tls_socket_handshake(s, &t->sock, true);
}

static ssize_t tls_read(struct azr__stream *s, uint8_t *buf, size_t len) {
  struct tls_conn *t = s->transport_data;
  return azr__tls_socket_read(s, &t->sock, buf, len);
}

static ssize_t tls_write(struct azr__stream *s, const uint8_t *buf, size_t len) {
  struct tls_conn *t = s->transport_data;
  return azr__tls_socket_write(s, &t->sock, buf, len);
}

static int tls_flush(struct azr__stream *s) {
  struct tls_conn *t = s->transport_data;
  return azr__tls_socket_flush(s, &t->sock);
}

static size_t tls_pending_output(struct azr__stream *s) {
  struct tls_conn *t = s->transport_data;
  return azr__tls_socket_pending_output(&t->sock);
}

static bool tls_has_pending(struct azr__stream *s) {
  struct tls_conn *t = s->transport_data;
  return azr__tls_socket_has_pending(&t->sock);
}

static void tls_shutdown(struct azr__stream *s) {
  struct tls_conn *t = s->transport_data;
  azr__tls_socket_shutdown(s, &t->sock);
}

static void tls_release(struct azr__stream *s) {
  struct tls_conn *t = s->transport_data;
  if (t) {
    SSL_free(t->sock.ssl);
    azr__tls_socket_release(&t->sock);
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
  /* One TLS 1.3 session ticket per handshake instead of OpenSSL's two: a listener resumes its
   * rendezvous connections from the newest ticket, and every ticket costs both sides a session
   * encoded, encrypted and stored on each accepted connection. */
  SSL_CTX_set_num_tickets(t->ctx, 1);
  SSL_CTX_set_read_ahead(t->ctx, 1);
  SSL_CTX_set_default_read_buffer_len(t->ctx, AZR__TLS_READ_AHEAD);
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
  t->bio_method = azr__tls_socket_method();
  if (!t->bio_method) goto fail;
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
  SSL *ssl = SSL_new(tls->ctx);
  if (!ssl || azr__tls_socket_attach(&t->sock, ssl, fd, tls->bio_method) != AZR_OK) {
    SSL_free(ssl);
    free(t);
    return AZR_E_NOMEM;
  }
  SSL_set_accept_state(ssl);
  s->transport_data = t;
  s->transport = &tls_server;
  return AZR_OK;
}
