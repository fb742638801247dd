/* SPDX-License-Identifier: MIT */
/* WebSocket senders (§6): a sender's handshake is held open while its listener decides, then the
 * listener's rendezvous either splices the two (accept) or answers the sender with the listener's
 * status (reject). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator/emulator_internal.h"
#include "proto/ws_handshake.h"
#include "util/encoding.h"
#include "util/limits.h"

/* Bytes a sender may send before its 101 (it should send none). */
#define MAX_EARLY_BYTES (64u * 1024u)

struct emu_sender {
  struct emu_pending base; /* must stay first: the pending map stores this pointer */
  struct emu_sender *prev, *next;
  azr_emulator *em;
  struct emu_entity *entity;
  char id[128];
  struct azr__stream *stream;
  char key[64];
  char *offered_protocols;
  struct azr__buf early;
  struct azr__buf accept_json; /* held back while LatencyMs delays the accept command */
  struct emu_listener *listener; /* NULL on a gateway: the home picks one */
  struct emu_offer *offer;        /* a gateway's question to its home, until answered */
  uv_timer_t timer;
  bool accept_sent;
  struct emu_flow flow; /* IdleTimeoutMs */
};

static struct emu_sender *senders_head(azr_emulator *em) { return em->senders; }

static void on_sender_timer_closed(uv_handle_t *h) {
  struct emu_sender *sd = h->data;
  azr__buf_free(&sd->early);
  azr__buf_free(&sd->accept_json);
  azr__free(sd->em->mem, sd->offered_protocols);
  azr__free(sd->em->mem, sd);
}

/* Forgets the sender; its stream must have been handed over or closed. */
static void sender_done(struct emu_sender *sd) {
  azr_emulator *em = sd->em;
  azr__emu_gateway_offer_cancel(sd->offer);
  sd->offer = NULL;
  azr__emu_flow_remove(em, &sd->flow);
  azr__strmap_remove(&em->pending, sd->id);
  if (sd->prev) sd->prev->next = sd->next;
  else em->senders = sd->next;
  if (sd->next) sd->next->prev = sd->prev;
  azr__emu_relay_connections_changed(em, -1);
  uv_timer_stop(&sd->timer);
  uv_close((uv_handle_t *)&sd->timer, on_sender_timer_closed);
}

static void sd_read(struct azr__stream *s, uint8_t *data, size_t len) {
  struct emu_sender *sd = s->owner;
  if (azr__buf_append(&sd->early, data, len) != AZR_OK) {
    EMU_LOG(sd->em, AZR_LOG_INFO, "sender %s sent data before its handshake completed; dropping it", sd->id);
    azr__stream_close(s, AZR__CLOSE_ABORT);
    sd->stream = NULL;
    sender_done(sd);
  }
}

static void sd_end(struct azr__stream *s, int status) {
  (void)status;
  struct emu_sender *sd = s->owner;
  EMU_LOG(sd->em, AZR_LOG_VERBOSE, "sender %s went away before it was accepted", sd->id);
  azr__stream_close(s, AZR__CLOSE_ABORT);
  sd->stream = NULL;
  sender_done(sd);
}

static const struct azr__stream_callbacks sender_cb = {NULL, sd_read, sd_end, NULL};

/* Idle while waiting for its listener (idle.c): a sender the gateway lost; its accept is void. */
static void sd_idle(struct emu_flow *flow, bool reset) {
  struct emu_sender *sd = EMU_CONTAINER(flow, struct emu_sender, flow);
  azr__emu_idle_cut_stream(sd->em, sd->stream, reset);
  sd->stream = NULL;
  sender_done(sd);
}

static void on_sender_timer(uv_timer_t *t) {
  struct emu_sender *sd = t->data;
  azr_emulator *em = sd->em;
  if (!sd->accept_sent) {
    /* LatencyMs elapsed: deliver the accept command now. */
    sd->accept_sent = true;
    if (azr__emu_control_alive(sd->entity, sd->listener)) azr__emu_control_send(sd->listener, (const char *)sd->accept_json.data, sd->accept_json.len, NULL, 0, false);
    azr__buf_free(&sd->accept_json);
    uv_timer_start(&sd->timer, on_sender_timer, em->settings.accept_timeout_ms, 0);
    return;
  }
  azr__emu_reply_ws_error(em, sd->stream, em->settings.accept_timeout_status,
                     "None of the connected listeners accepted the connection within the allowed timeout.", sd->id,
                     sd->entity->path);
  sd->stream = NULL;
  sender_done(sd);
}

/* The accept command (§5.1) for sender `id` from peer_addr:peer_port, with its rendezvous address on
 * `authority` (host:port). */
