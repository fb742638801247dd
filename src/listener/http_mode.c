/* SPDX-License-Identifier: MIT */
/* HTTP mode (§5.4-§5.6, §7): requests from the control channel or a rendezvous socket become
 * on_http_request events; responses go back on the control channel when small and complete, or on a
 * rendezvous socket when large or slow (a 64 KiB buffer and a 2 s flush timer decide, §7.5). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "azrelay/http.h"
#include "listener/listener_internal.h"
#include "proto/http1.h"
#include "proto/http_field.h"
#include "util/limits.h"

#define CONTROL_BODY_LIMIT (64u * 1024u) /* the largest body the control channel may carry (§5.2) */
#define FLUSH_AFTER_MS 2000u             /* a response still open after this moves to a rendezvous */
#define REQUEST_LIFETIME_MS 65000u       /* the relay answers 504 after 60 s (§7.7) */

struct azr__http_rv {
  struct azr__http_rv *prev, *next;
  azr_listener *l;
  struct azr__ws *ws;
  bool open;
  struct azr__http_req *response_of; /* opened by us to carry this request's response */
  struct azr__http_req *cur;         /* request received on it and not yet answered */
  uint8_t opcode;
  bool expect_body;
  bool for_request; /* dialled because the relay asked (§5.5): counts against MaxHttpRequests */
};

enum req_state { REQ_RECEIVING, REQ_WAITING, REQ_RESPONDING, REQ_DONE };

struct azr__http_req {
  struct azr__http_req *prev, *next;
  azr_listener *l;
  azr_conn_id id;
  enum req_state state;
  char *address, *relay_id, *target, *method, *headers_json, *host, *remote_address;
  uint16_t remote_port;
  struct azr__buf body;
  struct azr__http_rv *arrived_on; /* NULL: the control channel */
  struct azr__http_rv *response_rv;
  bool begun, ended, want_ready;
  struct azr__buf resp_json;
  struct azr__buf resp_buf; /* body held while the path is undecided or the rendezvous connects */
  uv_timer_t timer;
  bool flushing_timer;      /* the timer currently counts the 2 s flush, not the lifetime */
};

static void http_rv_connect(azr_listener *l, const char *address, struct azr__http_req *response_of);

void azr__http_init(azr_listener *l) { azr__idmap_init(&l->http_map, l->mem); }

/* ---- requests ---- */

static void on_req_timer_closed(uv_handle_t *h) {
  struct azr__http_req *r = h->data;
  azr_listener *l = r->l;
  const struct azr__mem *mem = l->mem;
  azr__free(mem, r->address);
  azr__free(mem, r->relay_id);
  azr__free(mem, r->target);
  azr__free(mem, r->method);
  azr__free(mem, r->headers_json);
  azr__free(mem, r->host);
  azr__free(mem, r->remote_address);
  azr__buf_free(&r->body);
  azr__buf_free(&r->resp_json);
  azr__buf_free(&r->resp_buf);
  azr__free(mem, r);
  azr__listener_maybe_release(l);
}

static void req_release(struct azr__http_req *r) {
  azr_listener *l = r->l;
  if (r->state == REQ_DONE) return;
  r->state = REQ_DONE;
  azr__idmap_remove(&l->http_map, r->id);
  if (r->prev) r->prev->next = r->next;
  else l->http_reqs = r->next;
  if (r->next) r->next->prev = r->prev;
  l->http_count--;
  if (l->http_body_req == r) l->http_body_req = NULL;
  if (r->arrived_on && r->arrived_on->cur == r) r->arrived_on->cur = NULL;
  if (r->response_rv && r->response_rv->response_of == r) {
    r->response_rv->response_of = NULL;
    /* A response given up half way must not leave the sender waiting for the rest. */
    if (!r->ended && r->response_rv->ws) azr__ws_abort(r->response_rv->ws);
  }
  uv_timer_stop(&r->timer);
  uv_close((uv_handle_t *)&r->timer, on_req_timer_closed);
}

