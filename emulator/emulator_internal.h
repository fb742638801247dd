/* SPDX-License-Identifier: MIT */
/* Shared state of the emulator's parts: front door (front.c), listener control channels
 * (control.c), WebSocket senders and rendezvous (sender.c), relayed connections (splice.c), HTTP
 * mode (http_relay.c), authorization (auth.c) and error replies (replies.c). */
#ifndef AZR_EMULATOR_INTERNAL_H
#define AZR_EMULATOR_INTERNAL_H

#include <uv.h>

#include "azrelay/emulator.h"
#include "io/stream.h"
#include "io/tcp_server.h"
#include "io/websocket.h"
#include "proto/hc_cmd.h"
#include "proto/hc_url.h"
#include "proto/http1.h"
#include "proto/sas.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/strmap.h"

enum emu_idle_action { EMU_IDLE_BLACK_HOLE = 0, EMU_IDLE_RESET = 1 };

/* Settings: every name is reachable through azr_emulator_config("Name=Value"). */
struct emu_settings {
  int64_t token_grace_s;            /* TokenGraceSeconds: control channels live this long past expiry */
  int64_t token_max_ttl_s;          /* TokenMaxTtlSeconds: 0 = off; else a token counts as expiring no
                                       later than this after it is presented (expire tokens early) */
  int64_t clock_skew_s;             /* ClockSkewSeconds: tolerance on a token's expiry */
  int clock_speed;                  /* ClockSpeed: token clocks run this many times faster (>= 1) */
  unsigned max_listeners;           /* MaxListenersPerHybridConnection (25) */
  unsigned max_connections;         /* MaxConnections per namespace (5000): every connection held */
  unsigned max_pending_per_address; /* MaxPendingConnectionsPerAddress: before their head, and HTTP */
  uint32_t accept_timeout_ms;       /* AcceptTimeoutMs: sender waits this long for accept/reject */
  int accept_timeout_status;        /* AcceptTimeoutStatus: 404 or 504 */
  uint32_t http_timeout_ms;         /* HttpResponseTimeoutMs (60000) */
  int no_listener_http_status;      /* NoListenerHttpStatus: 404, 502 or 503 */
  int missing_right_status;         /* MissingRightStatus: 401 or 403 */
  int listener_quota_status;        /* ListenerQuotaStatus (403) */
  bool lenient_reject_params;       /* LenientRejectParameters: accept statusCode= without sb-hc- */
  bool rendezvous_request_address;  /* RendezvousRequestAddress: requests on a rendezvous carry "address" */
  uint32_t head_timeout_ms;         /* RequestHeadTimeoutMs: a client must send its head in time */
  uint32_t idle_timeout_ms;         /* IdleTimeoutMs: a flow silent this long is cut (0 = never) */
  int idle_timeout_action;          /* IdleTimeoutAction: enum emu_idle_action */
  uint32_t http_keepalive_timeout_ms; /* HttpKeepAliveTimeoutMs: idle time between HTTP requests */
  /* fault and latency injection */
  uint32_t latency_ms;              /* LatencyMs: delay before each accept/request command */
  uint32_t rendezvous_delay_ms;     /* RendezvousDelayMs: delay before answering a rendezvous */
  unsigned rendezvous_fail_percent; /* RendezvousFailPercent: answer that share of rendezvous with 500 */
  int64_t refuse_listen_until_ms;   /* set by RefuseListenSeconds: listens get 503 until then */
  uint32_t drop_listeners_after_ms; /* DropListenersAfterMs: close control channels (1011) after this */
  char namespace_aliases[512];      /* NamespaceAliases: more host names tokens may name, comma-separated */
  char gateway_host[254];           /* GatewayHost: "" automatic, "listener", or a host for rendezvous */
  char home_address[300];           /* HomeAddress: set, this emulator is a gateway of that home (gateway.c) */
  char gateway_secret[129];         /* GatewaySecret: shared by a home and its gateways */
};

struct emu_rule {
  char *name;
  char *primary_key;
  char *secondary_key;
  char *entity; /* NULL = namespace rule */
  unsigned rights;
};

/* One TCP connection watched for the idle cut-off (idle.c), embedded in the part that owns it. */
struct emu_flow {
  struct emu_flow *prev, *next;
  struct azr__stream *s;  /* the connection, or */
  struct azr__ws *ws;     /* the endpoint on it */
  /* Removed from the watch list before the call. reset: IdleTimeoutAction=reset (abort the stream
   * and react as to a lost connection); else black-hole it (azr__emu_black_hole_take). */
  void (*on_idle)(struct emu_flow *f, bool reset);
  uint64_t seen_bytes, active_ms;
  bool listed;
};