static int build_accept(azr_emulator *em, const char *id, const char *peer_addr, uint16_t peer_port,
                        const struct azr__http_head *head, const struct azr__hc_target *target, const char *authority,
                        struct azr__buf *json) {
  struct azr__buf address, query;
  azr__buf_init(&address, em->mem, AZR_MAX_URL);
  azr__buf_init(&query, em->mem, AZR_MAX_URL);
  int rc = azr__query_filter_sb_hc(&query, target->query);
  if (!rc)
    rc = azr__buf_printf(&address, "%s://%s/$hc/%.*s?%s%ssb-hc-action=accept&sb-hc-id=%s", em->plain ? "ws" : "wss",
                         authority, (int)target->path.len, target->path.ptr, azr__buf_cstr(&query),
                         query.len ? "&" : "", id);
  struct azr__hc_accept a = {0};
  a.address = (char *)azr__buf_cstr(&address);
  a.id = (char *)id;
  /* Every sender header reaches the listener except the token carrier (§3.4, §13.1 #8) and what a
   * gateway added for its home. */
  for (size_t i = 0; !rc && i < head->header_count; i++) {
    const struct azr__http_header *h = &head->headers[i];
    if (azr__span_ieq(h->name, "ServiceBusAuthorization") || azr__emu_gateway_header(h->name)) continue;
    rc = azr__hc_headers_add(em->mem, &a.connect_headers, h->name.ptr, h->name.len, h->value.ptr, h->value.len);
  }
  a.remote.present = true;
  a.remote.address = (char *)peer_addr;
  a.remote.port = peer_port;
  if (!rc) rc = azr__hc_cmd_write_accept(json, &a);
  azr__hc_headers_free(em->mem, &a.connect_headers);
  azr__buf_free(&address);
  azr__buf_free(&query);
  return rc;
}

/* A sender waiting for its listener: registered under a fresh rendezvous id, watched for idleness;
 * NULL after an error reply. */
static struct emu_sender *sender_new(azr_emulator *em, struct azr__stream *s, const struct azr__http_head *head,
                                     const struct azr__hc_target *target, struct emu_entity *entity,
                                     struct emu_listener *l, const char *tid) {
  char id[128];
  struct emu_sender *sd = azr__emu_new_id(target->id, id) == AZR_OK ? azr__calloc(em->mem, 1, sizeof *sd) : NULL;
  if (!sd) {
    azr__emu_reply_ws_error(em, s, 500, "Internal error.", tid, entity->path);
    return NULL;
  }
  sd->base.kind = EMU_PENDING_SENDER;
  sd->em = em;
  sd->entity = entity;
  sd->stream = s;
  sd->listener = l;
  memcpy(sd->id, id, sizeof sd->id);
  const struct azr__http_header *key = azr__http_head_find(head, "Sec-WebSocket-Key");
  snprintf(sd->key, sizeof sd->key, "%.*s", (int)(key->value.len < 60 ? key->value.len : 60), key->value.ptr);
  const struct azr__http_header *proto = azr__http_head_find(head, "Sec-WebSocket-Protocol");
  if (proto) sd->offered_protocols = azr__strndup(em->mem, proto->value.ptr, proto->value.len);
  azr__buf_init(&sd->early, em->mem, MAX_EARLY_BYTES);
  azr__buf_init(&sd->accept_json, em->mem, AZR_MAX_CONTROL_MSG);
  uv_timer_init(&em->loop, &sd->timer);
  sd->timer.data = sd;
  sd->next = em->senders;
  if (sd->next) sd->next->prev = sd;
  em->senders = sd;
  azr__emu_relay_connections_changed(em, +1);
  azr__stream_set_owner(s, &sender_cb, sd);
  azr__emu_flow_add(em, &sd->flow, s, NULL, sd_idle);
  if (azr__strmap_put(&em->pending, sd->id, sd) != AZR_OK) {
    azr__emu_reply_ws_error(em, s, 500, "Internal error.", tid, entity->path);
    sd->stream = NULL;
    sender_done(sd);
    return NULL;
  }
  return sd;
}

/* Gateway: the home answered the offer. 202: the accept command went out, the rendezvous comes
 * here; anything else goes to the sender as the home wrote it. */
