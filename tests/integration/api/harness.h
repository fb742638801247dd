/* SPDX-License-Identifier: MIT */
/* In-process test world for the public-API tests: one emulator, listeners and sender clients, each
 * on its own loop, pumped together by the test thread; every event is recorded for assertions. */
#ifndef AZR_TEST_API_HARNESS_H
#define AZR_TEST_API_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "azrelay.h"

#define H_KEY_NAME "RootManageSharedAccessKey"
#define H_KEY "QXpSZWxheUFwaVRlc3RLZXktMDEyMzQ1Njc4OWFiY2RlZg=="
#define H_HC "hc1"
#define H_MAX_EVENTS 256
#define H_MAX_STATUS 128
#define H_MAX_PEERS 4

/* One received fragment as the test saw it. */
struct h_frag {
  int format;
  size_t len;
  bool eom;
};

/* Everything a sequence of data events delivered. */
struct h_data {
  int n;                          /* events */
  int msgs;                       /* events with eom */
  struct h_frag ev[H_MAX_EVENTS]; /* the first H_MAX_EVENTS events */
  unsigned char *bytes;           /* all payload, concatenated */
  size_t len, cap;
};

enum h_policy { H_ACCEPT, H_REJECT, H_DEFER };

struct h_world;
struct h_listener;

/* A copy of the last on_connection_request. */
struct h_request {
  azr_conn_id conn_id;
  char rendezvous_address[1024];
  char id[256];
  char connect_headers[4096];
  char sub_protocols[256];
  char extensions[256];
  char host[256];
  char remote_address[64];
  uint16_t remote_port;
  char path[512];
  bool accept;
  int status_code;
  char sub_protocol[128];
};

struct h_listener {
  struct h_world *w;
  azr_listener *l;
  /* control channel */
  int n_connected, connected_status, connected_http;
  char connected_desc[700];
  int n_disconnected, disc_status, disc_close, disc_close_first;
  bool disc_reconnect;
  uint32_t disc_in_ms;
  char disc_desc[400];
  int n_status, n_online, n_renewed, n_keepalive_timeout;
  char status[H_MAX_STATUS][32];
  int n_error, error_code;
  char error_desc[700];
  int n_header;
  char headers[4096]; /* "Field: value\n" lines */
  /* redirects of the control channel handshake */
  int n_redirect;
  char redirect_location[1024]; /* the last event's */
  bool redirect_accept_in;
  int redirect_accept_override; /* -1 leave, 0 decline, 1 follow */
  /* TLS */
  int n_ssl_status;
  char ssl_status[2048]; /* messages, '\n'-separated */
  int n_ssl_auth;
  char ssl_auth_status[256];     /* the last event's */
  char ssl_auth_statuses[1024];  /* every event's, '\n'-separated */
  char ssl_auth_pem[8192];
  bool ssl_auth_accept_in;
  int ssl_accept_override; /* -1 leave, 0 refuse, 1 accept */
  /* connection requests */
  int n_request;
  struct h_request req;
  enum h_policy policy;
  int reject_status;
  char reject_desc[256];
  /* connections */
  int n_conn_connected, conn_connected_status;
  azr_conn_id conn; /* the last connection that connected */
  int n_ready;
  struct h_data in;
  bool echo;
  void (*on_data_hook)(struct h_listener *hl, const azr_data_in_event *ev);
  void (*on_status_hook)(struct h_listener *hl, const azr_connection_status_event *ev);
  azr_conn_id hook_conn; /* for the hooks' use */
  int hook_rc;
  int n_conn_disc, cd_code, cd_error;
  azr_conn_id cd_id;
  char cd_desc[256];
  int n_conn_error, ce_code;
  char ce_desc[300];
  /* API misuse probes run from inside on_connected */
  bool probe_in_callback;
  int probe_run_rc;
  bool probe_done;
  bool interrupt_on_connected; /* on_connected calls azr_listener_interrupt_run */
  /* captured log lines ("level category message\n") */
  bool capture_log;
  char *log;
  size_t log_len, log_cap;
  int n_log;
  bool on_uv; /* created with azr_listener_new_on_uv: the world runs w->uv instead */
};

struct h_client {
  struct h_world *w;
  azr_client *c;
  int n_open, open_status, open_http;
  char open_desc[700];
  struct h_data in;
  bool echo;           /* send every received fragment back */
  bool pause_on_first; /* azr_client_pause from inside the first data event */
  int n_ready;
  int n_close, close_code, close_error;
  char close_reason[256];
  bool capture_log;
  char *log;
  size_t log_len, log_cap;
};

