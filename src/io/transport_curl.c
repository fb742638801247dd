/* SPDX-License-Identifier: MIT */
/* libcurl CONNECT_ONLY connections as stream transports, driven by curl_multi_socket_action. */
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "azrelay/common.h"
#include "util/str.h"
#include "io/connect.h"
#include "io/tls_ca_store.h"
#include "io/tls_client.h"
#include "io/tls_socket.h"
#include "io/transports.h"

/* libcurl 7.88 finds the connection of a CONNECT_ONLY handle, on every curl_easy_send/recv, by
 * walking its multi handle's whole connection cache, and all our connections share one host. So the
 * connections are spread over multi handles of at most SHARD_CONNECTIONS each, which bounds that walk
 * (each multi costs a timer and libcurl's two wake-up descriptors). */
#define SHARD_CONNECTIONS 16

/* A libcurl share of TLS sessions, counted: when the trusted CAs change, later connections get a new
 * share (a session verified with the old CAs must not resume), the old one goes with its last user. */
struct curl_share {
  CURLSH *sh;
  size_t users; /* connections, plus 1 while it is the owner's current share */
};

struct curl_shard {
  struct azr__curl *c;
  struct curl_shard *next;
  CURLM *multi;
  uv_timer_t timer;
  size_t connections; /* easy handles in this multi */
};

struct azr__curl {
  uv_loop_t *loop;
  const struct azr__mem *mem;
  const struct azr__log *log;
  struct curl_shard *shards;
  struct curl_share *share; /* TLS sessions, resumed by later connections of the same owner (ReuseSSLSession) */
  struct azr__ca_store ca;  /* the trusted CAs of every connection that verifies its server */
  bool share_stale;         /* the CAs changed: the next connection using them needs a new share */
  BIO_METHOD *sock_bio; /* io/tls_socket's BIO for sessions moved off libcurl (go_direct), made once */
  struct azr__tls_client tls; /* our own handshakes: the shared SSL_CTX and the kept session */
  /* The key-exchange group the relay chose when we offered our default list and it did not take
   * the first: offered first from then on (see default_groups()). "" = none learned yet. */
  char learned_group[16];
  /* Streams outlive their owner while they flush and close; the multi handles must outlive them. */
  size_t live_streams;
  /* libuv runs close callbacks newest first: a socket watcher closed just before a timer still
   * needs this struct in its callback, so the struct goes only once all of them are closed. */
  size_t live_watches;
  size_t live_timers;
  bool freeing;
  void (*on_freed)(void *ud);
  void *freed_ud;
};

/* Per-socket watcher while libcurl itself drives a connection (DNS, proxy, TLS handshake). */
struct curl_watch {
  uv_poll_t poll;
  struct curl_shard *sh; /* may be gone when the close callback runs: use c there */
  struct azr__curl *c;
  curl_socket_t fd;
};

struct curl_conn {
  struct azr__curl *c;
  struct curl_shard *sh;
  CURL *easy;
  SSL *ssl; /* for SSL_pending and write-retry mode once connected */
  struct curl_share *share;
  X509_STORE *ca_store; /* the owner's store of trusted CAs, or NULL: libcurl loads them itself */
  azr__tls_observer_fn tls_observer;
  void *tls_observer_ud;
  int chain_error; /* first verification error seen above the leaf */
  bool cert_reported; /* the observer saw the leaf once for this handshake */
  bool cert_accepted; /* and what it decided */
  char errbuf[CURL_ERROR_SIZE];
  char url[300];
  bool in_multi;
  int keepalive_count;         /* TCP_KEEPCNT, 0 = untouched */
  unsigned user_timeout_ms;    /* TCP_USER_TIMEOUT, 0 = untouched */
  int so_rcvbuf, so_sndbuf;    /* 0 = untouched */
  /* TLS settings libcurl has no option for, applied to the SSL_CTX it hands us (strings point into
   * the caller's settings, which outlive the handshake) */
  const char *sigalgs, *client_chain_pem, *keylog_file;
  bool no_renegotiation, include_cert_chain;
  int min_cipher_bits;
  bool proxy_tls; /* through an HTTPS proxy: the socket carries the proxy's TLS, only libcurl drives it */
  /* Our own handshake (io/tls_client) once libcurl has the TCP connection: own_ssl is ours to free;
   * a setup failure waits in own_status/own_error until the connect would have completed. */
  SSL *own_ssl;
  int own_status;
  char *own_error;
  char *own_host;       /* for the messages */
  char *own_pins;       /* checked when the handshake is done */
  uint64_t session_key; /* 0 = sessions are not reused */
  bool go_direct; /* connected: leave libcurl's send/recv after the first bytes arrive */
  bool default_groups; /* the application chose no groups: we may learn the relay's preference */
  int client_hellos;   /* 2 when the server answered with a HelloRetryRequest */
  int last_state;      /* of the handshake state machine, to count entries into ClientHello */
  struct azr__tls_socket sock; /* the session once it left libcurl */
};

static void check_done(struct curl_shard *sh);
static void go_direct(struct azr__stream *s, struct curl_conn *cc);
static void start_own_tls(struct azr__stream *s, struct curl_conn *cc, int fd);

static void release(struct azr__curl *c) {
  if (c->sock_bio) BIO_meth_free(c->sock_bio); /* every session using it is freed by now */
  void (*on_freed)(void *) = c->on_freed;
  void *ud = c->freed_ud;
  azr__free(c->mem, c);
  if (on_freed) on_freed(ud);
}

static void on_watch_closed(uv_handle_t *h) {
  struct curl_watch *w = h->data;
  struct azr__curl *c = w->c;
  azr__free(c->mem, w);
  if (--c->live_watches == 0 && c->live_timers == 0) release(c);
}