static void on_offer_done(void *ud, int status, const uint8_t *response, size_t len) {
  struct emu_sender *sd = ud;
  azr_emulator *em = sd->em;
  if (status == 202) {
    azr__emu_gateway_offer_cancel(sd->offer);
    sd->offer = NULL;
    return;
  }
  if (status) {
    EMU_LOG(em, AZR_LOG_VERBOSE, "gateway: the home answered %d for sender %s", status, sd->id);
    (void)azr__stream_write(sd->stream, response, len);
    azr__stream_close(sd->stream, AZR__CLOSE_FLUSH);
  } else {
    azr__emu_reply_ws_error(em, sd->stream, 502, "The gateway could not reach the listeners' home.", sd->id,
                            sd->entity->path);
  }
  sd->stream = NULL;
  sender_done(sd);
}

static void gateway_sender(azr_emulator *em, struct azr__stream *s, const struct azr__http_head *head,
                           const struct azr__hc_target *target, struct emu_entity *entity, const char *tid) {
  struct emu_sender *sd = sender_new(em, s, head, target, entity, NULL, tid);
  if (!sd) return;
  sd->accept_sent = true; /* the home sends it (LatencyMs does not apply to a gateway's senders) */
  if (azr__emu_gateway_offer(em, head, sd->id, s->peer_addr, s->peer_port, on_offer_done, sd, &sd->offer) != AZR_OK) {
    azr__emu_reply_ws_error(em, s, 502, "The gateway could not reach the listeners' home.", sd->id, entity->path);
    sd->stream = NULL;
    sender_done(sd);
    return;
  }
  EMU_LOG(em, AZR_LOG_VERBOSE, "gateway: sender %s from %s:%u for '%s' offered to the home", sd->id, s->peer_addr,
          s->peer_port, entity->path);
  uv_timer_start(&sd->timer, on_sender_timer, em->settings.accept_timeout_ms, 0);
}

/* Home: a gateway's offer. The accept command goes to listener l with the gateway's rendezvous
 * address; the gateway hears 202 and keeps the sender. */
static void answer_offer(azr_emulator *em, struct azr__stream *s, const struct azr__http_head *head,
                         const struct azr__hc_target *target, struct emu_entity *entity, struct emu_listener *l,
                         const struct emu_offer_info *offer) {
  struct azr__buf json;
  azr__buf_init(&json, em->mem, AZR_MAX_CONTROL_MSG);
  int rc = build_accept(em, offer->id, offer->peer_addr, offer->peer_port, head, target, offer->authority, &json);
  if (!rc && json.len >= AZR_MAX_CONTROL_MSG) rc = AZR_E_TOO_BIG;
  if (rc == AZR_E_TOO_BIG) {
    azr__emu_reply_ws_error(em, s, 431, "The request headers are too large.", offer->id, entity->path);
  } else if (rc || azr__emu_control_send(l, (const char *)json.data, json.len, NULL, 0, false) != AZR_OK) {
    azr__emu_reply_ws_error(em, s, 404, "There are no listeners connected for the endpoint.", offer->id, entity->path);
  } else {
    static const char offered[] = "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)azr__stream_write(s, offered, sizeof offered - 1);
    azr__stream_close(s, AZR__CLOSE_FLUSH);
    EMU_LOG(em, AZR_LOG_VERBOSE, "sender %s from %s:%u at gateway %s for '%s' offered to listener", offer->id,
            offer->peer_addr, offer->peer_port, offer->authority, entity->path);
  }
  azr__buf_free(&json);
}

