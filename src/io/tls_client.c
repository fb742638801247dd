/* SPDX-License-Identifier: MIT */
/* Our TLS client handshake's settings, shared context, kept session and pin check (see tls_client.h). */
#include "io/tls_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azrelay/common.h"
#include "io/tls_socket.h"
#include "io/transports.h"

bool azr__env_proxy_for_https(const char *scheme) {
  static const char *const names[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    const char *v = getenv(names[i]);
    if (v && *v && (!scheme || strncasecmp(v, scheme, strlen(scheme)) == 0)) return true;
  }
  return false;
}

bool azr__tls_client_handles(const struct azr__connect_options *o) {
  if (!o->tls || o->client_cert || o->client_chain_pem || o->proxy_kind == AZR__PROXY_HTTPS) return false;
  /* libcurl takes a proxy from the environment by the URL's scheme (https_proxy or all_proxy for
   * wss://, no_proxy applied): when one is set it must see the real URL, so it does the handshake
   * too. With none set, no proxy applies and the handshake is ours. */
  if (o->proxy_kind == AZR__PROXY_NONE && o->proxy_from_environment && azr__env_proxy_for_https(NULL)) return false;
  return !o->pinned_public_key || strncmp(o->pinned_public_key, "sha256//", 8) == 0;
}

static SSL_CTX *shared_ctx(struct azr__tls_client *t, const struct azr__tls_client_hooks *hooks, X509_STORE *store) {
  if (t->ctx && t->store == store) return t->ctx;
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return NULL;
  if (store) SSL_CTX_set1_cert_store(ctx, store); /* takes its own reference */
  /* A relay that drops TCP without close_notify is an end of input: the WebSocket layer judges it. */
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_default_read_buffer_len(ctx, AZR__TLS_READ_AHEAD);
  SSL_CTX_set_info_callback(ctx, hooks->info);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, hooks->verify);
  SSL_CTX_set_keylog_callback(ctx, hooks->keylog);
  /* Sessions are kept by us (one per owner), not in OpenSSL's client cache, which it never consults. */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, hooks->new_session);
  SSL_CTX_free(t->ctx); /* connections still using it hold their own reference */
  SSL_SESSION_free(t->session);
  t->session = NULL;
  t->ctx = ctx;
  t->store = store;
  return ctx;
}

/* libcurl's version numbers (CURL_SSLVERSION_TLSv1_0 = 4 ... TLSv1_3 = 7; MAX_* are these << 16). */
static int openssl_version(long curl_version) {
  switch (curl_version) {
  case CURL_SSLVERSION_TLSv1:
  case CURL_SSLVERSION_TLSv1_0:
    return TLS1_VERSION;
  case CURL_SSLVERSION_TLSv1_1:
    return TLS1_1_VERSION;
  case CURL_SSLVERSION_TLSv1_2:
    return TLS1_2_VERSION;
  case CURL_SSLVERSION_TLSv1_3:
    return TLS1_3_VERSION;
  default:
    return 0;
  }
}

static SSL *configure_failed(SSL *ssl, int *status, char *text, size_t text_len, const char *what) {
  unsigned long e = ERR_get_error();
  char detail[160] = "";
  if (e) ERR_error_string_n(e, detail, sizeof detail);
  ERR_clear_error();
  snprintf(text, text_len, "%s%s%s", what, detail[0] ? ": " : "", detail);
  *status = AZR_E_TLS_CREDENTIALS;
  SSL_free(ssl);
  return NULL;
}

