/* SPDX-License-Identifier: MIT */
/* Connection requests (§5.3, §6.3, §6.4): the ConnectionRequest event with AllowedClients,
 * BlockedClients and MaxConnections pre-decided, then the rendezvous (accept) or the reject
 * handshake; and the table of connections by id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listener/listener_internal.h"
#include "proto/access_list.h"
#include "proto/hc_url.h"
#include "util/limits.h"

#define DEFER_DEADLINE_MS 25000u /* the relay holds a sender about 30 s (§6.5) */
/* Reject handshakes in flight at once. The relay answers each in one round trip (410), so a healthy
 * listener has a handful; beyond this a flood of requests is left unanswered (the relay gives up on
 * the sender by itself, §6.5) instead of growing one outbound connection per request. */
#define MAX_REJECTS_IN_FLIGHT 64u

struct azr__conn *azr__conn_find(const azr_listener *l, azr_conn_id id) { return azr__idmap_get(&l->conn_map, id); }

static void on_conn_timer_closed(uv_handle_t *h) {
  struct azr__conn *c = h->data;
  azr_listener *l = c->l;
  const struct azr__mem *mem = l->mem;
  azr__free(mem, c->address);
  azr__free(mem, c->relay_id);
  azr__free(mem, c->connect_headers);
  azr__free(mem, c->host);
  azr__free(mem, c->remote_address);
  azr__free(mem, c->sub_protocols);
  azr__free(mem, c->extensions);
  azr__free(mem, c->path);
  azr__free(mem, c);
  azr__listener_maybe_release(l);
}

/* Removes the connection from the table; memory goes on a later loop turn. */
void azr__conn_release(struct azr__conn *c) {
  azr_listener *l = c->l;
  if (c->state == AZR__CONN_DONE && !azr__idmap_get(&l->conn_map, c->id)) return;
  c->state = AZR__CONN_DONE;
  azr__idmap_remove(&l->conn_map, c->id);
  if (c->prev) c->prev->next = c->next;
  else l->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  c->prev = c->next = NULL;
  l->conn_count--;
  l->stats.bytes_received += c->total_received;
  l->stats.bytes_sent += c->total_sent;
  uv_timer_stop(&c->timer);
  uv_close((uv_handle_t *)&c->timer, on_conn_timer_closed);
}

/* ---- reject handshakes (§6.4): the relay answers 410 Gone when it took the rejection ---- */

static void forget_reject(azr_listener *l, struct azr__ws *ws) {
  for (size_t i = 0; i < l->reject_count; i++)
    if (l->rejects[i] == ws) {
      l->rejects[i] = l->rejects[--l->reject_count];
      return;
    }
}

static void reject_done(struct azr__ws *ws, int status, const struct azr__http_head *resp, const char *detail) {
  azr_listener *l = azr__ws_user_data(ws);
  forget_reject(l, ws);
  if (resp && resp->status_code == 410) {
    AZR__LLOG(l, AZR_LOG_VERBOSE, "rendezvous", "rejection delivered");
    return;
  }
  if (status == AZR_OK) {
    /* The relay upgraded a reject address: not what it should do; drop it. */
    azr__ws_abort(ws);
    return;
  }
  azr__listener_error(l, status, "the relay did not confirm a rejection: %s", detail);
}

static void reject_closed(struct azr__ws *ws, int status, uint16_t code, const char *reason) {
  (void)ws;
  (void)status;
  (void)code;
  (void)reason;
}

static const struct azr__ws_callbacks reject_cb = {.on_open = reject_done, .on_close = reject_closed};

/* Starts the reject handshake; false when the request is left unanswered instead. */
static bool send_reject(azr_listener *l, const char *address, int status, const char *description) {
  if (l->reject_count >= MAX_REJECTS_IN_FLIGHT) {
    l->stats.connection_requests_dropped++;
    AZR__LLOG(l, AZR_LOG_VERBOSE, "rendezvous", "%u rejections in flight: request left unanswered",
              MAX_REJECTS_IN_FLIGHT);
    return false;
  }
  struct azr__buf url;
  azr__buf_init(&url, l->mem, AZR_MAX_URL);
  int rc = azr__hc_url_reject(&url, address, status, description);
  struct azr__ws **grown = rc ? NULL : azr__realloc(l->mem, l->rejects, (l->reject_count + 1) * sizeof *grown);
  if (!grown) rc = rc ? rc : AZR_E_NOMEM;
  struct azr__ws *ws = NULL;
  if (!rc) {
    l->rejects = grown;
    struct azr__ws_connect_request req = {azr__buf_cstr(&url), NULL, NULL};
    struct azr__connect_options o;
    azr__listener_connect_options(l, &o);
    rc = azr__ws_connect(l->curl, &o, &req, NULL, &reject_cb, l, &ws);
  }
  azr__buf_free(&url);
  if (rc) {
    azr__listener_error(l, rc, "cannot send a rejection: %s", azr_strerror(rc));
    l->stats.connection_requests_dropped++;
    return false;
  }
  l->rejects[l->reject_count++] = ws;
  return true;
}