static void on_req_timer(uv_timer_t *t) {
  struct azr__http_req *r = t->data;
  if (r->flushing_timer) {
    /* Slow response: stop holding it back and stream it over a rendezvous (§7.5). */
    r->flushing_timer = false;
    uv_timer_start(&r->timer, on_req_timer, REQUEST_LIFETIME_MS, 0);
    if (!r->response_rv && !r->arrived_on && r->begun && !r->ended) http_rv_connect(r->l, r->address, r);
    return;
  }
  AZR__LLOG(r->l, AZR_LOG_INFO, "http", "request %llu expired without a response", (unsigned long long)r->id);
  req_release(r);
}

static char *hdr_dup(azr_listener *l, const struct azr__hc_headers *h, const char *name) {
  const char *v = azr__hc_headers_get(h, name);
  return azr__strdup(l->mem, v ? v : "");
}

static struct azr__http_req *req_new(azr_listener *l, const struct azr__hc_request *q, struct azr__http_rv *rv) {
  struct azr__http_req *r = azr__calloc(l->mem, 1, sizeof *r);
  if (!r) return NULL;
  r->l = l;
  r->id = ++l->next_id;
  r->arrived_on = rv;
  r->address = azr__strdup(l->mem, q->address ? q->address : ""); /* unused for requests on a rendezvous */
  r->relay_id = azr__strdup(l->mem, q->id ? q->id : "");
  r->target = azr__strdup(l->mem, q->request_target ? q->request_target : "/");
  r->method = azr__strdup(l->mem, q->method ? q->method : "GET");
  struct azr__buf json;
  azr__buf_init(&json, l->mem, 0);
  azr__hc_headers_to_json(&json, &q->request_headers);
  r->headers_json = azr__buf_steal(&json);
  if (!r->headers_json) r->headers_json = azr__strdup(l->mem, "{}");
  r->host = hdr_dup(l, &q->request_headers, "Host");
  r->remote_address = azr__strdup(l->mem, q->remote.present && q->remote.address ? q->remote.address : "");
  r->remote_port = q->remote.present && q->remote.port > 0 && q->remote.port < 65536 ? (uint16_t)q->remote.port : 0;
  azr__buf_init(&r->body, l->mem, (size_t)l->set.max_message_size);
  azr__buf_init(&r->resp_json, l->mem, AZR_MAX_CONTROL_MSG);
  azr__buf_init(&r->resp_buf, l->mem, (size_t)l->set.send_queue_size);
  uv_timer_init(l->loop, &r->timer);
  r->timer.data = r;
  if (!r->address || !r->relay_id || !r->target || !r->method || !r->headers_json || !r->host || !r->remote_address ||
      azr__idmap_put(&l->http_map, r->id, r) != AZR_OK) {
    r->state = REQ_DONE;
    uv_close((uv_handle_t *)&r->timer, on_req_timer_closed);
    return NULL;
  }
  r->next = l->http_reqs;
  if (r->next) r->next->prev = r;
  l->http_reqs = r;
  l->http_count++;
  r->state = REQ_RECEIVING;
  uv_timer_start(&r->timer, on_req_timer, REQUEST_LIFETIME_MS, 0);
  return r;
}

static void fire_request(struct azr__http_req *r) {
  azr_listener *l = r->l;
  r->state = REQ_WAITING;
  AZR__LLOG(l, AZR_LOG_VERBOSE, "http", "request %llu: %s %s (%zu body bytes)", (unsigned long long)r->id, r->method,
            r->target, r->body.len);
  if (!l->cb.on_http_request) {
    /* Nobody handles HTTP here: say so instead of letting the sender wait for a 504. */
    static const char msg[] = "This listener does not handle HTTP requests.";
    (void)azr_http_response_send(l, r->id, 501, NULL, NULL, msg, sizeof msg - 1);
    return;
  }
  azr_http_request_event ev = {r->id,   r->address,      r->relay_id, r->headers_json, r->target,
                               r->method, r->host,       r->remote_address, r->remote_port,
                               r->body.data ? r->body.data : (const uint8_t *)"", r->body.len,
                               r->arrived_on != NULL};
  l->stats.http_requests++;
  AZR__FIRE(l, on_http_request, &ev);
}

