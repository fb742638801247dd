/* SPDX-License-Identifier: MIT */
/* The listener's shared state: lifecycle and settings (listener.c), the control channel
 * (control_channel.c), connection requests and the connection table (accept.c), and the data path
 * of accepted connections (conn.c). */
#ifndef AZR_LISTENER_INTERNAL_H
#define AZR_LISTENER_INTERNAL_H

#include <uv.h>

#include "azrelay/connection.h"
#include "azrelay/listener.h"
#include "io/connect.h"
#include "io/websocket.h"
#include "config/settings.h"
#include "proto/control_policy.h"
#include "proto/hc_cmd.h"
#include "util/utf8.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/idmap.h"

enum azr__conn_state {
  AZR__CONN_PENDING,    /* request fired, decision deferred by the application */
  AZR__CONN_CONNECTING, /* accepted: rendezvous handshake in progress */
  AZR__CONN_OPEN,
  AZR__CONN_CLOSING,
  AZR__CONN_DONE
};

struct azr__file_source;
struct azr__forward;

/* What a TLS handshake negotiated (for the SSLNegotiated* settings). */
struct azr__tls_info {
  char version[32], cipher[96], group[48];
  int cipher_bits;
};
struct azr__http_req;
struct azr__http_rv;

struct azr__conn {
  struct azr__conn *prev, *next;
  azr_listener *l;
  azr_conn_id id;
  enum azr__conn_state state;
  struct azr__ws *ws;
  uv_timer_t timer; /* deferred-decision deadline; closing it releases the connection */
  char *address, *relay_id, *connect_headers, *host, *remote_address, *sub_protocols, *extensions, *path;
  char sub_protocol[128];
  uint16_t remote_port;
  int data_format;
  int timeout_s;
  bool paused;
  bool want_ready;     /* a send returned WOULDBLOCK: fire ReadyToSend when drained */
  bool interrupted;
  uint64_t bytes_sent, total_sent, total_received;
  uint64_t message_remaining; /* MessageLength: bytes left in the message being sent in parts */
  struct azr__utf8 out_utf8;  /* text sent in parts: validation state across the parts */
  uint8_t in_opcode;
  bool in_first;
  struct azr__file_source *file;
  int file_error;            /* a failed SendFile, reported once with the connection's end */
  char file_error_text[256];
  struct azr__forward *fwd; /* ForwardingHost pairing, when forwarding */
  struct azr__tls_info tls; /* of the rendezvous connection */
  void *user_data;
};

struct azr_listener {
  const struct azr__mem *mem;
  uv_loop_t own_loop;
  uv_loop_t *loop;
  bool owns_loop;
  struct azr__curl *curl;
  bool curl_closing; /* freed, but its connections are still flushing */
  struct azr__log log;
  azr_listener_callbacks cb;
  void *ud;
  struct azr__listener_settings set;
  azr_token_provider_fn token_fn;
  void *token_ud;
  /* control channel: cc.state is the listener's state (STOPPED = not listening) */
  struct azr__cc cc;
  struct azr__ws *control;
  char host[256];
  uint16_t port;
  char tracking_id[64];
  int64_t token_issued_s, token_expiry_s;
  uv_timer_t renew_timer, reconnect_timer;
  /* TLS of the control channel, for SSLServerCertEncoded and SSLNegotiated* */
  char *server_cert_pem;
  struct azr__tls_info tls;
  /* connections */
  struct azr__conn *conns;
  size_t conn_count;
  uint64_t next_id;
  struct azr__idmap conn_map;
  struct azr__ws **rejects; /* reject handshakes in flight */
  size_t reject_count;
  /* HTTP mode */
  struct azr__idmap http_map;          /* request id -> struct azr__http_req */
  struct azr__http_req *http_reqs;     /* all pending requests */
  size_t http_count;
  struct azr__http_req *http_body_req; /* a control-channel request whose body message comes next */
  struct azr__http_rv *http_rvs;       /* open HTTP rendezvous sockets */
  size_t http_rv_count;                /* ... of them dialled for a request (MaxHttpRequests) */
  uint8_t control_opcode;              /* opcode of the control message being received */
  /* callbacks and loop */
  int in_callback;
  bool freeing;
  bool release_when_idle; /* on an application loop: free once every handle has closed */
  int handles_open;       /* the listener's own timers, while closing */
  bool run_stop;
  uint64_t rng;
  char last_error[512];
  azr_listener_stats stats; /* bytes_* hold closed connections' totals; open ones are added on read */
};