static bool is_ip_literal(const char *host) {
  unsigned char a[16];
  return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

SSL *azr__tls_client_new_ssl(struct azr__tls_client *t, const struct azr__tls_client_hooks *hooks, X509_STORE *store,
                             const struct azr__connect_options *o, const char *groups, int *status, char *text,
                             size_t text_len) {
  *status = AZR_E_NOMEM;
  snprintf(text, text_len, "out of memory");
  SSL_CTX *ctx = shared_ctx(t, hooks, store);
  SSL *ssl = ctx ? SSL_new(ctx) : NULL;
  if (!ssl) return NULL;
  SSL_set_connect_state(ssl);
  /* Unverified only where asked (SSLSecurityFlags, SSLAcceptServerCert: the key is pinned instead);
   * the verify callback still runs, so the observer sees the certificate and its status. */
  SSL_set_verify(ssl, o->insecure_skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, hooks->verify);
  bool ip = is_ip_literal(o->host);
  if (!ip && SSL_set_tlsext_host_name(ssl, o->host) != 1) return configure_failed(ssl, status, text, text_len, "SNI");
  if (!o->insecure_skip_verify && !o->skip_host_name_check) {
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    /* Wildcards only as a whole left-most label, as libcurl checks them. */
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, o->host) : X509_VERIFY_PARAM_set1_host(param, o->host, 0);
    if (ok != 1) return configure_failed(ssl, status, text, text_len, "host name to verify");
  }
  int lo = openssl_version(o->tls_min), hi = openssl_version(o->tls_max >> 16);
  if ((lo && SSL_set_min_proto_version(ssl, lo) != 1) || (hi && SSL_set_max_proto_version(ssl, hi) != 1))
    return configure_failed(ssl, status, text, text_len, "TLS versions");
  if (o->cipher_list && SSL_set_cipher_list(ssl, o->cipher_list) != 1)
    return configure_failed(ssl, status, text, text_len, "failed setting cipher list");
  if (o->tls13_ciphers && SSL_set_ciphersuites(ssl, o->tls13_ciphers) != 1)
    return configure_failed(ssl, status, text, text_len, "failed setting TLS 1.3 cipher suites");
  if (o->sigalgs && SSL_set1_sigalgs_list(ssl, o->sigalgs) != 1)
    return configure_failed(ssl, status, text, text_len, "failed setting signature algorithms");
  if (groups && SSL_set1_groups_list(ssl, groups) != 1)
    return configure_failed(ssl, status, text, text_len, "failed setting curves list");
  if (o->no_renegotiation) SSL_set_options(ssl, SSL_OP_NO_RENEGOTIATION);
  /* The WebSocket upgrade is HTTP/1.1 (a relay choosing h2 would break it). */
  static const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  if (SSL_set_alpn_protos(ssl, alpn, sizeof alpn) != 0) return configure_failed(ssl, status, text, text_len, "ALPN");
  *status = AZR_OK;
  text[0] = 0;
  return ssl;
}

/* FNV-1a over the settings, with a separator after each so that ("ab","c") and ("a","bc") differ. */
static uint64_t mix(uint64_t h, const char *s) {
  for (const char *p = s ? s : ""; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
  return (h ^ (s ? 0x1f : 0x1e)) * 0x100000001b3ULL;
}

uint64_t azr__tls_client_session_key(const struct azr__connect_options *o, const X509_STORE *store) {
  char nums[96];
  snprintf(nums, sizeof nums, "%u|%d|%d|%ld|%ld|%p|%d", (unsigned)o->port, o->insecure_skip_verify,
           o->skip_host_name_check, o->tls_min, o->tls_max, (const void *)store, o->no_renegotiation);
  uint64_t h = 0xcbf29ce484222325ULL;
  const char *parts[] = {o->host, nums, o->pinned_public_key, o->cipher_list, o->tls13_ciphers, o->sigalgs};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) h = mix(h, parts[i]);
  return h;
}

void azr__tls_client_resume(struct azr__tls_client *t, SSL *ssl, uint64_t key) {
  if (t->session && t->session_key == key) SSL_set_session(ssl, t->session); /* takes its own reference */
}

void azr__tls_client_keep(struct azr__tls_client *t, SSL_SESSION *session, uint64_t key) {
  SSL_SESSION_free(t->session);
  t->session = session;
  t->session_key = key;
}

bool azr__tls_client_pins_match(SSL *ssl, const char *pins) {
  X509 *cert = SSL_get0_peer_certificate(ssl);
  EVP_PKEY *key = cert ? X509_get0_pubkey(cert) : NULL;
  unsigned char *der = NULL;
  int der_len = key ? i2d_PUBKEY(key, &der) : -1;
  if (der_len <= 0) return false;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  bool hashed = EVP_Digest(der, (size_t)der_len, digest, &digest_len, EVP_sha256(), NULL) == 1;
  OPENSSL_free(der);
  char b64[64];
  if (!hashed || EVP_EncodeBlock((unsigned char *)b64, digest, (int)digest_len) <= 0) return false;
  size_t b64_len = strlen(b64);
  for (const char *p = pins; *p;) {
    size_t n = strcspn(p, ";");
    if (n == 8 + b64_len && strncmp(p, "sha256//", 8) == 0 && memcmp(p + 8, b64, b64_len) == 0) return true;
    p += n;
    if (*p == ';') p++;
  }
  return false;
}

bool azr__tls_client_rejected(const SSL *ssl, const char *host, char *text, size_t text_len) {
  long verify = SSL_get_verify_result(ssl);
  if (verify == X509_V_OK || !(SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER)) return false;
  snprintf(text, text_len, "the server certificate of %s failed verification: %s", host,
           X509_verify_cert_error_string(verify));
  return true;
}

void azr__tls_client_free(struct azr__tls_client *t) {
  SSL_SESSION_free(t->session);
  SSL_CTX_free(t->ctx);
  memset(t, 0, sizeof *t);
}