/* ---- the control channel side ---- */

/* MaxHttpRequests reached: a request that came whole on the control channel is answered 503 there
 * (one small message, no rendezvous); one that asks for a rendezvous is not served, because opening
 * one per request is exactly the growth the limit prevents (the relay answers the sender itself
 * after its timeout, §7.7). */
static void refuse_request(azr_listener *l, const struct azr__hc_request *q) {
  l->stats.http_requests_refused++;
  AZR__LLOG(l, AZR_LOG_VERBOSE, "http", "%d HTTP requests in progress: request %s refused", l->set.max_http_requests,
            q->id ? q->id : "");
  if (azr__hc_request_is_rendezvous_only(q) || !q->id || !l->control) return;
  char description[] = "Service Unavailable";
  struct azr__hc_response resp = {q->id, 503, description, {0}, false};
  struct azr__buf json;
  azr__buf_init(&json, l->mem, AZR_MAX_CONTROL_MSG);
  if (azr__hc_cmd_write_response(&json, &resp) == AZR_OK)
    (void)azr__ws_send(l->control, AZR__WS_TEXT, json.data, json.len);
  azr__buf_free(&json);
}

void azr__http_command(azr_listener *l, const struct azr__hc_request *q) {
  /* On the control channel the address is where the request (§5.5) or a large or slow response
   * (§7.5) travels: without it the request cannot be served. */
  if (!q->address) {
    azr__listener_error(l, AZR_E_PROTOCOL, "request without 'address' on the control channel ignored");
    return;
  }
  if (!azr__listener_rendezvous_allowed(l, q->address, "an HTTP request")) return;
  if (l->set.max_http_requests > 0 && l->http_count + l->http_rv_count >= (size_t)l->set.max_http_requests) {
    refuse_request(l, q);
    return;
  }
  if (azr__hc_request_is_rendezvous_only(q)) {
    /* The relay wants this request carried over a rendezvous socket (§5.5). */
    http_rv_connect(l, q->address, NULL);
    return;
  }
  struct azr__http_req *r = req_new(l, q, NULL);
  if (!r) {
    azr__listener_error(l, AZR_E_NOMEM, "out of memory for an HTTP request");
    return;
  }
  if (q->body == AZR__HC_BODY_TRUE) {
    l->http_body_req = r; /* the body is the next binary message (§5.2) */
    return;
  }
  fire_request(r);
}

void azr__http_control_binary(azr_listener *l, const uint8_t *data, size_t len) {
  struct azr__http_req *r = l->http_body_req;
  if (!r) {
    AZR__LLOG(l, AZR_LOG_VERBOSE, "http", "ignoring a binary control message no request announced");
    return;
  }
  l->http_body_req = NULL;
  if (azr__buf_append(&r->body, data, len) != AZR_OK) {
    azr__listener_error(l, AZR_E_TOO_BIG, "request body larger than MaxMessageSize");
    req_release(r);
    return;
  }
  fire_request(r);
}

/* ---- rendezvous sockets ---- */

static void rv_unlink(struct azr__http_rv *rv) {
  azr_listener *l = rv->l;
  if (rv->for_request) {
    rv->for_request = false;
    l->http_rv_count--;
  }
  if (rv->prev) rv->prev->next = rv->next;
  else l->http_rvs = rv->next;
  if (rv->next) rv->next->prev = rv->prev;
  rv->prev = rv->next = NULL;
}

static int send_response_start(struct azr__http_req *r, struct azr__ws *ws, bool whole, const void *body, size_t len);