static void on_watch(uv_poll_t *h, int status, int events) {
  struct curl_watch *w = h->data;
  int flags = 0;
  if (status < 0) flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  int running;
  struct curl_shard *sh = w->sh;
  curl_multi_socket_action(sh->multi, w->fd, flags, &running);
  check_done(sh);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
  (void)easy;
  struct curl_shard *sh = userp;
  struct azr__curl *c = sh->c;
  struct curl_watch *w = socketp;
  if (what == CURL_POLL_REMOVE) {
    if (w) {
      uv_poll_stop(&w->poll);
      uv_close((uv_handle_t *)&w->poll, on_watch_closed);
      curl_multi_assign(sh->multi, fd, NULL);
    }
    return 0;
  }
  if (!w) {
    w = azr__calloc(c->mem, 1, sizeof *w);
    if (!w) return -1;
    w->sh = sh;
    w->c = c;
    w->fd = fd;
    if (uv_poll_init_socket(c->loop, &w->poll, fd) != 0) {
      azr__free(c->mem, w);
      return -1;
    }
    w->poll.data = w;
    c->live_watches++;
    curl_multi_assign(sh->multi, fd, w);
  }
  int ev = 0;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) ev |= UV_READABLE;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) ev |= UV_WRITABLE;
  uv_poll_start(&w->poll, ev, on_watch);
  return 0;
}

