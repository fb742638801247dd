/* SPDX-License-Identifier: MIT */
/* Our own TLS client handshake on a connection libcurl has opened (TCP, HTTP tunnel or SOCKS).
 *
 * libcurl 7.88 builds a new SSL_CTX for every connection (cipher tables, verification settings, its
 * own session lookup) and keeps it, with its easy handle and connection, for the connection's life:
 * about half of an idle rendezvous connection's memory and much of the CPU of each accept. Here all
 * connections of an owner share one SSL_CTX (rebuilt only when the trusted CAs change), per-connection
 * settings go on the SSL object, and the newest resumable session is kept for the next handshake
 * with the same peer and settings. libcurl still does TLS where it must: inside an HTTPS proxy's TLS,
 * with a client certificate (it loads PEM, DER and PKCS#12 files), and for proxies taken from the
 * environment (libcurl picks them by the URL's scheme). */
#ifndef AZR_IO_TLS_CLIENT_H
#define AZR_IO_TLS_CLIENT_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/connect.h"

struct azr__tls_client {
  SSL_CTX *ctx;            /* NULL until the first connection */
  const X509_STORE *store; /* the trusted CAs ctx was built with (identity only; NULL = none) */
  SSL_SESSION *session;    /* newest resumable session, for connections with the same session_key */
  uint64_t session_key;
};

/* The callbacks every connection's SSL reaches its owner through (SSL_get_app_data is the owner's
 * per-connection data). */
struct azr__tls_client_hooks {
  void (*info)(const SSL *ssl, int where, int ret);
  int (*verify)(int ok, X509_STORE_CTX *x);
  void (*keylog)(const SSL *ssl, const char *line);
  int (*new_session)(SSL *ssl, SSL_SESSION *session);
};

/* Whether https_proxy, HTTPS_PROXY, all_proxy or ALL_PROXY is set (to a URL of that scheme when
 * scheme is not NULL, e.g. "https"): libcurl may then take a proxy from the environment for a
 * wss:// URL. */
bool azr__env_proxy_for_https(const char *scheme);
/* Whether these options can use our handshake (else libcurl does TLS as before). */
bool azr__tls_client_handles(const struct azr__connect_options *o);

/* A new client SSL for o, on the shared context for `store` (rebuilt, and the kept session dropped,
 * when the store differs from the last one). Groups are `groups` (an OpenSSL list). On failure
 * returns NULL with a status and text (bad cipher or group lists: AZR_E_TLS_CREDENTIALS, as libcurl
 * reported them). */
SSL *azr__tls_client_new_ssl(struct azr__tls_client *t, const struct azr__tls_client_hooks *hooks, X509_STORE *store,
                             const struct azr__connect_options *o, const char *groups, int *status, char *text,
                             size_t text_len);

/* Identifies the settings a session was verified under: a session resumes only where the same ones
 * apply (resumption skips certificate verification). */
uint64_t azr__tls_client_session_key(const struct azr__connect_options *o, const X509_STORE *store);
/* Offers the kept session to ssl when its key matches. */
void azr__tls_client_resume(struct azr__tls_client *t, SSL *ssl, uint64_t key);
/* Keeps session (taking the caller's reference) as the newest for key. */
void azr__tls_client_keep(struct azr__tls_client *t, SSL_SESSION *session, uint64_t key);

/* Whether the server's public key matches one of libcurl-format pins ("sha256//<base64>;..."). */
bool azr__tls_client_pins_match(SSL *ssl, const char *pins);

/* After a failed handshake: whether it failed because the server's certificate did not verify (then
 * AZR_E_TLS_VERIFY, with `text` naming the host and the reason); other failures keep the handshake's
 * own message (io/tls_socket). */
bool azr__tls_client_rejected(const SSL *ssl, const char *host, char *text, size_t text_len);

void azr__tls_client_free(struct azr__tls_client *t);

#endif
