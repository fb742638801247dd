/* SPDX-License-Identifier: MIT */
/* Outbound connections through libcurl (CONNECT_ONLY): DNS, HTTP and SOCKS proxies; TLS with every
 * option the listener exposes, by our own handshake (io/tls_client) or, where only libcurl can, by
 * libcurl's. One azr__curl per loop owner drives all its connections with
 * curl_multi_socket_action on libuv handles, so thousands of connections scale. */
#ifndef AZR_IO_CONNECT_H
#define AZR_IO_CONNECT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "io/stream.h"
#include "util/log.h"
#include "util/mem.h"

struct azr__curl;

enum azr__proxy_kind {
  AZR__PROXY_NONE = 0,
  AZR__PROXY_HTTP,     /* HTTP CONNECT tunnel */
  AZR__PROXY_HTTPS,    /* HTTP CONNECT over TLS to the proxy */
  AZR__PROXY_SOCKS4,
  AZR__PROXY_SOCKS4A,
  AZR__PROXY_SOCKS5,   /* the proxy gets an IP address */
  AZR__PROXY_SOCKS5H   /* the proxy resolves the host name */
};

/* Authentication methods for an HTTP proxy (bit set; 0 = any method curl supports). */
enum { AZR__PROXY_AUTH_BASIC = 1, AZR__PROXY_AUTH_DIGEST = 2, AZR__PROXY_AUTH_NTLM = 4, AZR__PROXY_AUTH_NEGOTIATE = 8 };

/* What a connection's TLS handshake reports to an observer (the listener's SSLStatus and
 * SSLServerAuthentication events). Strings are valid during the call. */
enum azr__tls_event_kind { AZR__TLS_STATUS = 1, AZR__TLS_SERVER_CERT, AZR__TLS_DONE };
struct azr__tls_event {
  enum azr__tls_event_kind kind;
  const char *message;  /* STATUS: progress text */
  const char *cert_pem; /* SERVER_CERT: the leaf certificate */
  const char *subject, *issuer;
  const char *status;   /* SERVER_CERT: "OK" or why verification failed */
  bool accept;          /* SERVER_CERT in/out: the observer may accept a failed certificate */
  const char *version, *cipher, *group; /* DONE: what was negotiated */
  int cipher_bits;
};
typedef void (*azr__tls_observer_fn)(void *ud, struct azr__tls_event *ev);

/* Everything that shapes one outbound connection. Strings are borrowed for the azr__connect call
 * (libcurl copies them). NULL / 0 means "default". */
struct azr__connect_options {
  const char *host;
  uint16_t port;
  bool tls;
  /* TLS */
  const char *ca_file;          /* PEM bundle of trusted CAs */
  const char *ca_path;          /* directory of hashed CA certificates */
  const char *ca_pem;           /* trusted CAs as PEM text */
  bool insecure_skip_verify;    /* do not verify the server certificate (tests only) */
  bool skip_host_name_check;    /* verify the chain but not the host name */
  const char *pinned_public_key;/* "sha256//base64" pins or a PEM/DER file (SSLAcceptServerCert) */
  const char *client_cert;      /* file; type in client_cert_type ("PEM", "DER", "P12") */
  const char *client_cert_type;
  const char *client_key;       /* file */
  const char *client_key_type;
  const char *client_key_password;
  const char *cipher_list;      /* TLS 1.2 and below */
  const char *tls13_ciphers;
  const char *curves;           /* supported groups, "X25519:P-256" */
  long tls_min;                 /* CURL_SSLVERSION_* value, 0 = library default */
  long tls_max;                 /* CURL_SSLVERSION_MAX_* value, 0 = none */
  bool no_session_reuse;
  const char *sigalgs;          /* OpenSSL signature algorithm list for TLS 1.2 and 1.3; NULL = default */
  const char *client_chain_pem; /* extra certificates sent after the client certificate */
  const char *keylog_file;      /* append the session secrets here (NSS key log format) */
  bool no_renegotiation;        /* refuse a server's TLS 1.2 renegotiation */
  bool include_cert_chain;      /* the observer's cert_pem holds the whole verified chain, leaf first */
  int min_cipher_bits;          /* fail a handshake that negotiated a weaker bulk cipher; 0 = any */
  /* proxy */
  enum azr__proxy_kind proxy_kind;
  const char *proxy_host;
  uint16_t proxy_port;
  const char *proxy_user;
  const char *proxy_password;
  unsigned proxy_auth;          /* AZR__PROXY_AUTH_* bits */
  const char *proxy_ca_file;    /* for AZR__PROXY_HTTPS */
  bool proxy_insecure;
  bool proxy_from_environment;  /* honour http_proxy/https_proxy/no_proxy when no proxy is set */
  /* socket */
  const char *local_interface;  /* interface name, IP address or host name to bind */
  int ip_version;               /* 0 = any, 4 or 6 */
  long connect_timeout_ms;      /* TCP + proxy + TLS; default 30000 */
  long tcp_keepalive_idle_s;    /* 0 = off */
  long tcp_keepalive_interval_s;
  int tcp_keepalive_count;      /* probes before the peer counts as gone; 0 = the system's */
  int so_rcvbuf, so_sndbuf;     /* socket buffer sizes; 0 = the kernel's autotuning */
  /* TCP_USER_TIMEOUT: sent data unacknowledged this long ends the connection; 0 = the system's
   * retransmission limit (about 15 minutes). Also ends a connection the peer keeps at a zero
   * window that long, so only for channels whose peer always reads (the control channel). */
  unsigned tcp_user_timeout_ms;
  bool verbose;                 /* libcurl's own trace, to stderr (debugging only) */
  azr__tls_observer_fn tls_observer; /* optional: TLS progress and the server certificate */
  void *tls_observer_ud;
};

int azr__curl_new(uv_loop_t *loop, const struct azr__mem *mem, const struct azr__log *log, struct azr__curl **out);
uv_loop_t *azr__curl_loop(const struct azr__curl *c);
const struct azr__mem *azr__curl_mem(const struct azr__curl *c);
/* Releases the multi handle once every stream it created has finished closing (a stream closed with
 * AZR__CLOSE_FLUSH may linger a few seconds); then on_freed (optional) runs on the loop. No new
 * connections are accepted meanwhile. */
void azr__curl_free(struct azr__curl *c, void (*on_freed)(void *ud), void *ud);

/* Starts a connection; on_connect of cb reports the outcome (from the loop, never from inside this
 * call). The stream is returned at once so the owner can close it to cancel. */
int azr__connect(struct azr__curl *c, const struct azr__connect_options *o, const struct azr__stream_callbacks *cb,
                 void *owner, struct azr__stream **out);

#endif
