/* SPDX-License-Identifier: MIT */
/* The sender role (§6.1): one WebSocket to wss://{ns}/$hc/{path}?sb-hc-action=connect, with the
 * listener's identity, token and transport settings. With AzbridgePortName set, the connection
 * first speaks azbridge's per-stream preamble (docs/internals/azbridge.md) and opens for the
 * application only once the listener accepted the port. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "azrelay/client.h"
#include "azrelay/uv.h"
#include "io/connect.h"
#include "io/loop.h"
#include "io/websocket.h"
#include "config/settings.h"
#include "config/token_source.h"
#include "proto/azbridge.h"
#include "proto/connstr.h"
#include "proto/hc_url.h"
#include "util/crypto.h"
#include "util/limits.h"
#include "util/utf8.h"

#define MAX_HEADERS 32

struct azr_client {
  const struct azr__mem *mem;
  uv_loop_t own_loop;
  uv_loop_t *loop;
  bool owns_loop;
  struct azr__curl *curl;
  struct azr__log log;
  azr_client_callbacks cb;
  void *ud;
  struct azr__listener_settings set;
  azr_token_provider_fn token_fn;
  void *token_ud;
  char *headers[2 * MAX_HEADERS + 1];
  size_t header_count;
  char id[128];
  struct azr__ws *ws;
  bool open;
  bool want_ready;
  bool in_first;
  uint8_t in_opcode;
  int in_callback;
  bool run_stop;
  char last_error[512];
  /* azbridge (AzbridgePortName) */
  char azb_port[AZR__AZBRIDGE_MAX_PORT_NAME + 1]; /* "" = plain connection */
  bool azb_waiting;                               /* preamble sent, reply not complete */
  bool azb_refused;                               /* on_open reported the refusal: stay silent */
  struct azr__azbridge_reply_reader azb_reply;
  bool out_in_message;                            /* a sent message still lacks its last part */
  struct azr__utf8 out_utf8;                      /* text sent in parts: validation across them */
};

#define FIRE(c, member, ...)                                                                             \
  do {                                                                                                    \
    if ((c)->cb.member) {                                                                                 \
      (c)->in_callback++;                                                                                 \
      (c)->cb.member((c), __VA_ARGS__, (c)->ud);                                                          \
      (c)->in_callback--;                                                                                 \
    }                                                                                                     \
  } while (0)

static void fire_open(azr_client *c, int status, int http_status, const char *description) {
  azr_client_open_event ev = {status, http_status, description};
  FIRE(c, on_open, &ev);
}

static void set_error(azr_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(azr_client *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->last_error, sizeof c->last_error, fmt, ap);
  va_end(ap);
}

static int init(azr_client *c, uv_loop_t *loop) {
  c->mem = azr__mem_default();
  if (loop) {
    c->loop = loop;
  } else {
    if (uv_loop_init(&c->own_loop) != 0) return AZR_E_NOMEM;
    c->loop = &c->own_loop;
    c->owns_loop = true;
  }
  azr__settings_init(&c->set);
  c->log.level = c->set.log_level;
  return azr__curl_new(c->loop, c->mem, &c->log, &c->curl);
}

int azr_client_new(azr_client **out) {
  if (!out) return AZR_E_INVALID_ARG;
  azr_client *c = azr__calloc(NULL, 1, sizeof *c);
  if (!c) return AZR_E_NOMEM;
  int rc = init(c, NULL);
  if (rc) {
    azr_client_free(c);
    return rc;
  }
  *out = c;
  return AZR_OK;
}

int azr_client_new_on_uv(azr_client **out, uv_loop_t *loop) {
  if (!out || !loop) return AZR_E_INVALID_ARG;
  azr_client *c = azr__calloc(NULL, 1, sizeof *c);
  if (!c) return AZR_E_NOMEM;
  int rc = init(c, loop);
  if (rc) {
    azr_client_free(c);
    return rc;
  }
  *out = c;
  return AZR_OK;
}

static void mark_freed(void *ud) { *(bool *)ud = true; }