#define EMU_CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct azr__curl;
struct emu_listener;
struct emu_sender;
struct emu_splice;
struct emu_http_conn;

struct emu_entity {
  char *path;
  bool requires_client_auth;
  struct emu_listener *listeners; /* doubly linked */
  size_t listener_count;
};

/* A log line that may repeat at a peer's will is written at most once a minute, with a count of
 * what was left out. */
struct emu_log_gate {
  uint64_t at_ms;
  unsigned suppressed;
};
/* True when a line may be written now; *suppressed receives how many were left out since. */
bool azr__emu_log_gate_open(struct emu_log_gate *g, unsigned *suppressed);

struct azr_emulator {
  const struct azr__mem *mem;
  uv_loop_t loop;
  struct azr__log log;
  char *bind_host;
  uint16_t port;
  char *namespace_host;
  bool plain;
  bool started;
  bool stop_requested;
  struct azr__buf cert_pem, key_pem;
  struct azr__tls_server *tls;
  struct azr__tcp_server *server;
  struct emu_rule *rules;
  size_t rule_count;
  struct emu_entity *entities;
  size_t entity_count;
  struct emu_settings settings;
  struct azr__strmap pending;  /* rendezvous id -> struct emu_pending (sender or HTTP request) */
  /* For MaxConnections: connections before their request head, listeners, waiting senders,
   * relayed pairs and HTTP-mode connections. */
  unsigned relay_connections;
  struct azr__strmap pending_by_address; /* peer address -> count (uintptr_t) of pending connections */
  struct emu_log_gate refusal_log;
  char auto_gateway[64];       /* the automatic gateway host (the bound address), "" for none */
  struct emu_flow *flows;      /* connections watched for IdleTimeoutMs (idle.c) */
  struct emu_black_hole *black_holes; /* connections cut silently, held until their peer gives up */
  uv_timer_t idle_sweep;
  void *fronts;                /* list of front connections (front.c) */
  struct emu_sender *senders;  /* senders waiting for accept (sender.c) */
  struct emu_splice *splices;  /* relayed connections (splice.c) */
  struct emu_http_conn *http_conns; /* HTTP-mode sender connections (http_relay.c) */
  struct azr__curl *home_curl; /* a gateway's connections to its home (gateway.c) */
  char home_host[300];          /* HomeAddress parsed at start */
  uint16_t home_port;
  struct emu_log_gate home_log; /* "home not reachable" (gateway) and refused offers (home) */
  uv_timer_t maintenance;      /* fault timers */
  uint64_t rng_state;
  int64_t clock_anchor_s;   /* wall clock when created (ClockSpeed) */
  uint64_t clock_anchor_ms; /* monotonic clock when created */
  char last_error[256];
};

#define EMU_LOG(em, lvl, ...) AZR_LOG(&(em)->log, (lvl), "emulator", __VA_ARGS__)

/* What waits for a rendezvous under an id. */
enum emu_pending_kind { EMU_PENDING_SENDER = 1, EMU_PENDING_HTTP };
struct emu_pending {
  enum emu_pending_kind kind;
};

/* ---- emulator.c ---- */
struct emu_entity *azr__emu_entity_match(azr_emulator *em, struct azr__span path, struct azr__span *suffix);
/* A fresh rendezvous id "<base or a GUID>_<32 hex digits>": the sender's tracking id (URL-safe
 * characters only, at most 80) and 128 random bits. AZR_E_IO if the random source fails. */
int azr__emu_new_id(struct azr__span base, char out[128]);
uint64_t azr__emu_random(azr_emulator *em);
/* host[:port] of rendezvous addresses for a listener that dialled listener_host (its Host header):
 * the gateway host (GatewayHost, or automatically the bound address) with the emulator's port, or
 * listener_host itself. */
void azr__emu_rendezvous_authority(const azr_emulator *em, const char *listener_host, char *out, size_t len);
int64_t azr__emu_now_s(const azr_emulator *em);
void azr__emu_relay_connections_changed(azr_emulator *em, int delta);
/* Pending connections (before their request head, and HTTP-mode connections) of one peer address
 * against MaxPendingConnectionsPerAddress: acquire fails when the address is at its cap. */