void azr__emu_sender_connect(azr_emulator *em, struct azr__stream *s, struct azr__http_head *head,
                        const struct azr__hc_target *target, struct emu_entity *entity, struct azr__span suffix) {
  (void)suffix;
  char tid[128];
  snprintf(tid, sizeof tid, "%.*s", (int)(target->id.len < 100 ? target->id.len : 100), target->id.ptr);
  struct emu_offer_info offer;
  enum emu_offer_kind offer_kind = azr__emu_gateway_parse_offer(em, head, &offer);
  if (offer_kind == EMU_OFFER_WRONG_SECRET || offer_kind == EMU_OFFER_MALFORMED) {
    bool wrong_secret = offer_kind == EMU_OFFER_WRONG_SECRET;
    unsigned left_out; /* any peer can send the header: at most one line a minute */
    if (azr__emu_log_gate_open(&em->home_log, &left_out))
      EMU_LOG(em, AZR_LOG_INFO, "refused a gateway offer from %s:%u: %s (%u more refusals since the last report)",
              s->peer_addr, s->peer_port, wrong_secret ? "wrong GatewaySecret" : "malformed X-Azr-Gateway headers",
              left_out);
    azr__emu_reply_ws_error(em, s, wrong_secret ? 421 : 400,
                            wrong_secret ? "The gateway is not one of this namespace's (its GatewaySecret differs)."
                                         : "Malformed gateway offer.",
                            tid, entity->path);
    return;
  }
  if (entity->requires_client_auth) {
    char msg[200];
    int status = azr__emu_authorize(em, head, target, entity, AZR__RIGHT_SEND, false, NULL, msg, sizeof msg);
    if (status) {
      azr__emu_reply_ws_error(em, s, status, msg, tid, entity->path);
      return;
    }
  }
  if (em->relay_connections >= em->settings.max_connections) {
    azr__emu_reply_ws_error(em, s, 403, "QuotaExceeded: The maximum number of connections for this namespace is reached.",
                       tid, entity->path);
    return;
  }
  if (azr__emu_is_gateway(em)) {
    gateway_sender(em, s, head, target, entity, tid);
    return;
  }
  bool filtered;
  struct emu_listener *l = azr__emu_control_pick(em, entity, head, &filtered);
  if (!l) {
    azr__emu_reply_ws_error(em, s, 404,
                       filtered ? "None of the connected listeners meet the AllowedListeners/DisallowedListeners "
                                  "criteria"
                                : "There are no listeners connected for the endpoint.",
                       tid, entity->path);
    return;
  }
  if (offer_kind == EMU_OFFER) {
    answer_offer(em, s, head, target, entity, l, &offer);
    return;
  }
  struct emu_sender *sd = sender_new(em, s, head, target, entity, l, tid);
  if (!sd) return;
  int rc = build_accept(em, sd->id, s->peer_addr, s->peer_port, head, target, azr__emu_control_rendezvous_host(l),
                        &sd->accept_json);
  if (!rc && sd->accept_json.len >= AZR_MAX_CONTROL_MSG) rc = AZR_E_TOO_BIG;
  if (rc) {
    azr__emu_reply_ws_error(em, s, rc == AZR_E_TOO_BIG ? 431 : 500,
                       rc == AZR_E_TOO_BIG ? "The request headers are too large." : "Internal error.", tid,
                       entity->path);
    sd->stream = NULL;
    sender_done(sd);
    return;
  }
  EMU_LOG(em, AZR_LOG_VERBOSE, "sender %s from %s:%u for '%s' offered to listener", sd->id, s->peer_addr, s->peer_port,
          entity->path);
  if (em->settings.latency_ms) {
    uv_timer_start(&sd->timer, on_sender_timer, em->settings.latency_ms, 0);
    return;
  }
  sd->accept_sent = true;
  if (azr__emu_control_send(l, (const char *)sd->accept_json.data, sd->accept_json.len, NULL, 0, false) != AZR_OK) {
    azr__emu_reply_ws_error(em, s, 404, "There are no listeners connected for the endpoint.", sd->id, entity->path);
    sd->stream = NULL;
    sender_done(sd);
    return;
  }
  azr__buf_free(&sd->accept_json);
  uv_timer_start(&sd->timer, on_sender_timer, em->settings.accept_timeout_ms, 0);
}

/* A reason phrase from the listener's description: printable ASCII only, bounded. */
static void clean_reason(const struct azr__buf *in, char *out, size_t out_len) {
  size_t n = 0;
  for (size_t i = 0; i < in->len && n + 1 < out_len; i++) {
    unsigned char c = in->data[i];
    out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
  }
  out[n] = 0;
}