void azr_client_free(azr_client *c) {
  if (!c || c->in_callback) return;
  if (c->ws) {
    static const struct azr__ws_callbacks none = {0};
    azr__ws_set_callbacks(c->ws, &none);
    azr__ws_abort(c->ws);
    c->ws = NULL;
  }
  if (c->curl) {
    bool freed = false;
    /* On the application's loop the connection finishes closing after we return; on our own loop we
     * let it flush first (bounded by the stream's linger timeout). */
    azr__curl_free(c->curl, c->owns_loop ? mark_freed : NULL, &freed);
    while (c->owns_loop && !freed) uv_run(c->loop, UV_RUN_ONCE);
  }
  if (c->owns_loop) azr__loop_close_all(c->loop);
  for (size_t i = 0; i < c->header_count; i++) azr__free(c->mem, c->headers[i]);
  azr__settings_free(c->mem, &c->set);
  azr__free(c->mem, c);
}

int azr_client_set_callbacks(azr_client *c, const azr_client_callbacks *cb, size_t size, void *user_data) {
  if (!c) return AZR_E_INVALID_ARG;
  memset(&c->cb, 0, sizeof c->cb);
  if (cb) memcpy(&c->cb, cb, size < sizeof c->cb ? size : sizeof c->cb);
  c->ud = user_data;
  return AZR_OK;
}

void azr_client_set_log(azr_client *c, azr_log_fn fn, void *user_data) {
  if (!c) return;
  c->log.fn = fn;
  c->log.ud = user_data;
}

static bool is_blank(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }

/* AzbridgePortName: the client's own setting, not a row of the listener's table. */
static bool is_azbridge_port_name(const char *name, size_t len) {
  static const char key[] = "AzbridgePortName";
  while (len && is_blank(*name)) {
    name++;
    len--;
  }
  while (len && is_blank(name[len - 1])) len--;
  return len == sizeof key - 1 && strncasecmp(name, key, len) == 0;
}

static int set_azbridge_port(azr_client *c, const char *value) {
  if (c->ws) {
    set_error(c, "AzbridgePortName: cannot change while connected");
    return AZR_E_BAD_STATE;
  }
  size_t len = strlen(value);
  const char *why = NULL;
  if (len && azr__azbridge_port_name_check(value, len, &why) != AZR_OK) {
    set_error(c, "AzbridgePortName: %s", why);
    return AZR_E_INVALID_ARG;
  }
  memcpy(c->azb_port, value, len + 1);
  return AZR_OK;
}

int azr_client_config(azr_client *c, const char *setting) {
  if (!c || !setting) return AZR_E_INVALID_ARG;
  const char *eq = strchr(setting, '=');
  if (!eq) {
    set_error(c, "'%s' is not Name=Value", setting);
    return AZR_E_INVALID_ARG;
  }
  if (is_azbridge_port_name(setting, (size_t)(eq - setting))) return set_azbridge_port(c, eq + 1);
  char err[256] = "";
  struct azr__settings_context ctx = {false};
  int rc = azr__settings_set(c->mem, &c->set, &ctx, setting, (size_t)(eq - setting), eq + 1, err, sizeof err);
  if (rc) set_error(c, "%s", err);
  c->log.level = c->set.log_level;
  return rc;
}

int azr_client_set_connection_string(azr_client *c, const char *connection_string) {
  if (!c || !connection_string) return AZR_E_INVALID_ARG;
  struct azr__settings_context ctx = {false};
  char err[256];
  int rc = azr__settings_apply_connection_string(c->mem, &c->set, &ctx, connection_string, err, sizeof err);
  if (rc) set_error(c, "connection string: %s", err);
  return rc;
}

int azr_client_set_token_provider(azr_client *c, azr_token_provider_fn fn, void *user_data) {
  if (!c) return AZR_E_INVALID_ARG;
  c->token_fn = fn;
  c->token_ud = user_data;
  return AZR_OK;
}