static void rv_open(struct azr__ws *ws, int status, const struct azr__http_head *resp, const char *detail) {
  struct azr__http_rv *rv = azr__ws_user_data(ws);
  azr_listener *l = rv->l;
  (void)resp;
  if (status != AZR_OK) {
    rv->ws = NULL;
    struct azr__http_req *r = rv->response_of;
    azr__listener_error(l, status, "HTTP rendezvous failed: %s", detail);
    if (r) req_release(r);
    rv_unlink(rv);
    azr__free(l->mem, rv);
    return;
  }
  rv->open = true;
  struct azr__http_req *r = rv->response_of;
  if (!r) return; /* a request will arrive on it */
  /* Our response rendezvous: the held head and body go first. */
  int rc = azr__ws_send(ws, AZR__WS_TEXT, r->resp_json.data, r->resp_json.len);
  if (!rc && (r->resp_buf.len || r->ended)) rc = azr__ws_send_part(ws, AZR__WS_BINARY, r->resp_buf.data, r->resp_buf.len, r->ended);
  azr__buf_free(&r->resp_buf);
  azr__buf_init(&r->resp_buf, l->mem, (size_t)l->set.send_queue_size);
  if (rc) azr__listener_error(l, rc, "cannot send the HTTP response: %s", azr_strerror(rc));
  if (rc || r->ended) {
    (void)azr__ws_close(ws, 1000, "");
    req_release(r);
    return;
  }
  if (r->want_ready) { /* a write was refused while we connected: it may go on now */
    r->want_ready = false;
    azr_http_ready_event ev = {r->id};
    AZR__FIRE(l, on_http_ready_to_send, &ev);
  }
}

static void rv_begin(struct azr__ws *ws, uint8_t opcode) {
  struct azr__http_rv *rv = azr__ws_user_data(ws);
  rv->opcode = opcode;
}

static void rv_data(struct azr__ws *ws, uint8_t *data, size_t len, bool frame_end, bool message_end) {
  (void)frame_end;
  struct azr__http_rv *rv = azr__ws_user_data(ws);
  azr_listener *l = rv->l;
  if (!message_end) return; /* buffered mode */
  if (rv->opcode == AZR__WS_BINARY) {
    struct azr__http_req *r = rv->cur;
    if (!rv->expect_body || !r) return;
    rv->expect_body = false;
    if (azr__buf_append(&r->body, data, len) != AZR_OK) {
      azr__listener_error(l, AZR_E_TOO_BIG, "request body larger than MaxMessageSize");
      req_release(r);
      return;
    }
    fire_request(r);
    return;
  }
  if (rv->expect_body && rv->cur) { /* §5.6 rule 5, mirrored: a text message ends a missing body */
    rv->expect_body = false;
    fire_request(rv->cur);
  }
  struct azr__hc_cmd cmd;
  char err[160];
  if (azr__hc_cmd_parse(l->mem, data, len, &cmd, err, sizeof err) != AZR_OK) {
    azr__listener_error(l, AZR_E_PROTOCOL, "malformed message on an HTTP rendezvous: %s", err);
    return;
  }
  if (cmd.type == AZR__HC_CMD_REQUEST && !azr__hc_request_is_rendezvous_only(&cmd.u.request)) {
    if (rv->cur) {
      azr__listener_error(l, AZR_E_PROTOCOL, "a second request arrived before the first was answered");
    } else {
      struct azr__http_req *r = req_new(l, &cmd.u.request, rv);
      if (r) {
        rv->cur = r;
        if (cmd.u.request.body == AZR__HC_BODY_TRUE) rv->expect_body = true;
        else fire_request(r);
      }
    }
  }
  azr__hc_cmd_free(l->mem, &cmd);
}

static void rv_writable(struct azr__ws *ws) {
  struct azr__http_rv *rv = azr__ws_user_data(ws);
  struct azr__http_req *r = rv->response_of ? rv->response_of : rv->cur;
  if (!r || !r->want_ready) return;
  r->want_ready = false;
  azr_http_ready_event ev = {r->id};
  AZR__FIRE(rv->l, on_http_ready_to_send, &ev);
}