bool azr__emu_peer_acquire(azr_emulator *em, const char *address);
void azr__emu_peer_release(azr_emulator *em, const char *address);

/* ---- idle.c ---- */
void azr__emu_flow_add(azr_emulator *em, struct emu_flow *f, struct azr__stream *s, struct azr__ws *ws,
                  void (*on_idle)(struct emu_flow *f, bool reset));
void azr__emu_flow_remove(azr_emulator *em, struct emu_flow *f);
/* Takes over a cut connection: from now on nothing is sent on it and what arrives is discarded,
 * until the peer closes it (or a hold time passes). Counts against MaxConnections meanwhile. */
void azr__emu_black_hole_take(azr_emulator *em, struct azr__stream *s);
/* Cuts s for idleness: a reset, or (black hole) azr__emu_black_hole_take. NULL is ignored. */
void azr__emu_idle_cut_stream(azr_emulator *em, struct azr__stream *s, bool reset);
/* (Re)arms the idle sweep after start or a change of IdleTimeoutMs. */
void azr__emu_idle_start(azr_emulator *em);
void azr__emu_idle_close_all(azr_emulator *em);

/* ---- auth.c ---- */
/* Checks the token carried by a request (sb-hc-token query, ServiceBusAuthorization header, and for
 * HTTP also Authorization). Returns 0 when authorized, else the HTTP status (401/403) with the
 * service-like message in msg. *expiry_s receives the token expiry. */
int azr__emu_authorize(azr_emulator *em, const struct azr__http_head *head, const struct azr__hc_target *target,
                  const struct emu_entity *entity, unsigned right, bool http_mode, int64_t *expiry_s, char *msg,
                  size_t msg_len);
/* Validates a token string (renewToken) for the entity and right. */
int azr__emu_authorize_token(azr_emulator *em, const char *token, const struct emu_entity *entity, unsigned right,
                        int64_t *expiry_s, char *msg, size_t msg_len);

/* ---- replies.c ---- */
/* "text TrackingId:<id>_G0, SystemTracker:sb://host/entity, Timestamp:..." into out. */
void azr__emu_error_text(azr_emulator *em, const char *text, const char *tracking_id, const char *entity_path, char *out,
                    size_t out_len);
/* Writes an HTTP error response on a WebSocket-path request and closes the stream after it. */
void azr__emu_reply_ws_error(azr_emulator *em, struct azr__stream *s, int status, const char *text,
                        const char *tracking_id, const char *entity_path);
/* Writes an HTTP-mode error response (JSON body {"error":{"code","message"}}); keeps the connection
 * open when keep_alive, else closes after it. */
void azr__emu_reply_http_error(azr_emulator *em, struct azr__stream *s, int status, const char *code, const char *text,
                          const char *tracking_id, const char *entity_path, bool keep_alive);

/* ---- gateway.c ---- */
#define EMU_GATEWAY_SECRET_MIN 16
struct emu_offer;
/* What a home learns from a gateway's offer. */
struct emu_offer_info {
  char id[128];        /* the rendezvous id the gateway waits for */
  char authority[300]; /* host:port of the rendezvous address */
  char peer_addr[64];  /* the sender's address and port, for the accept command */
  uint16_t peer_port;
};
/* status: the home's HTTP status (202: the accept command went to a listener), 0 when the home
 * could not be asked; response: the home's whole answer, to pass on to the sender. */
typedef void (*emu_offer_done_fn)(void *ud, int status, const uint8_t *response, size_t len);

bool azr__emu_is_gateway(const azr_emulator *em);
/* At start: a gateway's HomeAddress and GatewaySecret are usable (else the reason in msg); the
 * home's host and port are kept in home_host/home_port. */
int azr__emu_gateway_check(azr_emulator *em, char *msg, size_t msg_len);
/* True for the X-Azr-Gateway* headers, which never reach a listener. */
bool azr__emu_gateway_header(struct azr__span name);
/* Gateway: asks the home to offer the sender (its request head) to a listener; done runs once from
 * the loop unless the offer is cancelled first. */
int azr__emu_gateway_offer(azr_emulator *em, const struct azr__http_head *head, const char *id,
                           const char *peer_addr, uint16_t peer_port, emu_offer_done_fn done, void *ud,
                           struct emu_offer **out);