int azr_client_add_header(azr_client *c, const char *name, const char *value) {
  if (!c || !name || !*name || !value) return AZR_E_INVALID_ARG;
  for (const char *p = name; *p; p++)
    if (*p <= ' ' || *p == ':' || (unsigned char)*p >= 0x7f) return AZR_E_INVALID_ARG;
  for (const char *p = value; *p; p++)
    if (*p == '\r' || *p == '\n') return AZR_E_INVALID_ARG;
  if (c->header_count + 2 > 2 * MAX_HEADERS) return AZR_E_TOO_BIG;
  char *n = azr__strdup(c->mem, name), *v = azr__strdup(c->mem, value);
  if (!n || !v) {
    azr__free(c->mem, n);
    azr__free(c->mem, v);
    return AZR_E_NOMEM;
  }
  c->headers[c->header_count++] = n;
  c->headers[c->header_count++] = v;
  c->headers[c->header_count] = NULL;
  return AZR_OK;
}

int azr_client_set_id(azr_client *c, const char *id) {
  if (!c || !id || strlen(id) >= sizeof c->id) return AZR_E_INVALID_ARG;
  snprintf(c->id, sizeof c->id, "%s", id);
  return AZR_OK;
}

/* ---- WebSocket callbacks ---- */

/* azbridge: the WebSocket opened but the port was not accepted. The application gets on_open with
 * the failure and no further event; the connection closes behind it. */
static void fail_open(azr_client *c, int status, const char *desc) {
  c->azb_waiting = false;
  c->azb_refused = true;
  if (c->ws) (void)azr__ws_close(c->ws, 1000, "azbridge port refused");
  fire_open(c, status, 0, desc);
}

static void w_open(struct azr__ws *ws, int status, const struct azr__http_head *resp, const char *detail) {
  azr_client *c = azr__ws_user_data(ws);
  if (status != AZR_OK) {
    c->ws = NULL;
    char desc[512];
    if (resp) snprintf(desc, sizeof desc, "%.*s", (int)resp->reason.len, resp->reason.ptr);
    else snprintf(desc, sizeof desc, "%s", detail && *detail ? detail : azr_strerror(status));
    set_error(c, "connect failed: %s", detail && *detail ? detail : desc);
    fire_open(c, status, resp ? resp->status_code : 0, desc);
    return;
  }
  if (c->azb_port[0]) {
    /* azbridge: the preamble first; the application hears of the connection once it is accepted. */
    uint8_t pre[AZR__AZBRIDGE_MAX_PREAMBLE];
    size_t n = 0;
    int rc = azr__azbridge_preamble_encode(c->azb_port, AZR__AZBRIDGE_MODE_STREAM, pre, sizeof pre, &n);
    if (!rc) rc = azr__ws_send(ws, AZR__WS_BINARY, pre, n);
    if (rc) {
      set_error(c, "cannot send the azbridge preamble: %s", azr_strerror(rc));
      fail_open(c, rc, c->last_error);
      return;
    }
    azr__azbridge_reply_init(&c->azb_reply, AZR__AZBRIDGE_MODE_STREAM);
    c->azb_waiting = true;
    return;
  }
  c->open = true;
  fire_open(c, AZR_OK, 101, "OK");
}

static void w_begin(struct azr__ws *ws, uint8_t opcode) {
  azr_client *c = azr__ws_user_data(ws);
  c->in_opcode = opcode;
  c->in_first = true;
}

static void w_data(struct azr__ws *ws, uint8_t *data, size_t len, bool frame_end, bool message_end) {
  (void)frame_end;
  azr_client *c = azr__ws_user_data(ws);
  if (c->azb_refused) return;
  if (c->azb_waiting) {
    size_t used = 0;
    bool done = false;
    int rc = azr__azbridge_reply_feed(&c->azb_reply, data, len, &used, &done);
    if (rc) {
      set_error(c, "azbridge port '%s' refused: %s", c->azb_port, c->azb_reply.why ? c->azb_reply.why : azr_strerror(rc));
      fail_open(c, AZR_E_PROTOCOL, c->last_error);
      return;
    }
    if (!done) return;
    c->azb_waiting = false;
    c->open = true;
    fire_open(c, AZR_OK, 101, "OK");
    /* Bytes after the reply are data (the application may have closed meanwhile). */
    data += used;
    len -= used;
    if (!len || !c->ws) return;
  }
  if (!len && !message_end) return;
  azr_data_in_event ev = {0, c->in_first ? (c->in_opcode == AZR__WS_TEXT ? AZR_DATA_TEXT : AZR_DATA_BINARY)
                                         : AZR_DATA_AUTOMATIC,
                          data, len, message_end};
  c->in_first = false;
  FIRE(c, on_data, &ev);
}

