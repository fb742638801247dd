/* SPDX-License-Identifier: MIT */
/* io/tls_socket + io/stream: TLS records move in batches. A write the socket cannot take at once
 * waits, encrypted, in the wire buffer and still reaches the peer with no later write to push it; the
 * writes of a corked batch (small ones gathered in the queue, large ones encrypted straight into the
 * wire buffer) arrive whole and in order; records already buffered are read in one call, and the
 * peer's close after them is reported after the bytes. The server side is a stream on a TLS server
 * identity made here; the peer is a plain OpenSSL client on the other end of a socket pair, driven
 * by a timer of the same loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "io/stream.h"

#define SMALL_BUF 8192 /* socket buffers: most of a large write has to wait in the stream */
#define MAX_IN (512u * 1024u)

struct peer {
  SSL_CTX *ctx;
  SSL *ssl;
  int fd;
  bool connected, reading;
  uint8_t in[MAX_IN];
  size_t in_len;
  uv_timer_t tick;
};

struct server {
  struct azr__stream *s;
  bool open;
  int reads;
  size_t read_bytes;
  bool ended;
  int end_status;
  void (*on_first_read)(struct server *sv);
};

/* ---- a throwaway TLS identity ---- */

static char *pem_of(int (*write)(BIO *, const void *), const void *obj) {
  BIO *b = BIO_new(BIO_s_mem());
  assert_non_null(b);
  assert_int_equal(write(b, obj), 1);
  char *data = NULL;
  long len = BIO_get_mem_data(b, &data);
  char *copy = malloc((size_t)len + 1);
  memcpy(copy, data, (size_t)len);
  copy[len] = '\0';
  BIO_free(b);
  return copy;
}

static int write_cert(BIO *b, const void *x) { return PEM_write_bio_X509(b, (X509 *)x); }
static int write_key(BIO *b, const void *k) {
  return PEM_write_bio_PrivateKey(b, (EVP_PKEY *)k, NULL, NULL, 0, NULL, NULL);
}

static struct azr__tls_server *make_identity(void) {
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  assert_non_null(key);
  assert_non_null(x);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  assert_true(X509_sign(x, key, EVP_sha256()) > 0);
  char *cert = pem_of(write_cert, x), *kpem = pem_of(write_key, key);
  struct azr__tls_server *t = NULL;
  char err[256];
  assert_int_equal(azr__tls_server_new(cert, strlen(cert), kpem, strlen(kpem), &t, err, sizeof err), AZR_OK);
  free(cert);
  free(kpem);
  X509_free(x);
  EVP_PKEY_free(key);
  return t;
}

/* ---- the peer: an OpenSSL client on a non-blocking socket ---- */

static void peer_tick(uv_timer_t *t) {
  struct peer *p = t->data;
  if (!p->connected) {
    int r = SSL_connect(p->ssl);
    if (r == 1) p->connected = true;
    else assert_true(SSL_get_error(p->ssl, r) == SSL_ERROR_WANT_READ || SSL_get_error(p->ssl, r) == SSL_ERROR_WANT_WRITE);
    return;
  }
  while (p->reading && p->in_len < MAX_IN) {
    size_t n = 0;
    if (SSL_read_ex(p->ssl, p->in + p->in_len, MAX_IN - p->in_len, &n) != 1) break;
    p->in_len += n;
  }
  ERR_clear_error();
}

/* ---- the server: a stream with the TLS server transport ---- */

static void sv_connect(struct azr__stream *s, int status, const char *detail) {
  (void)detail;
  assert_int_equal(status, AZR_OK);
  ((struct server *)s->owner)->open = true;
}

static void sv_read(struct azr__stream *s, uint8_t *data, size_t len) {
  (void)data;
  struct server *sv = s->owner;
  sv->reads++;
  sv->read_bytes += len;
  if (sv->reads == 1 && sv->on_first_read) sv->on_first_read(sv);
}

static void sv_end(struct azr__stream *s, int status) {
  struct server *sv = s->owner;
  sv->ended = true;
  sv->end_status = status;
}

static const struct azr__stream_callbacks sv_cb = {sv_connect, sv_read, sv_end, NULL};

struct fixture {
  uv_loop_t loop;
  struct azr__tls_server *tls;
  struct peer peer;
  struct server sv;
};

static void run_until(struct fixture *f, bool *flag, uint64_t limit_ms) {
  uint64_t start = uv_now(&f->loop);
  while (!*flag && uv_now(&f->loop) - start < limit_ms) uv_run(&f->loop, UV_RUN_ONCE);
}

static bool peer_has(struct fixture *f, size_t n, uint64_t limit_ms) {
  uint64_t start = uv_now(&f->loop);
  while (f->peer.in_len < n && uv_now(&f->loop) - start < limit_ms) uv_run(&f->loop, UV_RUN_ONCE);
  return f->peer.in_len >= n;
}