static inline bool azr__listener_listening(const azr_listener *l) { return l->cc.state != AZR__CC_STOPPED; }
static inline bool azr__listener_online(const azr_listener *l) { return l->cc.state == AZR__CC_ONLINE; }

/* Runs an application callback with the reentrancy counter held. */
#define AZR__FIRE(l, member, ev)                                                                         \
  do {                                                                                                    \
    if ((l)->cb.member && !(l)->freeing) {                                                                \
      (l)->in_callback++;                                                                                 \
      (l)->cb.member((l), (ev), (l)->ud);                                                                 \
      (l)->in_callback--;                                                                                 \
    }                                                                                                     \
  } while (0)

#define AZR__LLOG(l, lvl, cat, ...) AZR_LOG(&(l)->log, (lvl), (cat), __VA_ARGS__)

/* listener.c */
void azr__listener_error(azr_listener *l, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void azr__listener_set_error(azr_listener *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint32_t azr__listener_random(azr_listener *l);
void azr__listener_status(azr_listener *l, const char *event, int status, const char *description);
void azr__listener_connect_options(azr_listener *l, struct azr__connect_options *o);
/* A rendezvous address from the relay may be followed (proto/hc_url.h: no plaintext under a TLS
 * control channel, only ws/wss/http/https); otherwise reports why and returns false. */
bool azr__listener_rendezvous_allowed(azr_listener *l, const char *address, const char *what);
/* Called from close callbacks during teardown: frees the listener when nothing refers to it. */
void azr__listener_maybe_release(azr_listener *l);
/* Records a TLS_DONE event into info. */
void azr__tls_info_record(struct azr__tls_info *info, const struct azr__tls_event *ev);
/* SSLNegotiated* values from info into out; AZR_E_NOT_FOUND for other names. */
int azr__tls_info_get(const struct azr__tls_info *info, const char *name, struct azr__buf *out);

/* control_channel.c */
int azr__control_start(azr_listener *l);
void azr__control_stop(azr_listener *l);
/* A fresh token for the listen URI into out; *expiry_s gets its expiry. */
int azr__control_make_token(azr_listener *l, char *out, size_t out_len, int64_t *expiry_s);
void azr__control_init(azr_listener *l);
void azr__control_close_handles(azr_listener *l);

/* accept.c */
void azr__accept_command(azr_listener *l, const struct azr__hc_accept *a);
struct azr__conn *azr__conn_find(const azr_listener *l, azr_conn_id id);
void azr__conn_release(struct azr__conn *c);
void azr__rejects_abort(azr_listener *l);

/* http_mode.c */
void azr__http_init(azr_listener *l);
/* A request command arrived on the control channel. */
void azr__http_command(azr_listener *l, const struct azr__hc_request *r);
/* A binary message arrived on the control channel. */
void azr__http_control_binary(azr_listener *l, const uint8_t *data, size_t len);
/* Drops every request and rendezvous (listener teardown). */
void azr__http_abort_all(azr_listener *l);

/* forward.c */
bool azr__forward_enabled(const azr_listener *l);
void azr__forward_start(struct azr__conn *c);
void azr__forward_data(struct azr__conn *c, const uint8_t *data, size_t len);
void azr__forward_writable(struct azr__conn *c);
void azr__forward_closed(struct azr__conn *c, bool clean);
/* The sender closed its side: half-close the target, relay its answer, close after its end. */
void azr__forward_peer_closed(struct azr__conn *c);

/* conn.c */
extern const struct azr__ws_callbacks azr__conn_ws_callbacks;
void azr__conn_options(azr_listener *l, struct azr__ws_options *o);

#endif