static void w_writable(struct azr__ws *ws) {
  azr_client *c = azr__ws_user_data(ws);
  if (!c->want_ready) return;
  c->want_ready = false;
  azr_client_ready_event ev = {azr__ws_queued(ws)};
  FIRE(c, on_ready_to_send, &ev);
}

static void w_close(struct azr__ws *ws, int status, uint16_t code, const char *reason) {
  azr_client *c = azr__ws_user_data(ws);
  c->ws = NULL;
  c->open = false;
  if (c->azb_refused) return;
  if (c->azb_waiting) {
    /* azbridge's listener closes without a reply when it does not know the port. */
    char desc[400];
    snprintf(desc, sizeof desc,
             "azbridge port '%s' was not accepted: the listener closed the connection before replying (%u %s)",
             c->azb_port, code, reason && *reason ? reason : status ? azr_strerror(status) : "");
    set_error(c, "%s", desc);
    c->azb_waiting = false;
    fire_open(c, AZR_E_PROTOCOL, 0, desc);
    return;
  }
  azr_client_close_event cev = {code, reason, status == AZR_E_CLOSED ? AZR_OK : status};
  FIRE(c, on_close, &cev);
}

static const struct azr__ws_callbacks client_cb = {.on_open = w_open,
                                                   .on_message_begin = w_begin,
                                                   .on_message_data = w_data,
                                                   .on_writable = w_writable,
                                                   .on_close = w_close};

int azr_client_connect(azr_client *c, const char *path_and_query, const char *sub_protocols) {
  if (!c) return AZR_E_INVALID_ARG;
  if (c->ws) {
    set_error(c, "already connected or connecting");
    return AZR_E_BAD_STATE;
  }
  c->azb_waiting = false;
  c->azb_refused = false;
  c->out_in_message = false;
  char host[256];
  uint16_t port;
  if (azr__namespace_split(c->set.namespace_address, host, sizeof host, &port) != AZR_OK) {
    set_error(c, "NamespaceAddress is not set or malformed");
    return AZR_E_INVALID_ARG;
  }
  if (!c->set.hybrid_connection || !*c->set.hybrid_connection) {
    set_error(c, "HybridConnection is not set");
    return AZR_E_INVALID_ARG;
  }
  char token[AZR_MAX_TOKEN];
  int64_t expiry;
  char err[256] = "";
  struct azr__token_source ts = {&c->set, c->token_fn, c->token_ud};
  int rc = azr__token_make(&ts, host, c->set.hybrid_connection, token, sizeof token, &expiry, err, sizeof err);
  if (rc) {
    set_error(c, "%s", err);
    return rc;
  }
  struct azr__buf path, url;
  azr__buf_init(&path, c->mem, AZR_MAX_URL);
  azr__buf_init(&url, c->mem, AZR_MAX_URL);
  rc = azr__buf_append_str(&path, c->set.hybrid_connection);
  if (!rc && path_and_query && *path_and_query) {
    if (*path_and_query != '/' && *path_and_query != '?') rc = azr__buf_append_byte(&path, '/');
    if (!rc) rc = azr__buf_append_str(&path, path_and_query);
  }
  char guid[37];
  if (!c->id[0]) azr__guid(guid);
  if (!rc)
    rc = azr__hc_url_connect(&url, !c->set.use_development_emulator, host, port, azr__buf_cstr(&path),
                             c->id[0] ? c->id : guid, NULL);
  if (!rc) {
    const char *headers[2 * MAX_HEADERS + 3];
    size_t n = 0;
    headers[n++] = "ServiceBusAuthorization";
    headers[n++] = token;
    for (size_t i = 0; i < c->header_count; i++) headers[n++] = c->headers[i];
    headers[n] = NULL;
    struct azr__ws_connect_request req = {azr__buf_cstr(&url), headers, sub_protocols};
    struct azr__connect_options o;
    memset(&o, 0, sizeof o);
    azr__settings_connect_options(&c->set, &o);
    struct azr__ws_options wo;
    azr__settings_ws_options(&c->set, &wo);
    /* As on the listener (conn.c): the peer's Close is answered after every message before it was
     * delivered and the application resumed, so its answers to them still go out first. */
    wo.session.defer_close_reply = true;
    rc = azr__ws_connect(c->curl, &o, &req, &wo, &client_cb, c, &c->ws);
    if (rc) set_error(c, "cannot start the connection: %s", azr_strerror(rc));
  }
  azr__buf_free(&path);
  azr__buf_free(&url);
  return rc;
}