static struct fixture *open_pair(void) {
  struct fixture *f = calloc(1, sizeof *f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  f->tls = make_identity();
  int fds[2], small = SMALL_BUF;
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  for (int i = 0; i < 2; i++) {
    setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  }
  f->peer.fd = fds[1];
  f->peer.ctx = SSL_CTX_new(TLS_client_method());
  f->peer.ssl = SSL_new(f->peer.ctx);
  SSL_set_fd(f->peer.ssl, fds[1]);
  uv_timer_init(&f->loop, &f->peer.tick);
  f->peer.tick.data = &f->peer;
  uv_timer_start(&f->peer.tick, peer_tick, 1, 1);
  assert_int_equal(azr__stream_accept(&f->loop, NULL, NULL, fds[0], f->tls, &sv_cb, &f->sv, &f->sv.s), AZR_OK);
  run_until(f, &f->sv.open, 5000);
  run_until(f, &f->peer.connected, 5000);
  assert_true(f->sv.open && f->peer.connected);
  return f;
}

static void close_pair(struct fixture *f) {
  azr__stream_close(f->sv.s, AZR__CLOSE_ABORT);
  uv_close((uv_handle_t *)&f->peer.tick, NULL);
  while (uv_run(&f->loop, UV_RUN_DEFAULT)) {
  }
  assert_int_equal(uv_loop_close(&f->loop), 0);
  SSL_free(f->peer.ssl);
  SSL_CTX_free(f->peer.ctx);
  close(f->peer.fd);
  azr__tls_server_free(f->tls);
  free(f);
}

static void fill(uint8_t *p, size_t n, uint8_t seed) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(seed + i * 7);
}

/* 200 KiB fits the wire buffer: the write is accepted whole while the socket holds a few KiB. The
 * rest must leave when the peer reads, with nothing written after it. */
static void test_output_left_in_the_wire_buffer_is_sent(void **state) {
  (void)state;
  struct fixture *f = open_pair();
  static uint8_t data[200 * 1024];
  fill(data, sizeof data, 1);
  assert_int_equal(azr__stream_write(f->sv.s, data, sizeof data), AZR_OK);
  assert_true(azr__stream_queued(f->sv.s) > 0); /* waiting in the stream, not in the kernel */
  f->peer.reading = true;
  assert_true(peer_has(f, sizeof data, 5000));
  assert_memory_equal(f->peer.in, data, sizeof data);
  close_pair(f);
}

/* Written from inside a read batch (the stream is corked): small, large, small, large. Each must
 * arrive whole and in this order. The first large one overflows the wire buffer, so the second finds
 * bytes still queued ahead of it. */
static uint8_t a[100], b[300 * 1024], c[10], d[100 * 1024];

static void write_batch(struct server *sv) {
  assert_true(sv->s->corked);
  assert_int_equal(azr__stream_write(sv->s, a, sizeof a), AZR_OK);
  assert_int_equal(azr__stream_write(sv->s, b, sizeof b), AZR_OK);
  assert_int_equal(azr__stream_write(sv->s, c, sizeof c), AZR_OK);
  assert_int_equal(azr__stream_write(sv->s, d, sizeof d), AZR_OK);
}

static void test_corked_writes_arrive_in_order(void **state) {
  (void)state;
  fill(a, sizeof a, 3);
  fill(b, sizeof b, 5);
  fill(c, sizeof c, 7);
  fill(d, sizeof d, 11);
  struct fixture *f = open_pair();
  f->sv.on_first_read = write_batch;
  f->peer.reading = true;
  assert_int_equal(SSL_write(f->peer.ssl, "go", 2), 2);
  size_t total = sizeof a + sizeof b + sizeof c + sizeof d;
  assert_true(peer_has(f, total, 5000));
  assert_int_equal(f->peer.in_len, total);
  const uint8_t *p = f->peer.in;
  assert_memory_equal(p, a, sizeof a);
  assert_memory_equal(p += sizeof a, b, sizeof b);
  assert_memory_equal(p += sizeof b, c, sizeof c);
  assert_memory_equal(p += sizeof c, d, sizeof d);
  close_pair(f);
}

/* Three records and the peer's close_notify and FIN, all in the socket before the stream reads: one
 * read delivers the three records, then the end is reported as clean. */
static void test_buffered_records_come_in_one_read_then_the_end(void **state) {
  (void)state;
  struct fixture *f = open_pair();
  uv_timer_stop(&f->peer.tick);
  static uint8_t rec[3000];
  fill(rec, sizeof rec, 13);
  for (int i = 0; i < 3; i++) assert_int_equal(SSL_write(f->peer.ssl, rec, sizeof rec), (int)sizeof rec);
  SSL_shutdown(f->peer.ssl);
  shutdown(f->peer.fd, SHUT_WR);
  run_until(f, &f->sv.ended, 5000);
  assert_true(f->sv.ended);
  assert_int_equal(f->sv.end_status, AZR_OK);
  assert_int_equal(f->sv.read_bytes, 3 * sizeof rec);
  assert_int_equal(f->sv.reads, 1);
  close_pair(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_output_left_in_the_wire_buffer_is_sent),
    cmocka_unit_test(test_corked_writes_arrive_in_order),
    cmocka_unit_test(test_buffered_records_come_in_one_read_then_the_end),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
