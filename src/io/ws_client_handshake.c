/* SPDX-License-Identifier: MIT */
/* WebSocket endpoint, client side: connects through libcurl, writes the upgrade request and checks
 * the server's answer (CONNECTING -> HANDSHAKE -> OPEN, or on_open with the failure). */
#include <stdio.h>
#include <string.h>

#include "azrelay/common.h"
#include "io/websocket_internal.h"
#include "proto/hc_url.h"
#include "proto/ws_handshake.h"
#include "util/limits.h"
#include "util/str.h"

/* Log lines are single lines, so the heads' lines are joined with "; " (secrets are redacted by the log). */
static void trace_request(const struct azr__ws *ws) {
  if (!azr__log_enabled(ws->opt.log, AZR_LOG_VERBOSE)) return;
  struct azr__buf text;
  azr__buf_init(&text, ws->mem, AZR_MAX_HTTP_HEAD);
  const char *p = (const char *)ws->request.data, *end = p + ws->request.len;
  int rc = AZR_OK;
  while (!rc && p < end) {
    const char *eol = memchr(p, '\r', (size_t)(end - p));
    if (!eol) eol = end;
    if (eol > p) rc = azr__buf_printf(&text, "%s%.*s", text.len ? "; " : "", (int)(eol - p), p);
    p = eol + 2;
  }
  char pre[48];
  if (!rc)
    WS_TRACE(ws, AZR_LOG_VERBOSE, "%shandshake request: %s", azr__ws_trace_prefix(ws, pre, sizeof pre),
             azr__buf_cstr(&text));
  azr__buf_free(&text);
}

static void trace_response(const struct azr__ws *ws, const struct azr__http_head *h) {
  if (!azr__log_enabled(ws->opt.log, AZR_LOG_VERBOSE)) return;
  struct azr__buf text;
  azr__buf_init(&text, ws->mem, AZR_MAX_HTTP_HEAD);
  int rc = azr__buf_printf(&text, "HTTP/%d.%d %d %.*s", h->http_major, h->http_minor, h->status_code,
                           (int)h->reason.len, h->reason.ptr);
  for (size_t i = 0; !rc && i < h->header_count; i++)
    rc = azr__buf_printf(&text, "; %.*s: %.*s", (int)h->headers[i].name.len, h->headers[i].name.ptr,
                         (int)h->headers[i].value.len, h->headers[i].value.ptr);
  char pre[48];
  if (!rc)
    WS_TRACE(ws, AZR_LOG_VERBOSE, "%shandshake response: %s", azr__ws_trace_prefix(ws, pre, sizeof pre),
             azr__buf_cstr(&text));
  azr__buf_free(&text);
}

static int http_on_head(void *ud, struct azr__http_head *head) {
  struct azr__ws *ws = ud;
  ws->response = *head;
  memset(head, 0, sizeof *head);
  ws->have_response = true;
  return 1; /* stop: what follows is WebSocket data or an error body we do not need */
}

static int status_for_http(int code) {
  if (code == 401 || code == 403) return AZR_E_AUTH;
  if (code == 404) return AZR_E_ENDPOINT_NOT_FOUND;
  return AZR_E_HTTP_STATUS;
}

void azr__ws_client_handshake_bytes(struct azr__ws *ws, uint8_t *data, size_t len) {
  long used = azr__http1_feed(&ws->http, data, len);
  if (used < 0) {
    azr__ws_fail_open(ws, AZR_E_PROTOCOL, NULL, ws->http.error[0] ? ws->http.error : "malformed handshake response");
    return;
  }
  if (!ws->have_response) return;
  struct azr__http_head *h = &ws->response;
  trace_response(ws, h);
  if (h->status_code != 101) {
    char detail[300];
    snprintf(detail, sizeof detail, "%d %.*s", h->status_code, (int)h->reason.len, h->reason.ptr);
    azr__ws_fail_open(ws, status_for_http(h->status_code), h, detail);
    return;
  }
  char err[160];
  if (azr__ws_client_check_response(h, ws->key, ws->offered_protocols, err, sizeof err) != 0) {
    azr__ws_fail_open(ws, AZR_E_PROTOCOL, h, err);
    return;
  }
  const struct azr__http_header *proto = azr__http_head_find(h, "Sec-WebSocket-Protocol");
  if (proto) snprintf(ws->protocol, sizeof ws->protocol, "%.*s", (int)proto->value.len, proto->value.ptr);
  if (azr__ws_start_session(ws, true) != AZR_OK) {
    azr__ws_fail_open(ws, AZR_E_NOMEM, NULL, "out of memory");
    return;
  }
  azr__ws_opened(ws);
  if (ws->cb.on_open) ws->cb.on_open(ws, AZR_OK, h, "");
  if (ws->state != WS_OPEN) return;
  size_t rest = len - (size_t)used;
  if (rest) {
    int rc = azr__ws_session_recv(&ws->session, data + used, rest);
    azr__ws_after_input(ws, rc);
  } else {
    azr__ws_pump_output(ws);
  }
}

