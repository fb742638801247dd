/* SPDX-License-Identifier: MIT */
/* HTTP mode (§7): requests to https://ns/{hc}[/suffix] become `request` commands, on the control
 * channel when small (§7.2) or over a rendezvous WebSocket when large or chunked; `response`
 * commands become HTTP responses. One request at a time per sender connection (keep-alive), and a
 * rendezvous socket, once open, carries every later request of that connection (§7.2).
 *
 * A request's life (enum emu_req_state); every change goes through req_enter(), which checks it
 * against this table:
 *
 *   from \ to   | WAIT_BODY WAIT_RV SENT RESPONDING DONE | what moves it
 *   ------------+-----------------------------------------+----------------------------------------
 *   ROUTING     |     x        x      x              x    | route chosen (SENT: the connection's open
 *               |                                         |   rendezvous took the request); refusal
 *   WAIT_BODY   |                     x              x    | whole body here, command on the control
 *               |                                         |   channel; failure
 *   WAIT_RV     |                     x              x    | listener opened the rendezvous and the
 *               |                                         |   request went over it; deadline, failure
 *   SENT        |                          x         x    | response head to the sender; deadline,
 *               |                                         |   listener or sender gone
 *   RESPONDING  |                                    x    | response complete, cut or idle
 *   DONE        |                                         | (freed on a later loop turn)
 *
 * Failure is DONE after req_fail() answered (or cut off) the sender. The request body is not a state:
 * on a rendezvous it streams to the listener while the request is SENT and even RESPONDING (a
 * listener may answer early), so it has its own facts (has_body, body_done, body_sent). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator/emulator_internal.h"
#include "proto/http_field.h"
#include "proto/ws_handshake.h"
#include "util/limits.h"

#define MAX_PENDING_BODY (256u * 1024u) /* body bytes held while the rendezvous is being set up */

struct emu_http_req;

struct emu_http_conn {
  struct emu_http_conn *prev, *next;
  azr_emulator *em;
  struct azr__stream *s;
  struct azr__http1 *http;
  struct emu_http_req *cur;
  struct azr__buf backlog;   /* pipelined bytes read past the current request */
  struct azr__ws *rv;        /* sticky rendezvous socket */
  struct emu_listener *rv_listener;
  struct emu_entity *rv_entity;
  char peer[64]; /* holds a pending slot of this address (azr__emu_peer_acquire) */
  bool closing;
  /* Between requests: the next head must start within HttpKeepAliveTimeoutMs and, once started,
   * be complete within RequestHeadTimeoutMs (the front door's limit for the first one). */
  bool awaiting_head, head_started;
  uv_timer_t wait_timer;
  uv_timer_t reaper; /* closing it frees the connection on a later loop turn, never under a caller */
  int handles_open;
  struct emu_flow flow;    /* IdleTimeoutMs: the sender's connection */
  struct emu_flow rv_flow; /* ... and the rendezvous */
};

enum emu_req_state {
  EMU_REQ_ROUTING,    /* head received: authorizing, choosing the listener and the route; a request for
                       * the connection's open rendezvous also waits here for LatencyMs */
  EMU_REQ_WAIT_BODY,  /* control channel: the body is gathered whole before the command goes */
  EMU_REQ_WAIT_RV,    /* the listener was asked (after LatencyMs) to open a rendezvous for it */
  EMU_REQ_SENT,       /* the request command is out; waiting for the response head (deadline) */
  EMU_REQ_RESPONDING, /* the response head went to the sender; its body comes on the rendezvous */
  EMU_REQ_DONE        /* answered, failed or abandoned: freed on a later loop turn */
};

struct emu_http_req {
  struct emu_pending base; /* first: the pending map stores this pointer */
  enum emu_req_state state; /* changed only by req_enter() */
  struct emu_http_conn *conn;
  azr_emulator *em;
  struct emu_entity *entity;
  struct emu_listener *listener;
  char id[128];           /* rendezvous id, assigned once the request is authorized */
  char tracking_id[128];  /* the sender's sb-hc-id, for error texts before that */
  bool token_in_query;    /* sb-hc-token was given (so Authorization is not the relay's) */
  bool latency_pending;   /* LatencyMs: the command waits on r->timer */
  bool latency_paid;      /* ... and has waited */
  struct azr__http_head head;
  struct azr__buf target;   /* requestTarget for the listener */
  bool is_head;
  bool keep_alive;
  bool via_rendezvous; /* the route: the request, or (§7.5) only its response, is on the rendezvous */
  bool has_body;  /* the head announced a body */
  bool body_done; /* the sender's body is complete */
  bool body_sent; /* the rendezvous got the whole body, FIN included */
  struct azr__buf body;
  uv_timer_t timer;
  /* response */
  bool chunked;
  bool fixed_length;
  uint64_t remaining;
  struct azr__buf resp_json; /* text message being received on the rendezvous */
  uint8_t rv_opcode;
  uint64_t sender_written_mark; /* the sender's stream's bytes_written when the idle timer was armed */
};

static void conn_close_at(struct emu_http_conn *c, bool abort, int line);
#define conn_close(c, abort) conn_close_at((c), (abort), __LINE__)
static void conn_next(struct emu_http_conn *c);
static void send_full_request_on_rv(struct emu_http_req *r);
static void flush_request_body(struct emu_http_req *r);
static void start_request(struct emu_http_conn *c, struct azr__http_head *head, const uint8_t *rest, size_t rest_len);

static struct emu_http_conn *conns_head(azr_emulator *em) { return em->http_conns; }

/* ---- a request's life (the table at the top of the file) ---- */