/* Drops an offer (also after done ran). NULL is ignored. */
void azr__emu_gateway_offer_cancel(struct emu_offer *o);
/* Home: what a request's X-Azr-Gateway headers make of it (info is filled for EMU_OFFER). */
enum emu_offer_kind { EMU_NOT_AN_OFFER = 0, EMU_OFFER, EMU_OFFER_WRONG_SECRET, EMU_OFFER_MALFORMED };
enum emu_offer_kind azr__emu_gateway_parse_offer(azr_emulator *em, const struct azr__http_head *head,
                                                 struct emu_offer_info *info);
/* At free: closes the connections to the home. */
void azr__emu_gateway_free(azr_emulator *em);

/* ---- front.c ---- */
void azr__emu_front_accept(void *em, int fd);
void azr__emu_fronts_close_all(azr_emulator *em);

/* ---- control.c ---- */
/* Handles "sb-hc-action=listen". Takes over the stream. */
void azr__emu_control_listen(azr_emulator *em, struct azr__stream *s, struct azr__http_head *head,
                        const struct azr__hc_target *target, const uint8_t *leftover, size_t leftover_len);
/* Picks a listener at random among those allowed by Microsoft-Relay-(Dis)AllowedListeners. NULL when
 * none; *filtered tells whether the filter (not absence) was the reason. */
struct emu_listener *azr__emu_control_pick(azr_emulator *em, struct emu_entity *entity, const struct azr__http_head *head,
                                      bool *filtered);
/* Sends a command (JSON text, then an optional binary body) on a control channel. */
int azr__emu_control_send(struct emu_listener *l, const char *json, size_t json_len, const uint8_t *body, size_t body_len,
                     bool has_body);
/* host[:port] for the listener's rendezvous addresses: the gateway host, or the Host it dialled
 * (azr__emu_rendezvous_authority). Valid until the next call for the same listener. */
const char *azr__emu_control_rendezvous_host(struct emu_listener *l);
/* Whether the listener is still connected to the entity (pointers may outlive it). */
bool azr__emu_control_alive(const struct emu_entity *entity, const struct emu_listener *listener);
void azr__emu_control_close_all(azr_emulator *em, uint16_t code, const char *reason, const char *entity_path);
void azr__emu_control_abort_all(azr_emulator *em);

/* ---- sender.c ---- */
void azr__emu_sender_connect(azr_emulator *em, struct azr__stream *s, struct azr__http_head *head,
                        const struct azr__hc_target *target, struct emu_entity *entity, struct azr__span suffix);
/* "sb-hc-action=accept": the listener accepts or rejects a pending sender. */
void azr__emu_sender_rendezvous(azr_emulator *em, struct azr__stream *s, struct azr__http_head *head,
                           const struct azr__hc_target *target, const uint8_t *leftover, size_t leftover_len);
void azr__emu_senders_close_all(azr_emulator *em);

/* ---- splice.c ---- */
/* Relays frames between a sender and a listener stream whose 101 responses were written. */
int azr__emu_splice_start(azr_emulator *em, struct azr__stream *sender, struct azr__stream *listener,
                     const uint8_t *sender_early, size_t sender_early_len, const uint8_t *listener_early,
                     size_t listener_early_len);
void azr__emu_splices_close_all(azr_emulator *em);

/* ---- http_relay.c ---- */
/* An HTTP request (no $hc) to an entity: the front connection hands over its stream, its parser
 * (heap-allocated with em->mem, stopped after the head), the parsed head, its place in
 * MaxConnections and its pending slot of s->peer_addr (azr__emu_peer_acquire). */
void azr__emu_http_request(azr_emulator *em, struct azr__stream *s, struct azr__http1 *parser,
                      struct azr__http_head *head, struct emu_entity *entity, struct azr__span suffix,
                      const uint8_t *leftover, size_t leftover_len);
/* "sb-hc-action=request": the listener opens an HTTP rendezvous socket. */
void azr__emu_http_rendezvous(azr_emulator *em, struct azr__stream *s, struct azr__http_head *head,
                         const struct azr__hc_target *target, const uint8_t *leftover, size_t leftover_len);
/* A response command (and its body) arrived on a control channel. */
void azr__emu_http_control_response(azr_emulator *em, struct emu_listener *l, struct azr__hc_response *resp,
                               const uint8_t *body, size_t body_len);
/* A control channel went away: requests waiting on it fail. */
void azr__emu_http_listener_gone(azr_emulator *em, struct emu_listener *l);
void azr__emu_http_close_all(azr_emulator *em);

#endif