void azr__rejects_abort(azr_listener *l) {
  while (l->reject_count) azr__ws_abort(l->rejects[--l->reject_count]);
}

/* ---- accept ---- */

static void conn_tls(void *ud, struct azr__tls_event *ev) {
  struct azr__conn *c = ud;
  if (ev->kind == AZR__TLS_DONE) azr__tls_info_record(&c->tls, ev);
}

static void start_rendezvous(struct azr__conn *c) {
  azr_listener *l = c->l;
  c->state = AZR__CONN_CONNECTING;
  struct azr__ws_connect_request req = {c->address, NULL, c->sub_protocol[0] ? c->sub_protocol : NULL};
  struct azr__connect_options o;
  azr__listener_connect_options(l, &o);
  o.tls_observer = conn_tls;
  o.tls_observer_ud = c;
  struct azr__ws_options wo;
  azr__conn_options(l, &wo);
  wo.log_id = c->id;
  int rc = azr__ws_connect(l->curl, &o, &req, &wo, &azr__conn_ws_callbacks, c, &c->ws);
  if (rc) {
    c->ws = NULL;
    l->stats.connections_failed++;
    azr_connection_event ev = {c->id, rc, azr_strerror(rc)};
    AZR__FIRE(l, on_connection_connected, &ev);
    azr_connection_disconnected_event dev = {c->id, 1006, azr_strerror(rc), rc};
    AZR__FIRE(l, on_connection_disconnected, &dev);
    azr__conn_release(c);
  }
}

static void decide(struct azr__conn *c, bool accept, int status, const char *description, const char *sub_protocol) {
  azr_listener *l = c->l;
  uv_timer_stop(&c->timer);
  if (accept) {
    if (sub_protocol) snprintf(c->sub_protocol, sizeof c->sub_protocol, "%s", sub_protocol);
    AZR__LLOG(l, AZR_LOG_INFO, "rendezvous", "accepting connection %llu from %s:%u", (unsigned long long)c->id,
              c->remote_address, c->remote_port);
    start_rendezvous(c);
    return;
  }
  if (status < 100 || status > 599) status = 400;
  AZR__LLOG(l, AZR_LOG_INFO, "rendezvous", "rejecting connection from %s:%u with %d %s", c->remote_address,
            c->remote_port, status, description);
  if (send_reject(l, c->address, status, description)) l->stats.connections_rejected++;
  azr__conn_release(c);
}

static void on_defer_deadline(uv_timer_t *t) {
  struct azr__conn *c = t->data;
  if (c->state == AZR__CONN_PENDING) decide(c, false, 408, "The listener did not decide in time", NULL);
}

/* The text after the hybrid connection name in the rendezvous address, with the sender's own
 * query (sb-hc-* removed): what the sender asked for beyond the entity. */
static char *sender_path(azr_listener *l, const char *address) {
  struct azr__url u;
  struct azr__buf out;
  azr__buf_init(&out, l->mem, AZR_MAX_URL);
  if (azr__url_split(azr__span_of(address), &u) == AZR_OK) {
    struct azr__span p = u.path;
    if (azr__span_istarts(p, "/$hc/")) {
      p.ptr += 5;
      p.len -= 5;
    }
    size_t hl = strlen(l->set.hybrid_connection ? l->set.hybrid_connection : "");
    if (p.len >= hl && !strncasecmp(p.ptr, l->set.hybrid_connection, hl)) {
      p.ptr += hl;
      p.len -= hl;
    }
    azr__buf_append(&out, p.ptr, p.len);
    struct azr__buf q;
    azr__buf_init(&q, l->mem, AZR_MAX_URL);
    if (azr__query_filter_sb_hc(&q, u.query) == AZR_OK && q.len) {
      azr__buf_append_byte(&out, '?');
      azr__buf_append(&out, q.data, q.len);
    }
    azr__buf_free(&q);
  }
  char *s = azr__strdup(l->mem, azr__buf_cstr(&out));
  azr__buf_free(&out);
  return s;
}

static char *header_dup(azr_listener *l, const struct azr__hc_headers *h, const char *name) {
  const char *v = azr__hc_headers_get(h, name);
  return azr__strdup(l->mem, v ? v : "");
}