struct h_world {
  azr_emulator *em;
  bool tls;
  bool em_paused; /* true: the pump leaves the emulator's loop alone */
  char connstr[2048];
  char ca_path[64]; /* TLS: the emulator's certificate as a file */
  struct h_listener *ls[H_MAX_PEERS];
  size_t nl;
  struct h_client *cs[H_MAX_PEERS];
  size_t nc;
  void *uv; /* an application uv_loop_t the pump also runs (uv_run NOWAIT) */
  bool capture_emulator_log;
  char *em_log;
  size_t em_log_len, em_log_cap;
  azr_emulator *gateway;       /* h_world_add_gateway: a second emulator the pump also runs (its log
                                  goes to em_log as well) */
  char gateway_connstr[2048];  /* the connection string with the gateway's port */
};

/* ---- world ---- */

/* Creates and starts an emulator (plain or TLS) with a namespace-wide Listen/Send/Manage rule
 * H_KEY_NAME/H_KEY and the hybrid connection H_HC. emulator_settings: NULL-terminated "Name=Value". */
struct h_world *h_world_new(bool tls, const char *const *emulator_settings);
/* The same with the emulator bound to @p bind_host (e.g. "::1"; NULL = the emulator's default). */
struct h_world *h_world_new_bound(bool tls, const char *bind_host, const char *const *emulator_settings);
/* The same in two steps, to add rules or hybrid connections to w->em in between. */
struct h_world *h_world_prepare(bool tls, const char *const *emulator_settings);
void h_world_start(struct h_world *w);
void h_world_free(struct h_world *w);
/* Adds a gateway of w->em (plain worlds only): an emulator with the same rule and hybrid connection,
 * HomeAddress set to w->em and the given settings (GatewaySecret among them). */
void h_world_add_gateway(struct h_world *w, const char *const *settings);
uint64_t h_now_ms(void);

/* Runs every loop once without waiting, then sleeps briefly. Returns false once deadline_ms passed. */
bool h_step(struct h_world *w, uint64_t deadline_ms);
/* Pumps for a fixed time. */
void h_pump_for(struct h_world *w, int ms);

/* Pumps until @p cond holds or @p ms elapse; fails the test with the condition's text otherwise. */
/* Waits for cond, at most ms (times AZR_TEST_WAIT_SCALE, set for runs under valgrind where a TLS
 * handshake alone can take seconds: only the patience grows, never what a test asserts). */
unsigned h_wait_scale(void);
#define H_WAIT(w, cond, ms)                                                                               \
  do {                                                                                                    \
    uint64_t h_deadline_ = h_now_ms() + (uint64_t)(ms) * h_wait_scale();                                  \
    while (!(cond) && h_step((w), h_deadline_)) {                                                         \
    }                                                                                                     \
    if (!(cond)) fail_msg("%s:%d: timed out after %d ms waiting for %s", __FILE__, __LINE__, (int)(ms), #cond); \
  } while (0)

/* ---- listeners ---- */

/* A listener on the world's connection string (and its CA file in TLS mode when @p trust), with
 * recording callbacks; not started. */
struct h_listener *h_listener_new(struct h_world *w, bool trust);
/* The same on an application loop (w->uv must be set). */
struct h_listener *h_listener_new_on_uv(struct h_world *w, bool trust);
void h_listener_config(struct h_listener *hl, const char *setting); /* asserts AZR_OK */
void h_listener_start_online(struct h_listener *hl);               /* start, wait until Online */
bool h_listener_saw_status(const struct h_listener *hl, const char *event);
int h_listener_status_index(const struct h_listener *hl, const char *event); /* -1 when absent */
void h_listener_free(struct h_listener *hl); /* also done by h_world_free */
/* azr_listener_get_config into the caller's buffer; fails the test unless AZR_OK. */
void h_listener_get(struct h_listener *hl, const char *name, char *out, size_t out_len);

/* ---- clients ---- */

struct h_client *h_client_new(struct h_world *w);
/* A client on the world's application loop (w->uv must be set). */
struct h_client *h_client_new_on_uv(struct h_world *w);
/* Connects and waits for on_open; returns its status. */
int h_client_connect(struct h_client *hc, const char *path, const char *sub_protocols);
/* Connects through @p hl, waits until both sides are open, returns the listener's connection id. */
azr_conn_id h_connect_pair(struct h_listener *hl, struct h_client *hc);
/* An online listener (with @p setting applied first unless NULL) and a client connected to it that
 * reads nothing (paused), so that what the listener sends backs up. Returns the connection id. */
azr_conn_id h_stalled_pair(struct h_world *w, const char *setting, struct h_listener **hl, struct h_client **hc);
void h_client_free(struct h_client *hc);

/* ---- small helpers ---- */

bool h_contains(const char *haystack, const char *needle);
/* The same ignoring ASCII case. */
bool h_icontains(const char *haystack, const char *needle);
/* Bytes of a test pattern (deterministic from offset), to check order and loss. */
void h_pattern(unsigned char *out, size_t len, uint64_t offset);
bool h_pattern_ok(const unsigned char *data, size_t len, uint64_t offset);
void h_data_reset(struct h_data *d);
/* A temporary file of @p size pattern bytes; returns its path in @p path (caller unlinks). */
void h_temp_file(char *path, size_t path_len, uint64_t size);

#endif