#define TO(s) (1u << (s))
static const unsigned req_allowed[] = {
    [EMU_REQ_ROUTING] = TO(EMU_REQ_WAIT_BODY) | TO(EMU_REQ_WAIT_RV) | TO(EMU_REQ_SENT) | TO(EMU_REQ_DONE),
    [EMU_REQ_WAIT_BODY] = TO(EMU_REQ_SENT) | TO(EMU_REQ_DONE),
    [EMU_REQ_WAIT_RV] = TO(EMU_REQ_SENT) | TO(EMU_REQ_DONE),
    [EMU_REQ_SENT] = TO(EMU_REQ_RESPONDING) | TO(EMU_REQ_DONE),
    [EMU_REQ_RESPONDING] = TO(EMU_REQ_DONE),
    [EMU_REQ_DONE] = 0,
};
#undef TO

static const char *req_state_name(enum emu_req_state st) {
  static const char *const names[] = {"ROUTING", "WAIT_BODY", "WAIT_RV", "SENT", "RESPONDING", "DONE"};
  return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

/* The one place a request changes state. A change the table does not allow is a bug here: logged,
 * and fatal in builds with assertions (the sanitizer build) so the tests catch it. */
static void req_enter(struct emu_http_req *r, enum emu_req_state to) {
  bool allowed = (req_allowed[r->state] >> to) & 1u;
  if (!allowed)
    EMU_LOG(r->em, AZR_LOG_INFO, "bug: HTTP request %s: %s -> %s is not an allowed transition",
            r->id[0] ? r->id : r->tracking_id, req_state_name(r->state), req_state_name(to));
  assert(allowed);
  EMU_LOG(r->em, AZR_LOG_DEBUG, "HTTP request %s: %s -> %s", r->id[0] ? r->id : r->tracking_id,
          req_state_name(r->state), req_state_name(to));
  r->state = to;
}

/* The request command is out (control channel or rendezvous): responses and body bytes may flow. */
static bool command_out(const struct emu_http_req *r) {
  return r->state == EMU_REQ_SENT || r->state == EMU_REQ_RESPONDING;
}

/* ---- requests ---- */

static void on_req_timer_closed(uv_handle_t *h) {
  struct emu_http_req *r = h->data;
  azr__free(r->em->mem, r);
}

static void req_free(struct emu_http_req *r) {
  azr_emulator *em = r->em;
  if (r->id[0]) azr__strmap_remove(&em->pending, r->id);
  azr__http_head_free(&r->head);
  azr__buf_free(&r->target);
  azr__buf_free(&r->body);
  azr__buf_free(&r->resp_json);
  if (r->conn && r->conn->cur == r) r->conn->cur = NULL;
  r->base.kind = 0;
  req_enter(r, EMU_REQ_DONE);
  uv_timer_stop(&r->timer);
  uv_close((uv_handle_t *)&r->timer, on_req_timer_closed);
}

/* Answers the sender with a service error and ends the request (and the connection unless it can
 * carry more requests). */
static void req_fail(struct emu_http_req *r, int status, const char *code, const char *text) {
  struct emu_http_conn *c = r->conn;
  bool responding = r->state == EMU_REQ_RESPONDING;
  bool keep = r->keep_alive && r->body_done && !responding;
  if (responding) { /* too late for a status: cut the sender off */
    req_free(r);
    conn_close(c, true);
    return;
  }
  azr__emu_reply_http_error(r->em, c->s, status, code, text, r->id[0] ? r->id : r->tracking_id,
                       r->entity ? r->entity->path : NULL, keep);
  if (!keep) c->s = NULL;
  req_free(r);
  if (keep) conn_next(c);
  else conn_close(c, false);
}

static void on_response_idle(uv_timer_t *t);

static void on_req_timeout(uv_timer_t *t) {
  struct emu_http_req *r = t->data;
  req_fail(r, 504, "GatewayTimeout",
           "The request was routed to the listener but the listener did not respond in the required time.");
}

/* §7.7: a response streamed over the rendezvous may not stay idle longer than the response timeout.
 * A listener held back by a sender that reads slowly is not idling, but such a sender may not hold
 * the request (and its rendezvous) for ever either: it must take SENDER_MIN_PROGRESS bytes per
 * timeout period, or both are cut off. */
#define SENDER_MIN_PROGRESS (64u * 1024u)

static void arm_response_idle(struct emu_http_req *r) {
  r->sender_written_mark = r->conn && r->conn->s ? r->conn->s->bytes_written : 0;
  uv_timer_start(&r->timer, on_response_idle, r->em->settings.http_timeout_ms, 0);
}

static void on_response_idle(uv_timer_t *t) {
  struct emu_http_req *r = t->data;
  struct emu_http_conn *c = r->conn;
  if (c && c->s && azr__stream_queued(c->s) > 0 &&
      c->s->bytes_written - r->sender_written_mark >= SENDER_MIN_PROGRESS) {
    arm_response_idle(r);
    return;
  }
  bool sender_stalled = c && c->s && azr__stream_queued(c->s) > 0;
  EMU_LOG(r->em, AZR_LOG_INFO, "HTTP request %s: %s for %u ms: terminated", r->id,
          sender_stalled ? "the sender took too little of the response" : "the listener's response was idle",
          (unsigned)r->em->settings.http_timeout_ms);
  req_fail(r, 504, "GatewayTimeout", "The listener's response stayed idle for too long.");
}

static bool hop_by_hop(struct azr__span name, const struct azr__http_head *h) {
  static const char *const names[] = {"Connection", "Content-Length", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
                                      "Close", "Keep-Alive", "Proxy-Connection", "Expect"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (azr__span_ieq(name, names[i])) return true;
  /* Headers named by Connection are hop-by-hop too. */
  for (size_t i = 0; h && i < h->header_count; i++) {
    if (!azr__span_ieq(h->headers[i].name, "Connection")) continue;
    struct azr__span rest = h->headers[i].value;
    while (rest.len) {
      struct azr__span tok = azr__span_trim(azr__span_cut(rest, ',', &rest));
      if (tok.len == name.len && !strncasecmp(tok.ptr, name.ptr, name.len)) return true;
    }
  }
  return false;
}

/* The request command (full form, §5.4) for r; with_address false leaves the address out. */
static int write_request_json(struct emu_http_req *r, struct azr__buf *out, bool with_address, bool body) {
  azr_emulator *em = r->em;
  struct azr__hc_request q = {0};
  struct azr__buf address;
  azr__buf_init(&address, em->mem, AZR_MAX_URL);
  azr__buf_printf(&address, "%s://%s/$hc/%s?sb-hc-action=request&sb-hc-id=%s", em->plain ? "ws" : "wss",
                  azr__emu_control_rendezvous_host(r->listener), r->entity->path, r->id);
  q.address = with_address ? (char *)azr__buf_cstr(&address) : NULL;
  q.id = r->id;
  q.request_target = (char *)azr__buf_cstr(&r->target);
  char method[32];
  snprintf(method, sizeof method, "%.*s", (int)(r->head.method.len < 31 ? r->head.method.len : 31), r->head.method.ptr);
  q.method = method;
  q.remote.present = true;
  q.remote.address = r->conn->s ? r->conn->s->peer_addr : (char *)"";
  q.remote.port = r->conn->s ? r->conn->s->peer_port : 0;
  q.body = body ? AZR__HC_BODY_TRUE : AZR__HC_BODY_FALSE;
  int rc = AZR_OK;
  bool via_seen = false;
  /* §3.4: Authorization carried the token only when authorization is required and neither
   * sb-hc-token nor ServiceBusAuthorization was there; otherwise it is passed on as it is. */
  bool used_authorization = r->entity->requires_client_auth && !r->token_in_query &&
                            !azr__http_head_find(&r->head, "ServiceBusAuthorization");
  for (size_t i = 0; !rc && i < r->head.header_count; i++) {
    const struct azr__http_header *h = &r->head.headers[i];
    if (hop_by_hop(h->name, &r->head) || azr__span_ieq(h->name, "ServiceBusAuthorization")) continue;
    /* Authorization is the listener's own business unless the relay consumed it (§3.4). */
    if (azr__span_ieq(h->name, "Authorization") && used_authorization) continue;
    if (azr__span_ieq(h->name, "Via")) {
      struct azr__buf v;
      azr__buf_init(&v, em->mem, 8192);
      azr__buf_printf(&v, "%.*s, 1.1 %s", (int)h->value.len, h->value.ptr, em->namespace_host);
      rc = azr__hc_headers_add(em->mem, &q.request_headers, h->name.ptr, h->name.len, (const char *)v.data, v.len);
      azr__buf_free(&v);
      via_seen = true;
      continue;
    }
    rc = azr__hc_headers_add(em->mem, &q.request_headers, h->name.ptr, h->name.len, h->value.ptr, h->value.len);
  }
  if (!rc && !via_seen) {
    char via[300];
    int n = snprintf(via, sizeof via, "1.1 %s", em->namespace_host);
    rc = azr__hc_headers_add(em->mem, &q.request_headers, "Via", 3, via, (size_t)n);
  }
  if (!rc) rc = azr__hc_cmd_write_request(out, &q);
  azr__hc_headers_free(em->mem, &q.request_headers);
  azr__buf_free(&address);
  return rc;
}

static void arm_deadline(struct emu_http_req *r) {
  uv_timer_start(&r->timer, on_req_timeout, r->em->settings.http_timeout_ms, 0);
}

/* LatencyMs (fault injection): a request command waits that long before it goes to the listener,
 * as accept commands do (sender.c). True when the caller must stop: `resume` sends it later. */
static bool delay_command(struct emu_http_req *r, uv_timer_cb resume) {
  if (r->latency_pending) return true;
  if (!r->em->settings.latency_ms || r->latency_paid) return false;
  r->latency_pending = r->latency_paid = true;
  uv_timer_start(&r->timer, resume, r->em->settings.latency_ms, 0);
  return true;
}

static void deliver_on_control(struct emu_http_req *r);

static void on_deliver_due(uv_timer_t *t) {
  struct emu_http_req *r = t->data;
  r->latency_pending = false;
  deliver_on_control(r);
}

/* Delivers a small request with its whole body on the control channel. */
static void deliver_on_control(struct emu_http_req *r) {
  if (delay_command(r, on_deliver_due)) return;
  struct azr__buf json;
  azr__buf_init(&json, r->em->mem, AZR_MAX_CONTROL_MSG);
  int rc = write_request_json(r, &json, true, r->body.len > 0);
  if (!rc && !azr__emu_control_alive(r->entity, r->listener)) rc = AZR_E_CLOSED;
  if (!rc) rc = azr__emu_control_send(r->listener, (const char *)json.data, json.len, r->body.data, r->body.len, r->body.len > 0);
  azr__buf_free(&json);
  if (rc) {
    req_fail(r, 502, "BadGateway", "The listener could not be reached.");
    return;
  }
  req_enter(r, EMU_REQ_SENT);
  azr__buf_free(&r->body);
  arm_deadline(r);
}

static void request_rendezvous(struct emu_http_req *r);

static void on_rendezvous_request_due(uv_timer_t *t) {
  struct emu_http_req *r = t->data;
  r->latency_pending = false;
  request_rendezvous(r);
}

/* Asks the listener to open a rendezvous socket for r (§5.5). */
static void request_rendezvous(struct emu_http_req *r) {
  if (delay_command(r, on_rendezvous_request_due)) return;
  azr_emulator *em = r->em;
  struct azr__buf address, json;
  azr__buf_init(&address, em->mem, AZR_MAX_URL);
  azr__buf_init(&json, em->mem, AZR_MAX_CONTROL_MSG);
  azr__buf_printf(&address, "%s://%s/$hc/%s?sb-hc-action=request&sb-hc-id=%s", em->plain ? "ws" : "wss",
                  azr__emu_control_rendezvous_host(r->listener), r->entity->path, r->id);
  struct azr__hc_request q = {0};
  q.address = (char *)azr__buf_cstr(&address);
  q.id = r->id;
  int rc = azr__hc_cmd_write_request(&json, &q);
  if (!rc) rc = azr__emu_control_send(r->listener, (const char *)json.data, json.len, NULL, 0, false);
  azr__buf_free(&address);
  azr__buf_free(&json);
  if (rc) {
    req_fail(r, 502, "BadGateway", "The listener could not be reached.");
    return;
  }
  arm_deadline(r);
}

/* ---- response to the sender ---- */

static void write_response_head(struct emu_http_req *r, const struct azr__hc_response *resp, bool body_follows,
                                size_t control_body_len) {
  azr_emulator *em = r->em;
  struct azr__buf out;
  azr__buf_init(&out, em->mem, 0);
  int status = resp->status_code;
  char reason[256];
  snprintf(reason, sizeof reason, "%s",
           resp->status_description && *resp->status_description ? resp->status_description : azr__http_reason(status));
  for (char *p = reason; *p; p++)
    if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f) *p = ' ';
  azr__buf_printf(&out, "HTTP/1.1 %d %s\r\n", status, reason);
  const char *listener_length = NULL;
  for (size_t i = 0; i < resp->response_headers.count; i++) {
    const struct azr__hc_header *h = &resp->response_headers.items[i];
    struct azr__span name = azr__span_of(h->name);
    if (azr__span_ieq(name, "Content-Length")) {
      listener_length = h->value;
      continue;
    }
    if (hop_by_hop(name, NULL) || azr__span_ieq(name, "Via")) continue;
    /* A listener's header that could split the head is dropped, not passed on. */
    if (!azr__http_field_name_ok(h->name, strlen(h->name)) || !azr__http_field_value_ok(h->value, strlen(h->value)))
      continue;
    azr__buf_printf(&out, "%s: %s\r\n", h->name, h->value);
  }
  const char *via = azr__hc_headers_get(&resp->response_headers, "Via");
  if (via) azr__buf_printf(&out, "Via: %s, 1.1 %s\r\n", via, em->namespace_host);
  else azr__buf_printf(&out, "Via: 1.1 %s\r\n", em->namespace_host);
  bool no_body = r->is_head || status == 204 || status == 304 || (status >= 100 && status < 200);
  if (!body_follows) {
    if (!no_body) azr__buf_printf(&out, "Content-Length: %zu\r\n", control_body_len);
    else if (r->is_head && listener_length) azr__buf_printf(&out, "Content-Length: %s\r\n", listener_length);
  } else if (no_body) {
    if (r->is_head && listener_length) azr__buf_printf(&out, "Content-Length: %s\r\n", listener_length);
  } else if (listener_length && strtoull(listener_length, NULL, 10) < (1ull << 62)) {
    r->fixed_length = true;
    r->remaining = strtoull(listener_length, NULL, 10);
    azr__buf_printf(&out, "Content-Length: %llu\r\n", (unsigned long long)r->remaining);
  } else {
    r->chunked = true;
    azr__buf_append_str(&out, "Transfer-Encoding: chunked\r\n");
  }
  if (!r->keep_alive) azr__buf_append_str(&out, "Connection: close\r\n");
  azr__buf_append_str(&out, "\r\n");
  req_enter(r, EMU_REQ_RESPONDING);
  if (r->conn->s) (void)azr__stream_write(r->conn->s, out.data, out.len);
  azr__buf_free(&out);
  if (r->is_head || status == 204 || status == 304) {
    r->chunked = false;
    r->fixed_length = false;
  }
}

static void write_body_piece(struct emu_http_req *r, const uint8_t *data, size_t len) {
  struct azr__stream *s = r->conn->s;
  if (!s || !len || r->is_head) return;
  if (r->chunked) {
    char hdr[24];
    int n = snprintf(hdr, sizeof hdr, "%zx\r\n", len);
    (void)azr__stream_write2(s, hdr, (size_t)n, data, len);
    (void)azr__stream_write(s, "\r\n", 2);
  } else if (r->fixed_length) {
    size_t n = len > r->remaining ? (size_t)r->remaining : len;
    (void)azr__stream_write(s, data, n);
    r->remaining -= n;
  }
}

/* The response is complete: end the body framing and move to the next request. */
static void response_done(struct emu_http_req *r, bool clean) {
  struct emu_http_conn *c = r->conn;
  bool keep = r->keep_alive && r->body_done && clean;
  if (r->chunked && c->s) (void)azr__stream_write(c->s, "0\r\n\r\n", 5);
  if (r->fixed_length && r->remaining) keep = false, clean = false; /* listener sent less than announced */
  req_free(r);
  if (!clean) conn_close(c, true);
  else if (!keep) conn_close(c, false);
  else conn_next(c);
}

void azr__emu_http_control_response(azr_emulator *em, struct emu_listener *l, struct azr__hc_response *resp,
                               const uint8_t *body, size_t body_len) {
  struct emu_pending *p = azr__strmap_get(&em->pending, resp->request_id ? resp->request_id : "");
  if (!p || p->kind != EMU_PENDING_HTTP) return; /* unknown or late: dropped (§5.6 rule 3) */
  struct emu_http_req *r = (struct emu_http_req *)p;
  /* Only the command's listener answers, and only once: the id it answers to came with the command. */
  if (r->listener != l || r->via_rendezvous || r->state != EMU_REQ_SENT) return;
  write_response_head(r, resp, false, body_len);
  if (body_len && r->conn->s && !r->is_head && resp->status_code != 204 && resp->status_code != 304)
    (void)azr__stream_write(r->conn->s, body, body_len);
  response_done(r, true);
}

/* ---- the rendezvous socket (§7.4) ---- */

static void rv_message_begin(struct azr__ws *ws, uint8_t opcode) {
  struct emu_http_conn *c = azr__ws_user_data(ws);
  struct emu_http_req *r = c->cur;
  if (!r) return;
  r->rv_opcode = opcode;
  if (opcode == AZR__WS_TEXT) azr__buf_reset(&r->resp_json);
}

static void rv_message_data(struct azr__ws *ws, uint8_t *data, size_t len, bool frame_end, bool message_end) {
  (void)frame_end;
  struct emu_http_conn *c = azr__ws_user_data(ws);
  struct emu_http_req *r = c->cur;
  if (!r || !command_out(r)) return;
  if (r->rv_opcode == AZR__WS_TEXT) {
    if (r->state == EMU_REQ_RESPONDING) {
      /* §5.6 rule 5: a text message while a body was expected ends that body. */
      response_done(r, true);
      return;
    }
    if (azr__buf_append(&r->resp_json, data, len) != AZR_OK) {
      conn_close(c, true);
      return;
    }
    if (!message_end) return;
    struct azr__hc_cmd cmd;
    char err[160];
    if (azr__hc_cmd_parse(r->em->mem, r->resp_json.data, r->resp_json.len, &cmd, err, sizeof err) != AZR_OK ||
        cmd.type != AZR__HC_CMD_RESPONSE) {
      EMU_LOG(r->em, AZR_LOG_INFO, "HTTP rendezvous: listener sent something other than a response");
      if (cmd.type) azr__hc_cmd_free(r->em->mem, &cmd);
      return;
    }
    uv_timer_stop(&r->timer);
    write_response_head(r, &cmd.u.response, cmd.u.response.body, 0);
    bool body = cmd.u.response.body;
    azr__hc_cmd_free(r->em->mem, &cmd);
    if (!body) response_done(r, true);
    else arm_response_idle(r); /* RESPONDING: the body follows in binary messages */
    return;
  }
  /* binary: response body */
  if (r->state != EMU_REQ_RESPONDING) return;
  arm_response_idle(r);
  write_body_piece(r, data, len);
  if (c->s && azr__stream_queued(c->s) >= c->s->high_water) azr__ws_pause(ws);
  if (message_end) response_done(r, true);
}

static void rv_writable(struct azr__ws *ws) {
  struct emu_http_conn *c = azr__ws_user_data(ws);
  if (c->cur) flush_request_body(c->cur);
}

static void rv_close(struct azr__ws *ws, int status, uint16_t code, const char *reason) {
  struct emu_http_conn *c = azr__ws_user_data(ws);
  EMU_LOG(c->em, AZR_LOG_VERBOSE, "HTTP rendezvous closed: %s %u %s", azr_status_name(status), code, reason);
  c->rv = NULL;
  azr__emu_flow_remove(c->em, &c->rv_flow);
  struct emu_http_req *r = c->cur;
  /* The listener closing its rendezvous ends the sender's connection too (§7.6). */
  if (r && r->via_rendezvous && command_out(r)) {
    if (r->state == EMU_REQ_RESPONDING && status == AZR_OK) {
      response_done(r, true); /* Java never sends the final FIN frame (§13.2): end the body here */
      if (c->s && !c->cur) conn_close(c, false);
      return;
    }
    if (r->state != EMU_REQ_RESPONDING) {
      req_fail(r, 502, "BadGateway", "The listener closed the rendezvous before responding.");
      return;
    }
    req_free(r);
  }
  /* With no request in flight the sender has everything: close after the queued bytes. A response
   * cut short is an abort, so the sender can tell. */
  conn_close(c, r != NULL);
}

/* Lets go of the rendezvous: it closes with code (0 = none: the black hole of an idle cut) and no
 * callback of it reaches the connection any more. */
static void rv_drop(struct emu_http_conn *c, uint16_t code, const char *reason) {
  struct azr__ws *rv = c->rv;
  if (!rv) return;
  c->rv = NULL;
  azr__emu_flow_remove(c->em, &c->rv_flow);
  static const struct azr__ws_callbacks none = {0};
  azr__ws_set_callbacks(rv, &none);
  azr__ws_set_user_data(rv, NULL);
  if (code) {
    azr__ws_close(rv, code, reason);
    return;
  }
  struct azr__stream *s = azr__ws_detach_stream(rv);
  if (s) azr__emu_black_hole_take(c->em, s);
}

/* The rendezvous was cut for idleness (idle.c). Reset: the listener's connection is lost, as
 * rv_close handles. Black hole: the service does not notice; the request runs into its deadline. */
static void rv_idle(struct emu_flow *flow, bool reset) {
  struct emu_http_conn *c = EMU_CONTAINER(flow, struct emu_http_conn, rv_flow);
  if (!c->rv) return;
  if (reset) azr__ws_abort(c->rv);
  else rv_drop(c, 0, NULL);
}

static const struct azr__ws_callbacks rv_cb = {.on_message_begin = rv_message_begin,
                                               .on_message_data = rv_message_data,
                                               .on_writable = rv_writable,
                                               .on_close = rv_close};

/* Moves held request-body bytes to the rendezvous (ending the message once the sender's body is
 * complete); keeps them when the socket's queue is full, and paces the sender accordingly. */
static void flush_request_body(struct emu_http_req *r) {
  struct emu_http_conn *c = r->conn;
  if (!r->via_rendezvous || !command_out(r) || !c->rv || !r->has_body || r->body_sent) return;
  if (r->body.len || r->body_done) {
    int rc = azr__ws_send_part(c->rv, AZR__WS_BINARY, r->body.data, r->body.len, r->body_done);
    if (rc == AZR_E_WOULDBLOCK) {
      if (c->s) azr__stream_pause(c->s); /* resumed from rv_writable */
      return;
    }
    azr__buf_reset(&r->body);
    if (r->body_done) r->body_sent = true;
  }
  if (c->s && !r->body_done) azr__stream_resume(c->s);
}

static void on_rv_request_due(uv_timer_t *t) {
  struct emu_http_req *r = t->data;
  r->latency_pending = false;
  if (r->conn->rv) send_full_request_on_rv(r);
  else req_fail(r, 502, "BadGateway", "The rendezvous with the listener failed.");
}

/* Sends the full request over the rendezvous and whatever body bytes are already here. */
static void send_full_request_on_rv(struct emu_http_req *r) {
  if (delay_command(r, on_rv_request_due)) return;
  struct emu_http_conn *c = r->conn;
  struct azr__buf json;
  azr__buf_init(&json, r->em->mem, AZR_MAX_CONTROL_MSG);
  bool body = r->has_body;
  /* Whether the service repeats the address here is unknown (§7.4): RendezvousRequestAddress. */
  int rc = write_request_json(r, &json, r->em->settings.rendezvous_request_address, body);
  if (!rc) rc = azr__ws_send(c->rv, AZR__WS_TEXT, json.data, json.len);
  azr__buf_free(&json);
  if (rc) {
    req_fail(r, 502, "BadGateway", "The rendezvous with the listener failed.");
    return;
  }
  req_enter(r, EMU_REQ_SENT);
  arm_deadline(r);
  flush_request_body(r);
}

void azr__emu_http_rendezvous(azr_emulator *em, struct azr__stream *s, struct azr__http_head *head,
                         const struct azr__hc_target *target, const uint8_t *leftover, size_t leftover_len) {
  char id[128];
  snprintf(id, sizeof id, "%.*s", (int)(target->id.len < 120 ? target->id.len : 120), target->id.ptr);
  struct emu_pending *p = azr__strmap_get(&em->pending, id);
  struct emu_http_req *r = p && p->kind == EMU_PENDING_HTTP ? (struct emu_http_req *)p : NULL;
  /* Two reasons to come here: we asked for a rendezvous (large request, §7.4), or the listener
   * chose one to send a large response to a request it got on the control channel (§7.5). */
  bool for_request = r && r->state == EMU_REQ_WAIT_RV;
  bool for_response = r && !r->via_rendezvous && r->state == EMU_REQ_SENT;
  if (!r || r->conn->rv || (!for_request && !for_response)) {
    azr__emu_reply_ws_error(em, s, 403, "The rendezvous URL is not valid or has expired.", id, NULL);
    return;
  }
  const struct azr__http_header *key = azr__http_head_find(head, "Sec-WebSocket-Key");
  char keybuf[64];
  snprintf(keybuf, sizeof keybuf, "%.*s", (int)(key->value.len < 60 ? key->value.len : 60), key->value.ptr);
  struct azr__ws_options opt;
  azr__ws_options_default(&opt);
  opt.session.buffer_messages = false;
  struct emu_http_conn *c = r->conn;
  if (azr__ws_accept(s, keybuf, NULL, leftover, leftover_len, &opt, &rv_cb, c, &c->rv) != AZR_OK) {
    azr__emu_reply_ws_error(em, s, 500, "Internal error.", id, NULL);
    return;
  }
  c->rv_listener = r->listener;
  c->rv_entity = r->entity;
  azr__emu_flow_add(em, &c->rv_flow, NULL, c->rv, rv_idle);
  r->via_rendezvous = true;
  if (for_request) send_full_request_on_rv(r);
}

/* ---- the sender's connection ---- */

static int on_req_head(void *ud, struct azr__http_head *head) {
  struct emu_http_conn *c = ud;
  c->awaiting_head = c->head_started = false;
  uv_timer_stop(&c->wait_timer);
  struct azr__http_head h = *head;
  memset(head, 0, sizeof *head);
  start_request(c, &h, NULL, 0);
  return c->cur ? 0 : 1;
}

static int on_req_body(void *ud, const uint8_t *data, size_t len) {
  struct emu_http_conn *c = ud;
  struct emu_http_req *r = c->cur;
  if (!r) return 1;
  /* Held until it can go: the whole body for the control channel, or what the rendezvous has not
   * taken yet. Pausing bounds it; the rest of the current read buffer still fits the cap. */
  if (azr__buf_append(&r->body, data, len) != AZR_OK) {
    req_fail(r, 413, "RequestTooLarge", "The request body could not be buffered.");
    return 1;
  }
  if (r->via_rendezvous) {
    flush_request_body(r);
    if (r->body.len >= MAX_PENDING_BODY && c->s) azr__stream_pause(c->s);
  }
  return 0;
}

static int on_req_complete(void *ud) {
  struct emu_http_conn *c = ud;
  struct emu_http_req *r = c->cur;
  if (!r) return 1;
  r->body_done = true;
  if (!r->via_rendezvous) {
    if (r->state == EMU_REQ_WAIT_BODY) deliver_on_control(r); /* a body-less request may already be out */
  } else {
    flush_request_body(r);
  }
  return 1; /* one request at a time: later bytes wait in the backlog */
}

static const struct azr__http1_callbacks parser_cb = {on_req_head, on_req_body, on_req_complete};

static void on_wait_timer(uv_timer_t *t);

static void feed(struct emu_http_conn *c, const uint8_t *data, size_t len) {
  if (len && c->awaiting_head && !c->head_started) {
    c->head_started = true;
    uv_timer_start(&c->wait_timer, on_wait_timer, c->em->settings.head_timeout_ms, 0);
  }
  while (len && !c->closing) {
    long used = azr__http1_feed(c->http, data, len);
    if (c->closing) return; /* a callback refused the request and ended the connection */
    if (used < 0) {
      if (c->cur) req_fail(c->cur, 400, "BadRequest", "Malformed HTTP request.");
      else {
        azr__emu_reply_http_error(c->em, c->s, 400, "BadRequest", "Malformed HTTP request.", NULL, NULL, false);
        c->s = NULL;
        conn_close(c, false);
      }
      return;
    }
    data += used;
    len -= (size_t)used;
    if (len && !c->closing) {
      /* The parser stopped (request complete, or refused): keep the rest for later. */
      if (azr__buf_append(&c->backlog, data, len) != AZR_OK) conn_close(c, true);
      if (c->s) azr__stream_pause(c->s);
      return;
    }
  }
}

static void conn_read(struct azr__stream *s, uint8_t *data, size_t len) {
  struct emu_http_conn *c = s->owner;
  if (c->backlog.len) {
    if (azr__buf_append(&c->backlog, data, len) != AZR_OK) conn_close(c, true);
    azr__stream_pause(s);
    return;
  }
  feed(c, data, len);
}

static void conn_end(struct azr__stream *s, int status) {
  struct emu_http_conn *c = s->owner;
  EMU_LOG(c->em, AZR_LOG_VERBOSE, "HTTP sender %s:%u went away (%s%s%s)", s->peer_addr, s->peer_port,
          status ? azr_status_name(status) : "closed", status ? ": " : "", status ? azr__stream_error(s) : "");
  /* The sender went away: its request (if any) is abandoned. */
  if (c->cur) req_free(c->cur);
  conn_close(c, true);
}

static void conn_drain(struct azr__stream *s) {
  struct emu_http_conn *c = s->owner;
  if (c->rv) azr__ws_resume(c->rv);
}

static const struct azr__stream_callbacks conn_cb = {NULL, conn_read, conn_end, conn_drain};

/* The sender's connection was cut for idleness (idle.c): as if the sender had gone (conn_end), but
 * a black-holed connection is kept silent. */
static void conn_idle(struct emu_flow *flow, bool reset) {
  struct emu_http_conn *c = EMU_CONTAINER(flow, struct emu_http_conn, flow);
  if (c->closing) return;
  azr__emu_idle_cut_stream(c->em, c->s, reset);
  c->s = NULL;
  if (c->cur) req_free(c->cur);
  conn_close(c, true);
}

static void on_reaper_closed(uv_handle_t *h) {
  struct emu_http_conn *c = h->data;
  azr_emulator *em = c->em;
  if (--c->handles_open > 0) return;
  if (c->http) {
    azr__http1_free(c->http);
    azr__free(em->mem, c->http);
  }
  azr__buf_free(&c->backlog);
  azr__free(em->mem, c);
}

static void on_conn_closed_free(struct emu_http_conn *c) {
  azr_emulator *em = c->em;
  azr__emu_peer_release(em, c->peer);
  azr__emu_relay_connections_changed(em, -1);
  if (c->prev) c->prev->next = c->next;
  else em->http_conns = c->next;
  if (c->next) c->next->prev = c->prev;
  uv_timer_stop(&c->wait_timer);
  uv_close((uv_handle_t *)&c->wait_timer, on_reaper_closed);
  uv_close((uv_handle_t *)&c->reaper, on_reaper_closed);
}

static void conn_close_at(struct emu_http_conn *c, bool abort, int line) {
  if (c->closing) return;
  c->closing = true;
  EMU_LOG(c->em, AZR_LOG_VERBOSE, "HTTP connection %s:%u closed (%s, http_relay.c:%d)", c->s ? c->s->peer_addr : "?",
          c->s ? c->s->peer_port : 0, abort ? "abort" : "orderly", line);
  if (c->cur) req_free(c->cur);
  azr__emu_flow_remove(c->em, &c->flow);
  if (c->s) azr__stream_close(c->s, abort ? AZR__CLOSE_ABORT : AZR__CLOSE_FLUSH);
  c->s = NULL;
  rv_drop(c, 1001, "The sender closed its connection.");
  on_conn_closed_free(c);
}

static void on_wait_timer(uv_timer_t *t) {
  struct emu_http_conn *c = t->data;
  if (c->head_started) {
    EMU_LOG(c->em, AZR_LOG_VERBOSE, "HTTP connection %s: no complete request head within %u ms", c->peer,
            (unsigned)c->em->settings.head_timeout_ms);
    conn_close(c, true);
  } else {
    conn_close(c, false); /* idle keep-alive connection: an orderly close */
  }
}

/* The previous request is done: continue with pipelined bytes, then the socket. */
static void conn_next(struct emu_http_conn *c) {
  if (c->closing || !c->s) return;
  c->awaiting_head = true;
  c->head_started = false;
  uv_timer_start(&c->wait_timer, on_wait_timer, c->em->settings.http_keepalive_timeout_ms, 0);
  azr__http1_resume(c->http);
  if (c->backlog.len) {
    struct azr__buf b = c->backlog;
    azr__buf_init(&c->backlog, c->em->mem, 4u * 1024u * 1024u);
    feed(c, b.data, b.len);
    azr__buf_free(&b);
    if (c->closing || c->backlog.len || c->cur) return;
  }
  if (c->s) azr__stream_resume(c->s);
}

/* §7.2 (the article: "larger than 64 KB headers plus body"): a request whose command (the JSON
 * with its headers) and body together exceed 64 KiB goes over a rendezvous; so does one whose
 * command alone would not fit a control message. */
static bool too_big_for_control(struct emu_http_req *r) {
  uint64_t body = r->head.has_content_length ? r->head.content_length : 0;
  if (body > AZR_MAX_CONTROL_BODY) return true;
  struct azr__buf json;
  azr__buf_init(&json, r->em->mem, AZR_MAX_CONTROL_MSG);
  int rc = write_request_json(r, &json, true, body > 0);
  size_t len = json.len;
  azr__buf_free(&json);
  return rc != AZR_OK || len + body > AZR_MAX_CONTROL_BODY;
}

static void start_request(struct emu_http_conn *c, struct azr__http_head *head, const uint8_t *rest, size_t rest_len) {
  azr_emulator *em = c->em;
  (void)rest;
  (void)rest_len;
  struct azr__hc_target target;
  struct azr__span suffix;
  struct emu_entity *e = NULL;
  if (azr__hc_target_parse(head->target, &target) == AZR_OK && !target.is_hc) e = azr__emu_entity_match(em, target.path, &suffix);
  if (!e) {
    azr__emu_reply_http_error(em, c->s, 404, "EndpointNotFound", "Endpoint does not exist.", NULL, NULL, false);
    c->s = NULL;
    azr__http_head_free(head);
    conn_close(c, false);
    return;
  }
  struct emu_http_req *r = azr__calloc(em->mem, 1, sizeof *r);
  if (!r) {
    azr__http_head_free(head);
    conn_close(c, true);
    return;
  }
  r->base.kind = EMU_PENDING_HTTP;
  r->conn = c;
  r->em = em;
  r->entity = e;
  r->head = *head;
  memset(head, 0, sizeof *head);
  r->is_head = azr__span_eq(r->head.method, "HEAD");
  r->keep_alive = r->head.keep_alive;
  azr__buf_init(&r->target, em->mem, AZR_MAX_URL);
  /* Control-channel bodies are at most 64 KiB; held rendezvous bytes stop at MAX_PENDING_BODY plus
   * what one read can still deliver after the pause. */
  azr__buf_init(&r->body, em->mem, AZR_MAX_CONTROL_BODY + MAX_PENDING_BODY + 256u * 1024u);
  azr__buf_init(&r->resp_json, em->mem, AZR_MAX_CONTROL_MSG);
  uv_timer_init(&em->loop, &r->timer);
  r->timer.data = r;
  c->cur = r;
  r->body_done = !r->head.chunked && (!r->head.has_content_length || r->head.content_length == 0);
  r->has_body = !r->body_done; /* known from the head: the rendezvous request must say so up front */
  snprintf(r->tracking_id, sizeof r->tracking_id, "%.*s", (int)(target.id.len < 100 ? target.id.len : 100),
           target.id.ptr);
  r->token_in_query = target.has_token;
  if (azr__hc_request_target(&r->target, &target) != AZR_OK) {
    req_fail(r, 400, "BadRequest", "The request target is malformed.");
    return;
  }
  if (e->requires_client_auth) {
    char msg[200];
    int status = azr__emu_authorize(em, &r->head, &target, e, AZR__RIGHT_SEND, true, NULL, msg, sizeof msg);
    if (status) {
      r->keep_alive = false;
      req_fail(r, status, "TokenMissingOrInvalid", msg);
      return;
    }
  }
  /* Only an authorized request gets a rendezvous id: nothing about ids leaks before that. */
  if (azr__emu_new_id(target.id, r->id) != AZR_OK || azr__strmap_put(&em->pending, r->id, r) != AZR_OK) {
    r->id[0] = 0;
    req_fail(r, 500, "InternalError", "Internal error.");
    return;
  }
  /* A connection that already has a rendezvous sends every later request over it (§7.2). */
  if (c->rv && c->rv_entity == e && azr__emu_control_alive(e, c->rv_listener)) {
    r->listener = c->rv_listener;
    r->via_rendezvous = true;
    send_full_request_on_rv(r); /* SENT, or still ROUTING while LatencyMs runs */
  } else {
    rv_drop(c, 1000, ""); /* its end must not end the connection now serving another request */
    bool filtered;
    r->listener = azr__emu_control_pick(em, e, &r->head, &filtered);
    if (!r->listener) {
      if (filtered)
        req_fail(r, 404, "EndpointNotFound",
                 "None of the connected listeners meet the AllowedListeners/DisallowedListeners criteria");
      else
        req_fail(r, em->settings.no_listener_http_status, "ListenerNotFound",
                 "There are no listeners connected for the endpoint.");
      return;
    }
    r->via_rendezvous = r->head.chunked || too_big_for_control(r);
    req_enter(r, r->via_rendezvous ? EMU_REQ_WAIT_RV : EMU_REQ_WAIT_BODY);
    if (r->via_rendezvous) request_rendezvous(r);
  }
  if (c->cur != r) return;
  const struct azr__http_header *expect = azr__http_head_find(&r->head, "Expect");
  if (expect && azr__span_ieq(expect->value, "100-continue") && !r->body_done && c->s)
    (void)azr__stream_write(c->s, "HTTP/1.1 100 Continue\r\n\r\n", 25);
  if (r->body_done && r->state == EMU_REQ_WAIT_BODY) deliver_on_control(r);
}

void azr__emu_http_request(azr_emulator *em, struct azr__stream *s, struct azr__http1 *parser,
                      struct azr__http_head *head, struct emu_entity *entity, struct azr__span suffix,
                      const uint8_t *leftover, size_t leftover_len) {
  (void)entity;
  (void)suffix;
  struct emu_http_conn *c = azr__calloc(em->mem, 1, sizeof *c);
  if (!c) {
    azr__emu_peer_release(em, s->peer_addr);
    azr__emu_relay_connections_changed(em, -1);
    azr__http1_free(parser);
    azr__free(em->mem, parser);
    azr__http_head_free(head);
    azr__stream_close(s, AZR__CLOSE_ABORT);
    return;
  }
  c->em = em;
  snprintf(c->peer, sizeof c->peer, "%s", s->peer_addr);
  uv_timer_init(&em->loop, &c->reaper);
  uv_timer_init(&em->loop, &c->wait_timer);
  c->reaper.data = c->wait_timer.data = c;
  c->handles_open = 2;
  c->s = s;
  c->http = parser;
  c->http->cb = parser_cb;
  c->http->ud = c;
  azr__buf_init(&c->backlog, em->mem, 4u * 1024u * 1024u);
  c->next = em->http_conns;
  if (c->next) c->next->prev = c;
  em->http_conns = c;
  azr__stream_set_owner(s, &conn_cb, c);
  azr__emu_flow_add(em, &c->flow, s, NULL, conn_idle);
  azr__http1_resume(c->http);
  start_request(c, head, NULL, 0);
  if (c->closing) return;
  if (leftover_len) {
    uint8_t *copy = azr__malloc(em->mem, leftover_len);
    if (!copy) {
      conn_close(c, true);
      return;
    }
    memcpy(copy, leftover, leftover_len);
    feed(c, copy, leftover_len);
    azr__free(em->mem, copy);
  }
}

void azr__emu_http_listener_gone(azr_emulator *em, struct emu_listener *l) {
  for (struct emu_http_conn *c = conns_head(em); c;) {
    struct emu_http_conn *next = c->next;
    struct emu_http_req *r = c->cur;
    if (r && r->listener == l && r->state != EMU_REQ_RESPONDING && !(r->via_rendezvous && c->rv))
      req_fail(r, 502, "BadGateway", "The listener disconnected before responding.");
    c = next;
  }
}

void azr__emu_http_close_all(azr_emulator *em) {
  while (conns_head(em)) conn_close(conns_head(em), true);
}