static void rv_close(struct azr__ws *ws, int status, uint16_t code, const char *reason) {
  (void)code;
  struct azr__http_rv *rv = azr__ws_user_data(ws);
  azr_listener *l = rv->l;
  rv->ws = NULL;
  AZR__LLOG(l, status ? AZR_LOG_INFO : AZR_LOG_VERBOSE, "http", "rendezvous closed: %u %s (%s)", code, reason,
            azr_status_name(status));
  if (rv->response_of && !rv->response_of->ended)
    azr__listener_error(l, status ? status : AZR_E_CLOSED, "HTTP response rendezvous closed early: %s", reason);
  if (rv->response_of) req_release(rv->response_of);
  if (rv->cur) req_release(rv->cur);
  rv_unlink(rv);
  azr__free(l->mem, rv);
  azr__listener_maybe_release(l);
}

static const struct azr__ws_callbacks rv_cb = {.on_open = rv_open,
                                               .on_message_begin = rv_begin,
                                               .on_message_data = rv_data,
                                               .on_writable = rv_writable,
                                               .on_close = rv_close};

static void http_rv_connect(azr_listener *l, const char *address, struct azr__http_req *response_of) {
  struct azr__http_rv *rv = azr__listener_rendezvous_allowed(l, address, "an HTTP response")
                                ? azr__calloc(l->mem, 1, sizeof *rv)
                                : NULL;
  if (!rv) {
    if (response_of) req_release(response_of);
    return;
  }
  rv->l = l;
  rv->response_of = response_of;
  struct azr__ws_connect_request req = {address, NULL, NULL};
  struct azr__connect_options o;
  azr__listener_connect_options(l, &o);
  struct azr__ws_options wo;
  azr__conn_options(l, &wo);
  wo.session.buffer_messages = true;
  wo.log_category = "http";
  if (azr__ws_connect(l->curl, &o, &req, &wo, &rv_cb, rv, &rv->ws) != AZR_OK) {
    azr__listener_error(l, AZR_E_IO, "cannot open an HTTP rendezvous");
    if (response_of) req_release(response_of);
    azr__free(l->mem, rv);
    return;
  }
  if (response_of) response_of->response_rv = rv;
  rv->for_request = !response_of;
  if (rv->for_request) l->http_rv_count++;
  rv->next = l->http_rvs;
  if (rv->next) rv->next->prev = rv;
  l->http_rvs = rv;
}

void azr__http_abort_all(azr_listener *l) {
  while (l->http_reqs) req_release(l->http_reqs);
  for (struct azr__http_rv *rv = l->http_rvs; rv; rv = rv->next)
    if (rv->ws) azr__ws_abort(rv->ws);
}

/* ---- responses ---- */

static bool hop_by_hop(const char *name) {
  static const char *const names[] = {"Connection", "Transfer-Encoding", "Keep-Alive", "Upgrade", "Proxy-Connection",
                                      "TE", "Trailer", "Content-Length"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (azr__str_ieq(name, names[i])) return true;
  return false;
}

static int build_response(struct azr__http_req *r, int status, const char *description, const char *const *headers,
                          bool body) {
  azr_listener *l = r->l;
  if (status < 100 || status > 599) {
    azr__listener_set_error(l, "HTTP status %d is outside 100-599", status);
    return AZR_E_INVALID_ARG;
  }
  /* The relay writes these into the sender's HTTP response head: a CR or LF would let the
   * application (or whoever feeds it header text) end that head early or add to it. */
  if (description && !azr__http_field_value_ok(description, strlen(description))) {
    azr__listener_set_error(l, "the HTTP status description contains a control character");
    return AZR_E_INVALID_ARG;
  }
  for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2) {
    if (!azr__http_field_name_ok(headers[i], strlen(headers[i])) ||
        !azr__http_field_value_ok(headers[i + 1], strlen(headers[i + 1]))) {
      azr__listener_set_error(l, "bad response header '%.64s': names are HTTP tokens, values have no control characters",
                              headers[i]);
      return AZR_E_INVALID_ARG;
    }
  }
  struct azr__hc_response resp = {0};
  resp.request_id = r->relay_id;
  resp.status_code = status;
  resp.status_description = (char *)(description && *description ? description : azr__http_reason(status));
  resp.body = body;
  int rc = AZR_OK;
  bool head = azr__str_ieq(r->method, "HEAD");
  for (size_t i = 0; !rc && headers && headers[i] && headers[i + 1]; i += 2) {
    /* HEAD answers may announce the length of the body they do not carry. */
    if (hop_by_hop(headers[i]) && !(head && azr__str_ieq(headers[i], "Content-Length"))) continue;
    rc = azr__hc_headers_add(l->mem, &resp.response_headers, headers[i], strlen(headers[i]), headers[i + 1],
                             strlen(headers[i + 1]));
    if (rc == AZR_E_PARSE || rc == AZR_E_INVALID_ARG) azr__listener_set_error(l, "bad response header '%s'", headers[i]);
  }
  azr__buf_reset(&r->resp_json);
  if (!rc) rc = azr__hc_cmd_write_response(&r->resp_json, &resp);
  azr__hc_headers_free(l->mem, &resp.response_headers);
  return rc;
}