int azr_client_send(azr_client *c, azr_data_format format, const void *data, size_t len, bool eom) {
  if (!c || (len && !data)) return AZR_E_INVALID_ARG;
  if (!c->ws || !c->open) return AZR_E_CLOSED;
  if (format == AZR_DATA_PING || format == AZR_DATA_PONG) {
    if (len > 125) return AZR_E_TOO_BIG;
    return format == AZR_DATA_PING ? azr__ws_ping(c->ws, data, len) : azr__ws_pong(c->ws, data, len);
  }
  if (format == AZR_DATA_AUTOMATIC) format = azr__utf8_valid(data, len) ? AZR_DATA_TEXT : AZR_DATA_BINARY;
  /* An empty message reads as the end of the stream to azbridge: a byte stream has nothing to send. */
  if (c->azb_port[0] && !len && !c->out_in_message) return AZR_OK;
  /* The relay and the listener fail a connection whose text is not UTF-8: refuse it here, with a
   * character allowed to span two parts of one message. */
  struct azr__utf8 utf8 = c->out_in_message ? c->out_utf8 : (struct azr__utf8)AZR__UTF8_INIT;
  if (format == AZR_DATA_TEXT && (!azr__utf8_feed(&utf8, data, len) || (eom && !azr__utf8_complete(&utf8))))
    return AZR_E_UTF8;
  int rc = azr__ws_send_part(c->ws, format == AZR_DATA_TEXT ? AZR__WS_TEXT : AZR__WS_BINARY, data, len, eom);
  if (rc == AZR_E_WOULDBLOCK) c->want_ready = true;
  if (rc == AZR_OK) {
    c->out_in_message = !eom;
    c->out_utf8 = utf8;
  }
  return rc;
}

int azr_client_pause(azr_client *c) {
  if (!c || !c->ws) return AZR_E_CLOSED;
  azr__ws_pause(c->ws);
  return AZR_OK;
}

int azr_client_resume(azr_client *c) {
  if (!c || !c->ws) return AZR_E_CLOSED;
  azr__ws_resume(c->ws);
  return AZR_OK;
}

int azr_client_close(azr_client *c, int code, const char *reason) {
  if (!c) return AZR_E_INVALID_ARG;
  if (!c->ws) return AZR_E_CLOSED;
  if (code < 1000 || code > 4999 || code == 1005 || code == 1006 || code == 1015) return AZR_E_INVALID_ARG;
  return azr__ws_close(c->ws, (uint16_t)code, reason ? reason : "");
}

size_t azr_client_get_queued(const azr_client *c) { return c && c->ws ? azr__ws_queued(c->ws) : 0; }
bool azr_client_is_open(const azr_client *c) { return c && c->open; }
const char *azr_client_get_sub_protocol(const azr_client *c) { return c && c->ws ? azr__ws_protocol(c->ws) : ""; }
const char *azr_client_get_last_error(const azr_client *c) { return c ? c->last_error : ""; }

int azr_client_run(azr_client *c, int timeout_ms) {
  if (!c) return AZR_E_INVALID_ARG;
  if (c->in_callback) return AZR_E_BAD_STATE;
  c->run_stop = false;
  azr__loop_run(c->loop, timeout_ms, &c->run_stop);
  return AZR_OK;
}

void azr_client_interrupt_run(azr_client *c) {
  if (!c) return;
  c->run_stop = true;
  uv_stop(c->loop);
}