static void on_timer(uv_timer_t *t) {
  struct curl_shard *sh = t->data;
  int running;
  curl_multi_socket_action(sh->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(sh);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
  (void)multi;
  struct curl_shard *sh = userp;
  if (timeout_ms < 0) uv_timer_stop(&sh->timer);
  else uv_timer_start(&sh->timer, on_timer, (uint64_t)timeout_ms, 0);
  return 0;
}

/* A multi handle with room for one more connection (a new one when all are full). */
static struct curl_shard *shard_with_room(struct azr__curl *c) {
  for (struct curl_shard *sh = c->shards; sh; sh = sh->next)
    if (sh->connections < SHARD_CONNECTIONS) return sh;
  struct curl_shard *sh = azr__calloc(c->mem, 1, sizeof *sh);
  if (!sh) return NULL;
  sh->multi = curl_multi_init();
  if (!sh->multi) {
    azr__free(c->mem, sh);
    return NULL;
  }
  sh->c = c;
  curl_multi_setopt(sh->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
  curl_multi_setopt(sh->multi, CURLMOPT_SOCKETDATA, sh);
  curl_multi_setopt(sh->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt(sh->multi, CURLMOPT_TIMERDATA, sh);
  uv_timer_init(c->loop, &sh->timer);
  sh->timer.data = sh;
  c->live_timers++;
  sh->next = c->shards;
  c->shards = sh;
  return sh;
}

static struct curl_share *share_new(const struct azr__mem *mem) {
  struct curl_share *sh = azr__calloc(mem, 1, sizeof *sh);
  if (!sh) return NULL;
  sh->sh = curl_share_init();
  if (!sh->sh || curl_share_setopt(sh->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
    if (sh->sh) curl_share_cleanup(sh->sh);
    azr__free(mem, sh);
    return NULL;
  }
  sh->users = 1;
  return sh;
}

/* After the last easy handle using it is cleaned up. */
static void share_unref(const struct azr__mem *mem, struct curl_share *sh) {
  if (!sh || --sh->users > 0) return;
  curl_share_cleanup(sh->sh);
  azr__free(mem, sh);
}

int azr__curl_new(uv_loop_t *loop, const struct azr__mem *mem, const struct azr__log *log, struct azr__curl **out) {
  struct azr__curl *c = azr__calloc(mem, 1, sizeof *c);
  if (!c) return AZR_E_NOMEM;
  c->loop = loop;
  c->mem = mem ? mem : azr__mem_default();
  c->log = log;
  c->share = share_new(c->mem);
  if (!c->share) {
    azr__free(c->mem, c);
    return AZR_E_NOMEM;
  }
  *out = c;
  return AZR_OK;
}

uv_loop_t *azr__curl_loop(const struct azr__curl *c) { return c->loop; }
const struct azr__mem *azr__curl_mem(const struct azr__curl *c) { return c->mem; }

static void on_shard_timer_closed(uv_handle_t *h) {
  struct curl_shard *sh = h->data;
  struct azr__curl *c = sh->c;
  azr__free(c->mem, sh);
  if (--c->live_timers == 0 && c->live_watches == 0) release(c);
}

static void destroy(struct azr__curl *c) {
  share_unref(c->mem, c->share); /* every easy handle is gone by now */
  c->share = NULL;
  azr__ca_store_free(&c->ca, c->mem);
  azr__tls_client_free(&c->tls);
  if (!c->shards) { /* never connected anything */
    release(c);
    return;
  }
  while (c->shards) {
    struct curl_shard *sh = c->shards;
    c->shards = sh->next;
    curl_multi_cleanup(sh->multi);
    sh->multi = NULL;
    uv_timer_stop(&sh->timer);
    uv_close((uv_handle_t *)&sh->timer, on_shard_timer_closed);
  }
}

void azr__curl_free(struct azr__curl *c, void (*on_freed)(void *ud), void *ud) {
  if (!c) return;
  c->freeing = true;
  c->on_freed = on_freed;
  c->freed_ud = ud;
  if (c->live_streams == 0) destroy(c);
}

static int status_from_curl(CURLcode rc, long connect_code) {
  switch (rc) {
  case CURLE_COULDNT_RESOLVE_HOST:
    return AZR_E_HOST_NOT_FOUND;
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_PROXY:
    return AZR_E_PROXY;
  case CURLE_COULDNT_CONNECT:
    return AZR_E_CONN_REFUSED;
  case CURLE_OPERATION_TIMEDOUT:
    return AZR_E_TIMEOUT;
  case CURLE_PEER_FAILED_VERIFICATION:
    return AZR_E_TLS_VERIFY;
  case CURLE_SSL_CONNECT_ERROR:
    return AZR_E_TLS_HANDSHAKE;
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    return rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH ? AZR_E_TLS_VERIFY : AZR_E_TLS_CREDENTIALS;
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_GOT_NOTHING:
    return connect_code >= 300 ? AZR_E_PROXY : AZR_E_CONN_RESET;
  default:
    return connect_code >= 300 ? AZR_E_PROXY : AZR_E_IO;
  }
}

/* SSLCipherStrength: a handshake that settled on a weaker bulk cipher fails. */
static void cipher_too_weak(struct azr__stream *s, const SSL *ssl, int min_bits) {
  const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
  azr__stream_fail(s, AZR_E_TLS_HANDSHAKE, "the server chose %s (%d-bit); SSLCipherStrength asks for at least %d bits",
                   cipher ? SSL_CIPHER_get_name(cipher) : "?", cipher ? SSL_CIPHER_get_bits(cipher, NULL) : 0,
                   min_bits);
}

static void check_done(struct curl_shard *sh) {
  CURLMsg *msg;
  int left;
  while (sh->multi && (msg = curl_multi_info_read(sh->multi, &left))) {
    if (msg->msg != CURLMSG_DONE) continue;
    struct azr__stream *s = NULL;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
    if (!s || s->state != AZR__STREAM_CONNECTING) continue;
    struct curl_conn *cc = s->transport_data;
    if (msg->data.result == CURLE_OK) {
      curl_socket_t fd = CURL_SOCKET_BAD;
      curl_easy_getinfo(cc->easy, CURLINFO_ACTIVESOCKET, &fd);
      const SSL_CIPHER *cipher = cc->ssl ? SSL_get_current_cipher(cc->ssl) : NULL;
      int bits = cipher ? SSL_CIPHER_get_bits(cipher, NULL) : 0;
      if (fd == CURL_SOCKET_BAD) {
        azr__stream_connected(s, -1, AZR_E_IO, "libcurl gave no socket");
      } else if (cc->own_status) {
        azr__stream_connected(s, -1, cc->own_status, cc->own_error ? cc->own_error : "TLS setup failed");
      } else if (cc->own_ssl) {
        start_own_tls(s, cc, (int)fd);
      } else if (cc->min_cipher_bits > 0 && cc->ssl && bits < cc->min_cipher_bits) {
        cipher_too_weak(s, cc->ssl, cc->min_cipher_bits);
        azr__stream_connected(s, -1, AZR_E_TLS_HANDSHAKE, NULL);
      } else {
        cc->go_direct = !cc->proxy_tls;
        azr__stream_connected(s, (int)fd, AZR_OK, NULL);
      }
    } else {
      long connect_code = 0;
      curl_easy_getinfo(cc->easy, CURLINFO_HTTP_CONNECTCODE, &connect_code);
      char detail[CURL_ERROR_SIZE + 64];
      if (connect_code >= 300)
        snprintf(detail, sizeof detail, "proxy answered %ld to CONNECT (%s)", connect_code,
                 cc->errbuf[0] ? cc->errbuf : curl_easy_strerror(msg->data.result));
      else
        snprintf(detail, sizeof detail, "%s", cc->errbuf[0] ? cc->errbuf : curl_easy_strerror(msg->data.result));
      cc->ssl = NULL; /* libcurl has already freed it */
      azr__stream_connected(s, -1, status_from_curl(msg->data.result, connect_code), detail);
    }
  }
}

/* libcurl does not expose the SSL object of a CONNECT_ONLY connection once the connect phase is
 * over, so we catch it when its handshake starts, through the per-connection SSL_CTX. */
static void tls_status(struct curl_conn *cc, const char *message) {
  if (!cc->tls_observer) return;
  struct azr__tls_event ev = {.kind = AZR__TLS_STATUS, .message = message};
  cc->tls_observer(cc->tls_observer_ud, &ev);
}

/* Key exchange: our default offer starts with X25519, the cheapest group (OpenSSL 3.0 sends a key
 * share for the first group only). A relay that prefers another group (Azure's front ends choose
 * P-384) answers the first handshake with a HelloRetryRequest; the group it chose is then offered
 * first on every later connection of this listener, so only that one handshake pays the extra
 * round trip, and a relay that takes X25519 (the emulator) keeps the cheap one. */
#define DEFAULT_GROUPS "X25519:P-384:P-256:P-521"

static void learn_group(struct azr__curl *c, int nid) {
  const char *name = nid == NID_secp384r1 ? "P-384" : nid == NID_X9_62_prime256v1 ? "P-256"
                     : nid == NID_secp521r1 ? "P-521" : nid == NID_X25519 ? "X25519" : NULL;
  if (name) snprintf(c->learned_group, sizeof c->learned_group, "%s", name);
}

/* DEFAULT_GROUPS with the learned group moved to the front. */
static void default_groups(const struct azr__curl *c, char *out, size_t cap) {
  if (!c->learned_group[0]) {
    snprintf(out, cap, "%s", DEFAULT_GROUPS);
    return;
  }
  size_t n = (size_t)snprintf(out, cap, "%s", c->learned_group);
  const char *p = DEFAULT_GROUPS;
  while (*p && n < cap) {
    size_t len = strcspn(p, ":");
    if (len != strlen(c->learned_group) || strncmp(p, c->learned_group, len) != 0)
      n += (size_t)snprintf(out + n, cap - n, ":%.*s", (int)len, p);
    p += len + (p[len] == ':');
  }
}

/* The connection an SSL belongs to: libcurl's per-connection SSL_CTX carries it, our shared one
 * cannot, so our SSL objects carry it themselves. */
static struct curl_conn *conn_of(const SSL *ssl) {
  struct curl_conn *cc = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
  return cc ? cc : SSL_get_app_data(ssl);
}

static void on_ssl_info(const SSL *ssl, int where, int ret) {
  (void)ret;
  struct curl_conn *cc = conn_of(ssl);
  if (!cc) return;
  if (where & SSL_CB_HANDSHAKE_START) {
    cc->ssl = (SSL *)ssl;
    cc->client_hellos = 0;
    cc->last_state = -1;
    /* Who runs it: ours on a plain connection, libcurl's where only it can (io/tls_client.h). */
    tls_status(cc, ssl == cc->own_ssl ? "TLS handshake started (azrelay)" : "TLS handshake started (libcurl)");
  }
  if (where & SSL_CB_LOOP) { /* OpenSSL reports a state more than once: count entries into it */
    int state = (int)SSL_get_state(ssl);
    if (state == TLS_ST_CW_CLNT_HELLO && cc->last_state != state) cc->client_hellos++;
    cc->last_state = state;
  }
  if (where & SSL_CB_HANDSHAKE_DONE) {
    int nid = SSL_get_negotiated_group((SSL *)ssl);
    if (cc->default_groups) learn_group(cc->c, nid);
  }
  if ((where & SSL_CB_HANDSHAKE_DONE) && cc->tls_observer) {
    const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
    char msg[200];
    snprintf(msg, sizeof msg, "TLS handshake done: %s, %s%s%s", SSL_get_version(ssl), c ? SSL_CIPHER_get_name(c) : "?",
             SSL_session_reused((SSL *)ssl) ? " (session resumed)" : "",
             cc->client_hellos > 1 ? " (after a HelloRetryRequest)" : "");
    tls_status(cc, msg);
    int nid = SSL_get_negotiated_group((SSL *)ssl);
    const char *group = nid > 0 ? OBJ_nid2sn(nid) : "";
    struct azr__tls_event ev = {.kind = AZR__TLS_DONE,
                                .version = SSL_get_version(ssl),
                                .cipher = c ? SSL_CIPHER_get_name(c) : "",
                                .group = group ? group : "",
                                .cipher_bits = c ? SSL_CIPHER_get_bits(c, NULL) : 0};
    cc->tls_observer(cc->tls_observer_ud, &ev);
  }
}

/* Shows the server certificate to the observer once the chain has been checked (OpenSSL walks from
 * the top of the chain down to the leaf at depth 0); the observer may accept a failed one. */
static int on_verify(int ok, X509_STORE_CTX *x) {
  SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
  struct curl_conn *cc = ssl ? conn_of(ssl) : NULL;
  if (!cc || !cc->tls_observer) return ok;
  int depth = X509_STORE_CTX_get_error_depth(x);
  if (cc->cert_reported) { /* OpenSSL may revisit the leaf: keep the first decision */
    if (cc->cert_accepted) X509_STORE_CTX_set_error(x, X509_V_OK);
    return cc->cert_accepted ? 1 : ok;
  }
  if (depth > 0) {
    if (!ok && !cc->chain_error) cc->chain_error = X509_STORE_CTX_get_error(x);
    return 1; /* judged at the leaf, where the observer can decide */
  }
  int err = !ok ? X509_STORE_CTX_get_error(x) : cc->chain_error;
  X509 *cert = X509_STORE_CTX_get_current_cert(x);
  char subject[256] = "", issuer[256] = "";
  if (cert) {
    X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
    X509_NAME_oneline(X509_get_issuer_name(cert), issuer, sizeof issuer);
  }
  char *pem = NULL;
  BIO *b = BIO_new(BIO_s_mem());
  bool written = b && cert && PEM_write_bio_X509(b, cert) == 1;
  STACK_OF(X509) *chain = cc->include_cert_chain ? X509_STORE_CTX_get0_chain(x) : NULL;
  for (int i = 1; written && chain && i < sk_X509_num(chain); i++) /* [0] is the leaf, written above */
    written = PEM_write_bio_X509(b, sk_X509_value(chain, i)) == 1;
  if (written) {
    char *p;
    long n = BIO_get_mem_data(b, &p);
    pem = malloc((size_t)n + 1);
    if (pem) {
      memcpy(pem, p, (size_t)n);
      pem[n] = 0;
    }
  }
  BIO_free(b);
  /* With verification off (SSLAcceptServerCertEncoded=*, pinning) the handshake goes ahead anyway:
   * say so, while the status still tells what the chain check found. */
  bool enforced = (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) != 0;
  struct azr__tls_event ev = {.kind = AZR__TLS_SERVER_CERT,
                              .cert_pem = pem ? pem : "",
                              .subject = subject,
                              .issuer = issuer,
                              .status = err ? X509_verify_cert_error_string(err) : "OK",
                              .accept = err == 0 || !enforced};
  cc->cert_reported = true;
  cc->tls_observer(cc->tls_observer_ud, &ev);
  free(pem);
  if (!enforced) return ok;
  cc->cert_accepted = ev.accept;
  if (ev.accept) {
    X509_STORE_CTX_set_error(x, X509_V_OK);
    return 1;
  }
  X509_STORE_CTX_set_error(x, err ? err : X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

/* SSLKeyLogFile: one line per secret, appended (the file may be shared by several processes). */
static void on_keylog(const SSL *ssl, const char *line) {
  const struct curl_conn *cc = conn_of(ssl);
  if (!cc || !cc->keylog_file) return;
  FILE *f = fopen(cc->keylog_file, "a");
  if (!f) return;
  fprintf(f, "%s\n", line);
  fclose(f);
}

/* A resumable session from the relay (TLS 1.3 sends its tickets after the handshake): the owner keeps
 * the newest for its next handshake with the same settings. */
static int on_new_session(SSL *ssl, SSL_SESSION *session) {
  struct curl_conn *cc = conn_of(ssl);
  if (!cc || !cc->session_key || !SSL_SESSION_is_resumable(session)) return 0;
  azr__tls_client_keep(&cc->c->tls, session, cc->session_key);
  return 1; /* the reference is ours now */
}

static const struct azr__tls_client_hooks own_tls_hooks = {on_ssl_info, on_verify, on_keylog, on_new_session};

/* SSLCACerts: certificates sent after the client certificate libcurl loaded. */
static bool add_client_chain(SSL_CTX *c, const char *pem) {
  BIO *b = BIO_new_mem_buf(pem, -1);
  bool ok = b != NULL;
  X509 *x;
  while (ok && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
    ok = SSL_CTX_add0_chain_cert(c, x) == 1;
    if (!ok) X509_free(x);
  }
  ERR_clear_error(); /* the end of the text reads as an error */
  BIO_free(b);
  return ok;
}

static CURLcode on_ssl_ctx(CURL *easy, void *ctx, void *userptr) {
  (void)easy;
  SSL_CTX *c = ctx;
  struct curl_conn *conn = userptr;
  if (conn->sigalgs && SSL_CTX_set1_sigalgs_list(c, conn->sigalgs) != 1) return CURLE_SSL_CIPHER;
  if (conn->client_chain_pem && !add_client_chain(c, conn->client_chain_pem)) return CURLE_SSL_CERTPROBLEM;
  if (conn->keylog_file) SSL_CTX_set_keylog_callback(c, on_keylog);
  if (conn->no_renegotiation) SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION);
  /* A write that would block is retried from our queue, at another address than the first
   * attempt: OpenSSL must allow that, or it fails the retry ("bad write retry"). */
  SSL_CTX_set_mode(c, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  /* Fewer read system calls: take all records available, not one header and one body at a time. */
  SSL_CTX_set_read_ahead(c, 1);
  SSL_CTX_set_default_read_buffer_len(c, AZR__TLS_READ_AHEAD);
  SSL_CTX_set_app_data(c, userptr);
  SSL_CTX_set_info_callback(c, on_ssl_info);
  struct curl_conn *cc = userptr;
  if (cc->ca_store) SSL_CTX_set1_cert_store(c, cc->ca_store); /* takes its own reference */
  if (cc->tls_observer) SSL_CTX_set_verify(c, SSL_CTX_get_verify_mode(c), on_verify);
  return CURLE_OK;
}

static ssize_t curl_read(struct azr__stream *s, uint8_t *buf, size_t len) {
  struct curl_conn *cc = s->transport_data;
  size_t n = 0;
  CURLcode rc = curl_easy_recv(cc->easy, buf, len, &n);
  /* The first bytes from the server: a TLS 1.3 server's session tickets came before them and
   * libcurl has stored them (ReuseSSLSession), so the bytes may move without libcurl from now on. */
  if (rc == CURLE_OK && n > 0 && cc->go_direct) go_direct(s, cc);
  if (rc == CURLE_OK) return (ssize_t)n; /* 0 = the peer closed */
  if (rc == CURLE_AGAIN) return AZR__IO_WANT_READ;
  azr__stream_fail(s, rc == CURLE_RECV_ERROR ? AZR_E_CONN_RESET : AZR_E_IO, "receive: %s",
                   cc->errbuf[0] ? cc->errbuf : curl_easy_strerror(rc));
  return AZR__IO_ERROR;
}

static ssize_t curl_write(struct azr__stream *s, const uint8_t *buf, size_t len) {
  struct curl_conn *cc = s->transport_data;
  size_t n = 0;
  CURLcode rc = curl_easy_send(cc->easy, buf, len, &n);
  if (rc == CURLE_OK) return n ? (ssize_t)n : AZR__IO_WANT_WRITE;
  if (rc == CURLE_AGAIN) return AZR__IO_WANT_WRITE;
  azr__stream_fail(s, rc == CURLE_SEND_ERROR ? AZR_E_CONN_RESET : AZR_E_IO, "send: %s",
                   cc->errbuf[0] ? cc->errbuf : curl_easy_strerror(rc));
  return AZR__IO_ERROR;
}

static bool curl_has_pending(struct azr__stream *s) {
  struct curl_conn *cc = s->transport_data;
  return cc->ssl && SSL_has_pending(cc->ssl);
}

static bool direct_tls_has_pending(struct azr__stream *s) {
  struct curl_conn *cc = s->transport_data;
  return azr__tls_socket_has_pending(&cc->sock);
}

static void curl_release(struct azr__stream *s) {
  struct curl_conn *cc = s->transport_data;
  if (!cc) return;
  struct azr__curl *c = cc->c;
  if (cc->in_multi) {
    curl_multi_remove_handle(cc->sh->multi, cc->easy);
    cc->sh->connections--;
  }
  curl_easy_cleanup(cc->easy); /* closes the socket, frees the SSL object */
  SSL_free(cc->own_ssl);        /* ours, if we did the handshake (its BIO leaves the socket alone) */
  azr__free(c->mem, cc->own_error);
  azr__free(c->mem, cc->own_host);
  azr__free(c->mem, cc->own_pins);
  share_unref(c->mem, cc->share);
  X509_STORE_free(cc->ca_store);
  azr__tls_socket_release(&cc->sock);
  s->fd = -1;
  azr__free(s->mem, cc);
  s->transport_data = NULL;
  if (--c->live_streams == 0 && c->freeing) destroy(c);
}

/* ---- after the connect: bytes move without libcurl ----
 *
 * libcurl 7.88 looks a handle's connection up in its multi's connection cache on every
 * curl_easy_send/recv, and its OpenSSL glue reads and writes through its filter chain. Once the
 * connection is set up (proxy tunnel, SOCKS, TLS handshake, all libcurl's job) nothing of that is
 * needed: the TLS session is switched onto a plain socket BIO and driven with SSL_read/SSL_write, a
 * plain connection with recv/send. libcurl still owns the socket and the SSL object and releases
 * them in curl_easy_cleanup (close_notify included). Only TLS inside an HTTPS proxy's TLS stays on
 * libcurl's calls (plain or TLS): there the socket carries the proxy's TLS, which only libcurl drives. */

static ssize_t direct_tls_read(struct azr__stream *s, uint8_t *buf, size_t len) {
  struct curl_conn *cc = s->transport_data;
  return azr__tls_socket_read(s, &cc->sock, buf, len);
}

static ssize_t direct_tls_write(struct azr__stream *s, const uint8_t *buf, size_t len) {
  struct curl_conn *cc = s->transport_data;
  return azr__tls_socket_write(s, &cc->sock, buf, len);
}

static int direct_tls_flush(struct azr__stream *s) {
  struct curl_conn *cc = s->transport_data;
  return azr__tls_socket_flush(s, &cc->sock);
}

/* close_notify now: libcurl's own shutdown at cleanup would leave it in the wire buffer. */
static void direct_tls_shutdown(struct azr__stream *s) {
  struct curl_conn *cc = s->transport_data;
  azr__tls_socket_shutdown(s, &cc->sock);
}

static size_t direct_tls_pending_output(struct azr__stream *s) {
  struct curl_conn *cc = s->transport_data;
  return azr__tls_socket_pending_output(&cc->sock);
}

static ssize_t direct_plain_read(struct azr__stream *s, uint8_t *buf, size_t len) {
  for (;;) {
    ssize_t n = recv(s->fd, buf, len, 0);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return AZR__IO_WANT_READ;
    azr__stream_fail(s, errno == ECONNRESET ? AZR_E_CONN_RESET : AZR_E_IO, "receive: %s", strerror(errno));
    return AZR__IO_ERROR;
  }
}

static ssize_t direct_plain_write(struct azr__stream *s, const uint8_t *buf, size_t len) {
  for (;;) {
    ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0) return n ? n : AZR__IO_WANT_WRITE;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return AZR__IO_WANT_WRITE;
    azr__stream_fail(s, errno == ECONNRESET || errno == EPIPE ? AZR_E_CONN_RESET : AZR_E_IO, "send: %s",
                     strerror(errno));
    return AZR__IO_ERROR;
  }
}

static const struct azr__stream_transport direct_tls = {.name = "tls (after libcurl's connect)",
                                                        .read = direct_tls_read,
                                                        .write = direct_tls_write,
                                                        .release = curl_release,
                                                        .has_pending = direct_tls_has_pending,
                                                        .shutdown = direct_tls_shutdown,
                                                        .flush = direct_tls_flush,
                                                        .pending_output = direct_tls_pending_output};
static const struct azr__stream_transport direct_plain = {.name = "tcp (after libcurl's connect)",
                                                          .read = direct_plain_read,
                                                          .write = direct_plain_write,
                                                          .release = curl_release};

/* Moves a connected stream off libcurl's send/recv. */
static void go_direct(struct azr__stream *s, struct curl_conn *cc) {
  cc->go_direct = false;
  int fd = s->fd;
  if (!cc->ssl) {
    s->transport = &direct_plain;
    return;
  }
  struct azr__curl *c = cc->c;
  if (!c->sock_bio) c->sock_bio = azr__tls_socket_method();
  /* SSL_set_bio frees libcurl's BIO, which libcurl keeps nowhere else; on failure it stays. */
  if (azr__tls_socket_attach(&cc->sock, cc->ssl, fd, c->sock_bio) != AZR_OK) return;
  s->transport = &direct_tls;
}

/* ---- our own TLS handshake (io/tls_client) on the connection libcurl opened ---- */

static int own_tls_handshake(struct azr__stream *s) {
  struct curl_conn *cc = s->transport_data;
  SSL *ssl = cc->own_ssl;
  int r = azr__tls_socket_handshake(s, &cc->sock, false);
  char text[400];
  if (r == AZR__IO_ERROR && azr__tls_client_rejected(ssl, cc->own_host, text, sizeof text))
    azr__stream_fail(s, AZR_E_TLS_VERIFY, "%s", text);
  if (r) return r;
  if (cc->own_pins && !azr__tls_client_pins_match(ssl, cc->own_pins)) {
    azr__stream_fail(s, AZR_E_TLS_VERIFY, "the public key of %s is not the pinned one (SSLAcceptServerCert)",
                     cc->own_host);
    return AZR__IO_ERROR;
  }
  const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
  if (cc->min_cipher_bits > 0 && (!cipher || SSL_CIPHER_get_bits(cipher, NULL) < cc->min_cipher_bits)) {
    cipher_too_weak(s, ssl, cc->min_cipher_bits);
    return AZR__IO_ERROR;
  }
  s->transport = &direct_tls;
  return 0;
}

static const struct azr__stream_transport own_tls = {.name = "tls (our handshake after libcurl's connect)",
                                                     .read = direct_tls_read,
                                                     .write = direct_tls_write,
                                                     .handshake = own_tls_handshake,
                                                     .release = curl_release,
                                                     .has_pending = direct_tls_has_pending,
                                                     .shutdown = direct_tls_shutdown,
                                                     .flush = direct_tls_flush,
                                                     .pending_output = direct_tls_pending_output};

/* libcurl has the connection (TCP, tunnel or SOCKS): our handshake runs on its socket. */
static void start_own_tls(struct azr__stream *s, struct curl_conn *cc, int fd) {
  struct azr__curl *c = cc->c;
  if (!c->sock_bio) c->sock_bio = azr__tls_socket_method();
  if (azr__tls_socket_attach(&cc->sock, cc->own_ssl, fd, c->sock_bio) != AZR_OK) {
    azr__stream_connected(s, -1, AZR_E_NOMEM, "out of memory");
    return;
  }
  s->transport = &own_tls;
  azr__stream_connected(s, fd, AZR_OK, NULL);
}

/* Sets up our handshake for a connection whose TLS libcurl does not do (see tls_client.h). */
static void prepare_own_tls(struct curl_conn *cc, const struct azr__connect_options *o) {
  struct azr__curl *c = cc->c;
  char groups[64];
  if (!o->curves) default_groups(c, groups, sizeof groups);
  char text[300];
  cc->own_host = azr__strdup(c->mem, o->host);
  cc->own_pins = o->pinned_public_key ? azr__strdup(c->mem, o->pinned_public_key) : NULL;
  cc->own_ssl = azr__tls_client_new_ssl(&c->tls, &own_tls_hooks, cc->ca_store, o, o->curves ? o->curves : groups,
                                        &cc->own_status, text, sizeof text);
  if (!cc->own_host || (o->pinned_public_key && !cc->own_pins)) {
    SSL_free(cc->own_ssl);
    cc->own_ssl = NULL;
    cc->own_status = AZR_E_NOMEM;
  }
  if (!cc->own_ssl) {
    cc->own_error = azr__strdup(c->mem, cc->own_status == AZR_E_NOMEM ? "out of memory" : text);
    return;
  }
  SSL_set_app_data(cc->own_ssl, cc);
  if (!o->no_session_reuse) {
    cc->session_key = azr__tls_client_session_key(o, cc->ca_store) | 1; /* never 0 */
    azr__tls_client_resume(&c->tls, cc->own_ssl, cc->session_key);
  }
}

static const struct azr__stream_transport curl_transport = {.name = "curl",
                                                             .read = curl_read,
                                                             .write = curl_write,
                                                             .release = curl_release,
                                                             .has_pending = curl_has_pending};

static long proxy_type(enum azr__proxy_kind k) {
  switch (k) {
  case AZR__PROXY_HTTPS:
    return CURLPROXY_HTTPS;
  case AZR__PROXY_SOCKS4:
    return CURLPROXY_SOCKS4;
  case AZR__PROXY_SOCKS4A:
    return CURLPROXY_SOCKS4A;
  case AZR__PROXY_SOCKS5:
    return CURLPROXY_SOCKS5;
  case AZR__PROXY_SOCKS5H:
    return CURLPROXY_SOCKS5_HOSTNAME;
  default:
    return CURLPROXY_HTTP;
  }
}

/* libcurl 7.88 has no options for TCP_KEEPCNT and TCP_USER_TIMEOUT: set them on each socket it
 * opens for the connection (to the relay, or to the proxy in front of it). */
static int on_sockopt(void *clientp, curl_socket_t fd, curlsocktype purpose) {
  const struct curl_conn *cc = clientp;
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKOPT_OK;
  if (cc->keepalive_count > 0) (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cc->keepalive_count, sizeof(int));
  if (cc->user_timeout_ms > 0) (void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &cc->user_timeout_ms, sizeof(unsigned));
  if (cc->so_rcvbuf > 0) (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cc->so_rcvbuf, sizeof(int));
  if (cc->so_sndbuf > 0) (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cc->so_sndbuf, sizeof(int));
  return CURL_SOCKOPT_OK;
}

static void apply_options(CURL *e, const struct azr__connect_options *o, const struct azr__curl *c, CURLSH *share,
                          bool own_ca_store) {
  curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 30000L);
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  if (o->verbose) curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
  if (o->tls) {
    if (own_ca_store) { /* the owner's store goes into the SSL_CTX (on_ssl_ctx): libcurl loads nothing */
      curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
      curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
      curl_easy_setopt(e, CURLOPT_CA_CACHE_TIMEOUT, 0L); /* nor caches the store it did not load */
    } else {
      if (o->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
      if (o->ca_path) curl_easy_setopt(e, CURLOPT_CAPATH, o->ca_path);
    }
    if (o->ca_pem && !own_ca_store) {
      struct curl_blob blob = {(void *)o->ca_pem, strlen(o->ca_pem), CURL_BLOB_COPY};
      curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
    }
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, o->insecure_skip_verify ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, o->insecure_skip_verify || o->skip_host_name_check ? 0L : 2L);
    if (o->pinned_public_key) curl_easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, o->pinned_public_key);
    if (o->client_cert) curl_easy_setopt(e, CURLOPT_SSLCERT, o->client_cert);
    if (o->client_cert_type) curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, o->client_cert_type);
    if (o->client_key) curl_easy_setopt(e, CURLOPT_SSLKEY, o->client_key);
    if (o->client_key_type) curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, o->client_key_type);
    if (o->client_key_password) curl_easy_setopt(e, CURLOPT_KEYPASSWD, o->client_key_password);
    if (o->cipher_list) curl_easy_setopt(e, CURLOPT_SSL_CIPHER_LIST, o->cipher_list);
    if (o->tls13_ciphers) curl_easy_setopt(e, CURLOPT_TLS13_CIPHERS, o->tls13_ciphers);
    char groups[64];
    if (!o->curves) default_groups(c, groups, sizeof groups);
    curl_easy_setopt(e, CURLOPT_SSL_EC_CURVES, o->curves ? o->curves : groups);
    if (o->tls_min || o->tls_max) curl_easy_setopt(e, CURLOPT_SSLVERSION, o->tls_min | o->tls_max);
    if (o->no_session_reuse) curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    else if (share) curl_easy_setopt(e, CURLOPT_SHARE, share);
  }
  if (o->proxy_kind != AZR__PROXY_NONE && o->proxy_host) {
    char proxy[300];
    if (o->proxy_host[0] == '[') snprintf(proxy, sizeof proxy, "%s", o->proxy_host);
    else azr__host_port(proxy, sizeof proxy, o->proxy_host, 0); /* IPv6 literals need brackets */
    curl_easy_setopt(e, CURLOPT_PROXY, proxy);
    curl_easy_setopt(e, CURLOPT_PROXYPORT, (long)o->proxy_port);
    curl_easy_setopt(e, CURLOPT_PROXYTYPE, proxy_type(o->proxy_kind));
    if (o->proxy_kind == AZR__PROXY_HTTP || o->proxy_kind == AZR__PROXY_HTTPS)
      curl_easy_setopt(e, CURLOPT_HTTPPROXYTUNNEL, 1L);
    if (o->proxy_user) curl_easy_setopt(e, CURLOPT_PROXYUSERNAME, o->proxy_user);
    if (o->proxy_password) curl_easy_setopt(e, CURLOPT_PROXYPASSWORD, o->proxy_password);
    if (o->proxy_kind == AZR__PROXY_HTTP || o->proxy_kind == AZR__PROXY_HTTPS) {
      long auth = 0;
      if (o->proxy_auth & AZR__PROXY_AUTH_BASIC) auth |= CURLAUTH_BASIC;
      if (o->proxy_auth & AZR__PROXY_AUTH_DIGEST) auth |= CURLAUTH_DIGEST;
      if (o->proxy_auth & AZR__PROXY_AUTH_NTLM) auth |= CURLAUTH_NTLM;
      if (o->proxy_auth & AZR__PROXY_AUTH_NEGOTIATE) auth |= CURLAUTH_NEGOTIATE;
      curl_easy_setopt(e, CURLOPT_PROXYAUTH, auth ? auth : (long)CURLAUTH_ANY);
    }
    if (o->proxy_ca_file) curl_easy_setopt(e, CURLOPT_PROXY_CAINFO, o->proxy_ca_file);
    if (o->proxy_insecure) {
      curl_easy_setopt(e, CURLOPT_PROXY_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_PROXY_SSL_VERIFYHOST, 0L);
    }
  } else if (!o->proxy_from_environment) {
    curl_easy_setopt(e, CURLOPT_PROXY, ""); /* ignore *_proxy environment variables */
  }
  if (o->local_interface) curl_easy_setopt(e, CURLOPT_INTERFACE, o->local_interface);
  if (o->ip_version == 4) curl_easy_setopt(e, CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_V4);
  if (o->ip_version == 6) curl_easy_setopt(e, CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_V6);
  if (o->tcp_keepalive_idle_s > 0) {
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, o->tcp_keepalive_idle_s);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL,
                     o->tcp_keepalive_interval_s > 0 ? o->tcp_keepalive_interval_s : o->tcp_keepalive_idle_s);
  }
}