void azr__accept_command(azr_listener *l, const struct azr__hc_accept *a) {
  if (!azr__listener_rendezvous_allowed(l, a->address, "a connection request")) {
    l->stats.connection_requests++;
    l->stats.connection_requests_dropped++;
    return;
  }
  struct azr__conn *c = azr__calloc(l->mem, 1, sizeof *c);
  if (!c) {
    azr__listener_error(l, AZR_E_NOMEM, "out of memory for a connection request");
    return;
  }
  c->l = l;
  c->id = ++l->next_id;
  c->state = AZR__CONN_PENDING;
  c->data_format = AZR_DATA_AUTOMATIC;
  c->timeout_s = l->set.default_timeout_s;
  c->address = azr__strdup(l->mem, a->address);
  c->relay_id = azr__strdup(l->mem, a->id ? a->id : "");
  struct azr__buf json;
  azr__buf_init(&json, l->mem, 0);
  azr__hc_headers_to_json(&json, &a->connect_headers);
  c->connect_headers = azr__buf_steal(&json);
  if (!c->connect_headers) c->connect_headers = azr__strdup(l->mem, "{}");
  c->host = header_dup(l, &a->connect_headers, "Host");
  c->sub_protocols = header_dup(l, &a->connect_headers, "Sec-WebSocket-Protocol");
  c->extensions = header_dup(l, &a->connect_headers, "Sec-WebSocket-Extensions");
  c->remote_address = azr__strdup(l->mem, a->remote.present && a->remote.address ? a->remote.address : "");
  c->remote_port = a->remote.present && a->remote.port > 0 && a->remote.port < 65536 ? (uint16_t)a->remote.port : 0;
  c->path = sender_path(l, a->address);
  uv_timer_init(l->loop, &c->timer);
  c->timer.data = c;
  if (!c->address || !c->relay_id || !c->host || !c->sub_protocols || !c->extensions || !c->remote_address || !c->path ||
      azr__idmap_put(&l->conn_map, c->id, c) != AZR_OK) {
    c->state = AZR__CONN_DONE;
    uv_close((uv_handle_t *)&c->timer, on_conn_timer_closed);
    azr__listener_error(l, AZR_E_NOMEM, "out of memory for a connection request");
    return;
  }
  c->next = l->conns;
  if (c->next) c->next->prev = c;
  l->conns = c;
  l->conn_count++;

  azr_connection_request_event ev;
  memset(&ev, 0, sizeof ev);
  ev.conn_id = c->id;
  ev.rendezvous_address = c->address;
  ev.relay_id = c->relay_id;
  ev.connect_headers = c->connect_headers;
  ev.sub_protocols = c->sub_protocols;
  ev.extensions = c->extensions;
  ev.host = c->host;
  ev.remote_address = c->remote_address;
  ev.remote_port = c->remote_port;
  ev.path = c->path;
  ev.accept = true;
  ev.http_status = 400;
  snprintf(ev.http_reason, sizeof ev.http_reason, "Rejected by user code");
  /* The first offered sub-protocol, as the .NET SDK picks it (§8). */
  size_t n = strcspn(c->sub_protocols, ", ");
  if (n < sizeof ev.sub_protocol) memcpy(ev.sub_protocol, c->sub_protocols, n);
  /* AllowedClients / BlockedClients / MaxConnections decide first; the handler may overrule. */
  const char *allowed = l->set.allowed_clients ? l->set.allowed_clients : "*";
  if (!azr__access_list_match(allowed, c->remote_address) ||
      (l->set.blocked_clients && *l->set.blocked_clients && azr__access_list_match(l->set.blocked_clients, c->remote_address))) {
    ev.accept = false;
    ev.http_status = 403;
    snprintf(ev.http_reason, sizeof ev.http_reason, "Forbidden");
  } else if (l->set.max_connections > 0 && l->conn_count > (size_t)l->set.max_connections) {
    ev.accept = false;
    ev.http_status = 503;
    snprintf(ev.http_reason, sizeof ev.http_reason, "Service Unavailable: too many connections");
  }
  AZR__LLOG(l, AZR_LOG_VERBOSE, "rendezvous", "connection request %llu from %s:%u (id %s)", (unsigned long long)c->id,
            c->remote_address, c->remote_port, c->relay_id);
  l->stats.connection_requests++;
  AZR__FIRE(l, on_connection_request, &ev);
  if (c->state != AZR__CONN_PENDING) return; /* the handler already decided through the API */
  if (ev.defer && l->cb.on_connection_request) {
    uv_timer_start(&c->timer, on_defer_deadline, DEFER_DEADLINE_MS, 0);
    return;
  }
  ev.http_reason[sizeof ev.http_reason - 1] = 0;
  ev.sub_protocol[sizeof ev.sub_protocol - 1] = 0;
  decide(c, ev.accept, ev.http_status, ev.http_reason, ev.sub_protocol);
}

int azr_listener_accept(azr_listener *l, azr_conn_id id, const char *sub_protocol) {
  if (!l) return AZR_E_INVALID_ARG;
  struct azr__conn *c = azr__conn_find(l, id);
  if (!c || c->state != AZR__CONN_PENDING) {
    azr__listener_set_error(l, "no pending connection request %llu", (unsigned long long)id);
    return AZR_E_INVALID_CONN_ID;
  }
  decide(c, true, 0, NULL, sub_protocol ? sub_protocol : "");
  return AZR_OK;
}

int azr_listener_reject(azr_listener *l, azr_conn_id id, int status_code, const char *status_description) {
  if (!l) return AZR_E_INVALID_ARG;
  struct azr__conn *c = azr__conn_find(l, id);
  if (!c || c->state != AZR__CONN_PENDING) {
    azr__listener_set_error(l, "no pending connection request %llu", (unsigned long long)id);
    return AZR_E_INVALID_CONN_ID;
  }
  decide(c, false, status_code, status_description ? status_description : "Rejected", NULL);
  return AZR_OK;
}