static void reject(azr_emulator *em, struct emu_sender *sd, struct azr__stream *ls, const struct azr__hc_target *target,
                   int code) {
  struct azr__buf desc;
  azr__buf_init(&desc, em->mem, 4096);
  if (azr__hc_target_status_description(target, &desc) != AZR_OK && em->settings.lenient_reject_params) {
    struct azr__span raw;
    azr__buf_reset(&desc);
    if (azr__query_find(target->query, "statusDescription", &raw)) azr__url_decode(&desc, raw.ptr, raw.len, true);
  }
  char reason[600];
  clean_reason(&desc, reason, sizeof reason);
  azr__buf_free(&desc);
  if (code < 100 || code > 599) code = 400;
  if (!reason[0]) snprintf(reason, sizeof reason, "%s", azr__http_reason(code));
  char resp[800];
  int n = snprintf(resp, sizeof resp, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", code, reason);
  (void)azr__stream_write(sd->stream, resp, (size_t)n < sizeof resp ? (size_t)n : sizeof resp - 1);
  azr__stream_close(sd->stream, AZR__CLOSE_FLUSH);
  sd->stream = NULL;
  static const char gone[] = "HTTP/1.1 410 Gone\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  (void)azr__stream_write(ls, gone, sizeof gone - 1);
  azr__stream_close(ls, AZR__CLOSE_FLUSH);
  EMU_LOG(em, AZR_LOG_VERBOSE, "listener rejected sender %s with %d %s", sd->id, code, reason);
  sender_done(sd);
}

/* The first value of a comma-separated header, trimmed. */
static void first_token(const struct azr__http_header *h, char *out, size_t out_len) {
  out[0] = 0;
  if (!h) return;
  struct azr__span rest, first = azr__span_trim(azr__span_cut(h->value, ',', &rest));
  snprintf(out, out_len, "%.*s", (int)first.len, first.ptr);
}

static bool offered(const char *list, const char *proto) {
  if (!list || !*proto) return false;
  struct azr__span rest = azr__span_of(list);
  while (rest.len) {
    struct azr__span item = azr__span_trim(azr__span_cut(rest, ',', &rest));
    if (azr__span_eq(item, proto)) return true;
  }
  return false;
}

void azr__emu_sender_rendezvous(azr_emulator *em, struct azr__stream *s, struct azr__http_head *head,
                           const struct azr__hc_target *target, const uint8_t *leftover, size_t leftover_len) {
  char id[128];
  snprintf(id, sizeof id, "%.*s", (int)(target->id.len < 120 ? target->id.len : 120), target->id.ptr);
  struct emu_pending *p = azr__strmap_get(&em->pending, id);
  if (!p || p->kind != EMU_PENDING_SENDER) {
    azr__emu_reply_ws_error(em, s, 403, "The rendezvous URL is not valid or has expired.", id, NULL);
    return;
  }
  struct emu_sender *sd = (struct emu_sender *)p;
  if (em->settings.rendezvous_fail_percent && azr__emu_random(em) % 100 < em->settings.rendezvous_fail_percent) {
    azr__emu_reply_ws_error(em, s, 500, "Internal error (fault injection).", id, sd->entity->path);
    return;
  }
  int code = target->has_status_code ? target->status_code : 0;
  if (!target->has_status_code && em->settings.lenient_reject_params) {
    struct azr__span raw;
    uint64_t v;
    if (azr__query_find(target->query, "statusCode", &raw) && azr__span_to_u64(raw, &v) && v < 1000) code = (int)v;
  }
  if (code || target->has_status_code) {
    reject(em, sd, s, target, code);
    return;
  }
  /* Accept: the listener's chosen sub-protocol goes back to both sides (§6.3). */
  char chosen[128];
  first_token(azr__http_head_find(head, "Sec-WebSocket-Protocol"), chosen, sizeof chosen);
  const struct azr__http_header *lkey = azr__http_head_find(head, "Sec-WebSocket-Key");
  char listener_key[64];
  snprintf(listener_key, sizeof listener_key, "%.*s", (int)(lkey->value.len < 60 ? lkey->value.len : 60),
           lkey->value.ptr);
  struct azr__buf to_listener, to_sender;
  azr__buf_init(&to_listener, em->mem, 0);
  azr__buf_init(&to_sender, em->mem, 0);
  int rc = azr__ws_server_response(&to_listener, listener_key, chosen[0] ? chosen : NULL);
  if (!rc)
    rc = azr__ws_server_response(&to_sender, sd->key, offered(sd->offered_protocols, chosen) ? chosen : NULL);
  if (!rc) rc = azr__stream_write(s, to_listener.data, to_listener.len);
  if (!rc) rc = azr__stream_write(sd->stream, to_sender.data, to_sender.len);
  azr__buf_free(&to_listener);
  azr__buf_free(&to_sender);
  if (rc) {
    azr__stream_close(s, AZR__CLOSE_ABORT);
    azr__stream_close(sd->stream, AZR__CLOSE_ABORT);
    sd->stream = NULL;
    sender_done(sd);
    return;
  }
  struct azr__stream *sender_stream = sd->stream;
  sd->stream = NULL;
  EMU_LOG(em, AZR_LOG_VERBOSE, "sender %s accepted by its listener", sd->id);
  /* The splice takes over this sender's place in the connection count. */
  azr__emu_relay_connections_changed(em, +1);
  rc = azr__emu_splice_start(em, sender_stream, s, sd->early.data, sd->early.len, leftover, leftover_len);
  if (rc) {
    azr__emu_relay_connections_changed(em, -1);
    azr__stream_close(s, AZR__CLOSE_ABORT);
    azr__stream_close(sender_stream, AZR__CLOSE_ABORT);
  }
  sender_done(sd);
}

void azr__emu_senders_close_all(azr_emulator *em) {
  while (senders_head(em)) {
    struct emu_sender *sd = senders_head(em);
    if (sd->stream) azr__stream_close(sd->stream, AZR__CLOSE_ABORT);
    sd->stream = NULL;
    sender_done(sd);
  }
}