/* The owner's CA store serves connections whose one TLS handshake (on_ssl_ctx runs for each) is with
 * the relay, not also with an HTTPS proxy (set, or maybe taken from the environment). */
static bool use_ca_store(const struct azr__connect_options *o) {
  return o->tls && !o->insecure_skip_verify && o->proxy_kind != AZR__PROXY_HTTPS &&
         !(o->proxy_from_environment && azr__env_proxy_for_https("https"));
}

int azr__connect(struct azr__curl *c, const struct azr__connect_options *o, const struct azr__stream_callbacks *cb,
                 void *owner, struct azr__stream **out) {
  if (!o->host || !*o->host || c->freeing) return AZR_E_INVALID_ARG;
  struct azr__stream *s;
  int rc = azr__stream_new(c->loop, c->mem, c->log, cb, owner, &s);
  if (rc) return rc;
  struct curl_conn *cc = azr__calloc(c->mem, 1, sizeof *cc);
  CURL *e = curl_easy_init();
  if (!cc || !e) {
    azr__free(c->mem, cc);
    if (e) curl_easy_cleanup(e);
    s->state = AZR__STREAM_FAILED;
    azr__stream_close(s, AZR__CLOSE_ABORT);
    return AZR_E_NOMEM;
  }
  cc->c = c;
  c->live_streams++;
  cc->easy = e;
  cc->tls_observer = o->tls_observer;
  cc->tls_observer_ud = o->tls_observer_ud;
  s->transport = &curl_transport;
  s->transport_data = cc;
  char authority[280];
  azr__host_port(authority, sizeof authority, o->host, o->port ? o->port : (o->tls ? 443 : 80));
  curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)s);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, cc->errbuf);
  if (use_ca_store(o)) {
    bool replaced = false;
    X509_STORE *store = azr__ca_store_get(&c->ca, c->mem, o->ca_file, o->ca_path, o->ca_pem, &replaced);
    c->share_stale |= replaced;
    struct curl_share *fresh = c->share_stale ? share_new(c->mem) : NULL;
    if (fresh) { /* sessions verified with the old CAs stay in the old share */
      share_unref(c->mem, c->share);
      c->share = fresh;
      c->share_stale = false;
    }
    if (store && !c->share_stale && X509_STORE_up_ref(store) == 1) cc->ca_store = store;
  }
  cc->share = c->share;
  c->share->users++;
  /* Our handshake needs the owner's CA store when it verifies; without one, libcurl loads the CAs
   * and reports what is wrong with them in its own words. */
  bool own = azr__tls_client_handles(o) && (o->insecure_skip_verify || cc->ca_store);
  snprintf(cc->url, sizeof cc->url, "%s://%s/", o->tls && !own ? "https" : "http", authority);
  curl_easy_setopt(e, CURLOPT_URL, cc->url);
  if (o->tls && !own) {
    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, cc);
  }
  struct azr__connect_options tcp_only;
  if (own) { /* libcurl opens TCP (and the tunnel or SOCKS) only */
    tcp_only = *o;
    tcp_only.tls = false;
    /* No proxy in the environment applies to wss:// (azr__tls_client_handles): libcurl must not
     * take http_proxy for the http:// URL it is given instead. */
    tcp_only.proxy_from_environment = false;
  }
  apply_options(e, own ? &tcp_only : o, c, c->share->sh, cc->ca_store != NULL);
  cc->default_groups = !o->curves;
  cc->keepalive_count = o->tcp_keepalive_idle_s > 0 ? o->tcp_keepalive_count : 0;
  cc->user_timeout_ms = o->tcp_user_timeout_ms;
  cc->so_rcvbuf = o->so_rcvbuf;
  cc->so_sndbuf = o->so_sndbuf;
  cc->sigalgs = o->sigalgs;
  cc->client_chain_pem = o->client_chain_pem;
  cc->keylog_file = o->keylog_file;
  cc->no_renegotiation = o->no_renegotiation;
  cc->include_cert_chain = o->include_cert_chain;
  cc->min_cipher_bits = o->min_cipher_bits;
  cc->proxy_tls = o->proxy_kind == AZR__PROXY_HTTPS;
  if (own) prepare_own_tls(cc, o);
  if (cc->keepalive_count || cc->user_timeout_ms || cc->so_rcvbuf || cc->so_sndbuf) {
    curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
    curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, cc);
  }
  struct curl_shard *sh = shard_with_room(c);
  if (!sh || curl_multi_add_handle(sh->multi, e) != CURLM_OK) {
    s->state = AZR__STREAM_FAILED;
    azr__stream_close(s, AZR__CLOSE_ABORT);
    return AZR_E_NOMEM;
  }
  /* Kept in the multi handle after the connect: removing it would detach the connection. */
  cc->in_multi = true;
  cc->sh = sh;
  sh->connections++;
  *out = s;
  return AZR_OK;
}