static int find_req(azr_listener *l, azr_conn_id id, struct azr__http_req **out) {
  if (!l) return AZR_E_INVALID_ARG;
  struct azr__http_req *r = azr__idmap_get(&l->http_map, id);
  if (!r || r->state == REQ_DONE || r->state == REQ_RECEIVING) {
    azr__listener_set_error(l, "no HTTP request %llu awaiting a response", (unsigned long long)id);
    return AZR_E_INVALID_CONN_ID;
  }
  *out = r;
  return AZR_OK;
}

/* Sends head (+ whole body when `whole`) on a WebSocket that is open. */
static int send_response_start(struct azr__http_req *r, struct azr__ws *ws, bool whole, const void *body, size_t len) {
  int rc = azr__ws_send(ws, AZR__WS_TEXT, r->resp_json.data, r->resp_json.len);
  if (!rc && whole && len) rc = azr__ws_send(ws, AZR__WS_BINARY, body, len);
  return rc;
}

int azr_http_response_send(azr_listener *l, azr_conn_id request_id, int status, const char *description,
                           const char *const *headers, const void *body, size_t len) {
  struct azr__http_req *r;
  int rc = find_req(l, request_id, &r);
  if (rc) return rc;
  if (r->begun) {
    azr__listener_set_error(l, "request %llu already has a response in progress", (unsigned long long)request_id);
    return AZR_E_BAD_STATE;
  }
  if (len && !body) return AZR_E_INVALID_ARG;
  rc = build_response(r, status, description, headers, len > 0);
  if (rc) return rc;
  l->stats.http_responses++;
  if (r->arrived_on) {
    if (!r->arrived_on->ws) return AZR_E_CLOSED;
    rc = send_response_start(r, r->arrived_on->ws, true, body, len);
    if (!rc) req_release(r);
    return rc;
  }
  if (len <= CONTROL_BODY_LIMIT) {
    if (!l->control || !azr__listener_online(l)) return AZR_E_CLOSED;
    rc = send_response_start(r, l->control, true, body, len);
    if (!rc) req_release(r);
    return rc;
  }
  /* Too large for the control channel: a rendezvous carries it (§7.5). */
  rc = azr__buf_append(&r->resp_buf, body, len);
  if (rc) return rc;
  r->begun = r->ended = true;
  r->state = REQ_RESPONDING;
  http_rv_connect(l, r->address, r);
  return AZR_OK;
}

int azr_http_response_begin(azr_listener *l, azr_conn_id request_id, int status, const char *description,
                            const char *const *headers) {
  struct azr__http_req *r;
  int rc = find_req(l, request_id, &r);
  if (rc) return rc;
  if (r->begun) return AZR_E_BAD_STATE;
  rc = build_response(r, status, description, headers, true);
  if (rc) return rc;
  l->stats.http_responses++;
  r->begun = true;
  r->state = REQ_RESPONDING;
  if (r->arrived_on) {
    if (!r->arrived_on->ws) return AZR_E_CLOSED;
    return azr__ws_send(r->arrived_on->ws, AZR__WS_TEXT, r->resp_json.data, r->resp_json.len);
  }
  /* Hold the body: a short response still fits the control channel; the timer moves a slow one. */
  r->flushing_timer = true;
  uv_timer_start(&r->timer, on_req_timer, FLUSH_AFTER_MS, 0);
  return AZR_OK;
}