void azr__ws_client_connected(struct azr__stream *s, int status, const char *detail) {
  struct azr__ws *ws = s->owner;
  if (status != AZR_OK) {
    azr__ws_fail_open(ws, status, NULL, detail);
    return;
  }
  azr__ws_set_state(ws, WS_HANDSHAKE);
  trace_request(ws);
  if (azr__stream_write(s, ws->request.data, ws->request.len) != AZR_OK)
    azr__ws_fail_open(ws, AZR_E_IO, NULL, "cannot send the handshake request");
  azr__buf_free(&ws->request);
}

int azr__ws_client_new(uv_loop_t *loop, const struct azr__mem *mem, const char *host_header, const char *target,
                       const struct azr__ws_connect_request *req, const struct azr__ws_options *opt,
                       const struct azr__ws_callbacks *cb, void *ud, struct azr__ws **out) {
  struct azr__ws *ws = azr__ws_create(loop, mem, opt, cb, ud, WS_CONNECTING);
  if (!ws) return AZR_E_NOMEM;
  /* Extra headers plus the offered sub-protocols. */
  const char *headers[2 * 32 + 3];
  size_t nh = 0;
  for (size_t i = 0; req->extra_headers && req->extra_headers[i] && nh < 2 * 32; i += 2) {
    headers[nh++] = req->extra_headers[i];
    headers[nh++] = req->extra_headers[i + 1];
  }
  if (req->subprotocols && *req->subprotocols) {
    headers[nh++] = "Sec-WebSocket-Protocol";
    headers[nh++] = req->subprotocols;
    ws->offered_protocols = azr__strdup(ws->mem, req->subprotocols);
  }
  headers[nh] = NULL;
  int rc = azr__ws_new_key(ws->key) != 0 ? AZR_E_IO : AZR_OK;
  if (!rc) rc = azr__ws_client_request(&ws->request, host_header, target, ws->key, headers);
  if (!rc) rc = azr__http1_init(&ws->http, AZR__HTTP1_RESPONSE, ws->mem,
                                &(struct azr__http1_callbacks){http_on_head, NULL, NULL}, ws);
  if (!rc) ws->http_ready = true;
  if (rc) {
    azr__ws_destroy(ws);
    return rc;
  }
  *out = ws;
  return AZR_OK;
}

void azr__ws_client_start(struct azr__ws *ws, struct azr__stream *s) {
  ws->stream = s;
  azr__ws_watch_drain(s);
  azr__ws_arm_deadline(ws, ws->opt.handshake_timeout_ms);
}

int azr__ws_connect(struct azr__curl *curl, const struct azr__connect_options *transport,
                    const struct azr__ws_connect_request *req, const struct azr__ws_options *opt,
                    const struct azr__ws_callbacks *cb, void *ud, struct azr__ws **out) {
  struct azr__url u;
  if (!req || !req->url || azr__url_split(azr__span_of(req->url), &u) != AZR_OK) return AZR_E_INVALID_ARG;
  bool tls;
  if (azr__span_ieq(u.scheme, "wss") || azr__span_ieq(u.scheme, "https")) tls = true;
  else if (azr__span_ieq(u.scheme, "ws") || azr__span_ieq(u.scheme, "http")) tls = false;
  else return AZR_E_INVALID_ARG;
  if (u.host.len == 0 || u.host.len > 255) return AZR_E_INVALID_ARG;

  struct azr__connect_options o = {0};
  if (transport) o = *transport;
  char host[256];
  memcpy(host, u.host.ptr, u.host.len);
  host[u.host.len] = 0;
  o.host = host;
  o.port = u.port ? u.port : (tls ? 443 : 80);
  o.tls = tls;

  /* Request head: Host carries the port only when it is not the scheme's default. */
  char host_header[300];
  azr__host_port(host_header, sizeof host_header, host, u.port && u.port != (tls ? 443 : 80) ? u.port : 0);
  const struct azr__mem *mem = azr__curl_mem(curl);
  struct azr__buf target;
  azr__buf_init(&target, mem, AZR_MAX_URL);
  int rc = azr__buf_append(&target, u.path.len ? u.path.ptr : "/", u.path.len ? u.path.len : 1);
  if (!rc && u.query.len) rc = azr__buf_append_byte(&target, '?');
  if (!rc && u.query.len) rc = azr__buf_append(&target, u.query.ptr, u.query.len);
  struct azr__ws *ws = NULL;
  if (!rc) rc = azr__ws_client_new(azr__curl_loop(curl), mem, host_header, azr__buf_cstr(&target), req, opt, cb, ud, &ws);
  azr__buf_free(&target);
  if (rc) return rc;
  struct azr__stream *s;
  rc = azr__connect(curl, &o, &azr__ws_stream_callbacks, ws, &s);
  if (rc) {
    azr__ws_destroy(ws);
    return rc;
  }
  azr__ws_client_start(ws, s);
  *out = ws;
  return AZR_OK;
}