int azr_http_response_write(azr_listener *l, azr_conn_id request_id, const void *data, size_t len) {
  struct azr__http_req *r;
  int rc = find_req(l, request_id, &r);
  if (rc) return rc;
  if (!r->begun || r->ended) return AZR_E_BAD_STATE;
  if (len && !data) return AZR_E_INVALID_ARG;
  if (!len) return AZR_OK;
  struct azr__ws *ws = r->arrived_on ? r->arrived_on->ws : (r->response_rv && r->response_rv->open ? r->response_rv->ws : NULL);
  if (r->arrived_on && !ws) return AZR_E_CLOSED;
  if (ws) {
    rc = azr__ws_send_part(ws, AZR__WS_BINARY, data, len, false);
    if (rc == AZR_E_WOULDBLOCK) r->want_ready = true;
    return rc;
  }
  if (r->resp_buf.len + len > r->resp_buf.max) {
    r->want_ready = true;
    return AZR_E_WOULDBLOCK;
  }
  rc = azr__buf_append(&r->resp_buf, data, len);
  if (rc) return rc;
  if (!r->response_rv && r->resp_buf.len > CONTROL_BODY_LIMIT) {
    r->flushing_timer = false;
    uv_timer_start(&r->timer, on_req_timer, REQUEST_LIFETIME_MS, 0);
    http_rv_connect(l, r->address, r);
  }
  return AZR_OK;
}

int azr_http_response_end(azr_listener *l, azr_conn_id request_id) {
  struct azr__http_req *r;
  int rc = find_req(l, request_id, &r);
  if (rc) return rc;
  if (!r->begun || r->ended) return AZR_E_BAD_STATE;
  r->ended = true;
  if (r->arrived_on) {
    if (!r->arrived_on->ws) return AZR_E_CLOSED;
    rc = azr__ws_send_part(r->arrived_on->ws, AZR__WS_BINARY, NULL, 0, true);
    req_release(r);
    return rc;
  }
  if (r->response_rv) {
    if (!r->response_rv->open) return AZR_OK; /* rv_open sends everything held, ending the message */
    struct azr__ws *ws = r->response_rv->ws;
    rc = azr__ws_send_part(ws, AZR__WS_BINARY, NULL, 0, true);
    (void)azr__ws_close(ws, 1000, "");
    req_release(r);
    return rc;
  }
  /* Everything fit: one control-channel response after all. */
  if (!l->control || !azr__listener_online(l)) return AZR_E_CLOSED;
  /* The head said body:true; an empty body is then an empty binary message (§5.6 rule 2). */
  rc = azr__ws_send(l->control, AZR__WS_TEXT, r->resp_json.data, r->resp_json.len);
  if (!rc) rc = azr__ws_send(l->control, AZR__WS_BINARY, r->resp_buf.data, r->resp_buf.len);
  req_release(r);
  return rc;
}

size_t azr_listener_get_http_request_count(const azr_listener *l) { return l ? l->http_count : 0; }

int azr_http_get_header(const azr_http_request_event *ev, const char *name, char *out, size_t out_len) {
  if (!ev || !name || !out || !out_len || !ev->request_headers) return AZR_E_INVALID_ARG;
  cJSON *root = cJSON_Parse(ev->request_headers);
  if (!root) return AZR_E_PARSE;
  int rc = AZR_E_NOT_FOUND;
  cJSON *item = NULL;
  cJSON_ArrayForEach(item, root) {
    if (!item->string || !azr__str_ieq(item->string, name) || !cJSON_IsString(item)) continue;
    size_t n = strlen(item->valuestring);
    rc = n + 1 > out_len ? AZR_E_TOO_BIG : AZR_OK;
    if (!rc) memcpy(out, item->valuestring, n + 1);
    break;
  }
  cJSON_Delete(root);
  return rc;
}
