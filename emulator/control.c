/* SPDX-License-Identifier: MIT */
/* Listener control channels (§5): registration, commands in both directions, token renewal and
 * expiry (§3.7), random listener selection (§6.2). */
#include <stdio.h>
#include <string.h>

#include "emulator/emulator_internal.h"
#include "util/clock.h"
#include "util/limits.h"

struct emu_listener {
  struct emu_listener *prev, *next;
  azr_emulator *em;
  struct emu_entity *entity;
  struct azr__ws *ws;
  char tracking_id[128];
  char guid[37];
  char host[300];            /* the Host header the listener dialled */
  char rendezvous_host[320]; /* host[:port] for its rendezvous addresses (emu_control_rendezvous_host) */
  int64_t token_expiry_s;
  uv_timer_t expiry_timer;
  uint8_t msg_opcode;
  struct azr__hc_cmd pending_response; /* a response whose binary body comes next */
  bool awaiting_body;
  bool swallow_empty_binary; /* hyco-https sends an empty binary frame after body:false (§5.6) */
  bool closing;
  struct emu_flow flow; /* IdleTimeoutMs */
};

const char *emu_control_rendezvous_host(struct emu_listener *l) {
  emu_rendezvous_authority(l->em, l->host, l->rendezvous_host, sizeof l->rendezvous_host);
  return l->rendezvous_host;
}

static void unlink_listener(struct emu_listener *l) {
  struct emu_entity *e = l->entity;
  if (!e) return;
  if (l->prev) l->prev->next = l->next;
  else e->listeners = l->next;
  if (l->next) l->next->prev = l->prev;
  l->prev = l->next = NULL;
  e->listener_count--;
  l->entity = NULL;
  emu_relay_connections_changed(l->em, -1);
}

static void on_expiry_timer_closed(uv_handle_t *h) {
  struct emu_listener *l = h->data;
  azr__free(l->em->mem, l);
}

static void close_channel(struct emu_listener *l, uint16_t code, const char *text) {
  if (l->closing || !l->ws) return;
  l->closing = true;
  char reason[124];
  /* Close reasons are limited to 123 bytes on the wire. */
  snprintf(reason, sizeof reason, "%s", text);
  EMU_LOG(l->em, AZR_LOG_INFO, "closing control channel %s of '%s' with %u: %s", l->tracking_id,
          l->entity ? l->entity->path : "?", code, text);
  azr__ws_close(l->ws, code, reason);
}

static void on_expiry(uv_timer_t *t);

static void arm_expiry(struct emu_listener *l) {
  azr_emulator *em = l->em;
  /* A token the handshake accepted within the clock skew must still live for the grace period. */
  int64_t left_s = l->token_expiry_s + em->settings.token_grace_s + em->settings.clock_skew_s - emu_now_s(em);
  if (left_s < 0) left_s = 0;
  uint64_t ms = (uint64_t)left_s * 1000u / (uint64_t)(em->settings.clock_speed > 0 ? em->settings.clock_speed : 1);
  uv_timer_start(&l->expiry_timer, on_expiry, ms, 0);
}

static void on_expiry(uv_timer_t *t) {
  struct emu_listener *l = t->data;
  azr_emulator *em = l->em;
  if (emu_now_s(em) < l->token_expiry_s + em->settings.token_grace_s + em->settings.clock_skew_s) {
    arm_expiry(l);
    return;
  }
  close_channel(l, 1008, "ExpiredToken: The token is expired and was not renewed.");
}

static void deliver_response(struct emu_listener *l, const uint8_t *body, size_t len) {
  l->awaiting_body = false;
  emu_http_control_response(l->em, l, &l->pending_response.u.response, body, len);
  azr__hc_cmd_free(l->em->mem, &l->pending_response);
  memset(&l->pending_response, 0, sizeof l->pending_response);
}

static void handle_text(struct emu_listener *l, const uint8_t *data, size_t len) {
  azr_emulator *em = l->em;
  if (l->awaiting_body) deliver_response(l, NULL, 0); /* §5.6 rule 5: the body ended empty */
  struct azr__hc_cmd cmd;
  char err[160];
  int rc = azr__hc_cmd_parse(em->mem, data, len, &cmd, err, sizeof err);
  if (rc == AZR_E_NOT_FOUND) {
    EMU_LOG(em, AZR_LOG_VERBOSE, "control channel %s: ignoring an unknown command", l->tracking_id);
    return;
  }
  if (rc != AZR_OK) {
    EMU_LOG(em, AZR_LOG_INFO, "control channel %s: malformed command ignored: %s", l->tracking_id, err);
    return;
  }
  switch (cmd.type) {
  case AZR__HC_CMD_RENEW_TOKEN: {
    char msg[200];
    int64_t expiry = 0;
    int status = emu_authorize_token(em, cmd.u.renew_token.token, l->entity, AZR__RIGHT_LISTEN, &expiry, msg, sizeof msg);
    if (status) {
      close_channel(l, 1008, msg);
    } else {
      l->token_expiry_s = expiry;
      arm_expiry(l);
      EMU_LOG(em, AZR_LOG_VERBOSE, "control channel %s renewed its token", l->tracking_id);
    }
    azr__hc_cmd_free(em->mem, &cmd);
    return;
  }
  case AZR__HC_CMD_RESPONSE:
    if (cmd.u.response.body) {
      l->pending_response = cmd;
      l->awaiting_body = true;
      return;
    }
    l->swallow_empty_binary = true;
    emu_http_control_response(em, l, &cmd.u.response, NULL, 0);
    azr__hc_cmd_free(em->mem, &cmd);
    return;
  default:
    EMU_LOG(em, AZR_LOG_VERBOSE, "control channel %s: ignoring a command a listener does not send", l->tracking_id);
    azr__hc_cmd_free(em->mem, &cmd);
    return;
  }
}

static void on_message_begin(struct azr__ws *ws, uint8_t opcode) {
  struct emu_listener *l = azr__ws_user_data(ws);
  l->msg_opcode = opcode;
}

static void on_message_data(struct azr__ws *ws, uint8_t *data, size_t len, bool frame_end, bool message_end) {
  (void)frame_end;
  struct emu_listener *l = azr__ws_user_data(ws);
  if (!message_end) return; /* buffered mode: the whole message comes in one call */
  if (l->msg_opcode == AZR__WS_TEXT) {
    l->swallow_empty_binary = false;
    handle_text(l, data, len);
    return;
  }
  if (l->awaiting_body) {
    deliver_response(l, data, len);
    return;
  }
  if (l->swallow_empty_binary && len == 0) {
    l->swallow_empty_binary = false;
    return;
  }
  l->swallow_empty_binary = false;
  EMU_LOG(l->em, AZR_LOG_VERBOSE, "control channel %s: ignoring an unexpected binary message (%zu bytes)",
          l->tracking_id, len);
}

static void on_close(struct azr__ws *ws, int status, uint16_t code, const char *reason) {
  struct emu_listener *l = azr__ws_user_data(ws);
  azr_emulator *em = l->em;
  EMU_LOG(em, AZR_LOG_INFO, "listener %s left '%s' (%s, close %u %s)", l->tracking_id,
          l->entity ? l->entity->path : "?", azr_status_name(status), code, reason);
  l->ws = NULL;
  emu_flow_remove(em, &l->flow);
  if (l->awaiting_body) deliver_response(l, NULL, 0);
  emu_http_listener_gone(em, l);
  unlink_listener(l);
  uv_timer_stop(&l->expiry_timer);
  uv_close((uv_handle_t *)&l->expiry_timer, on_expiry_timer_closed);
}

static const struct azr__ws_callbacks control_cb = {.on_message_begin = on_message_begin,
                                                    .on_message_data = on_message_data,
                                                    .on_close = on_close};

/* The load balancer cut the control channel (idle.c). The service only sees a dead connection: the
 * listener leaves routing at once (senders get the no-listener answer, its pending HTTP requests
 * fail when the channel ends, below), and nothing reaches the listener. */
static void on_idle(struct emu_flow *flow, bool reset) {
  struct emu_listener *l = EMU_CONTAINER(flow, struct emu_listener, flow);
  if (!l->ws) return;
  EMU_LOG(l->em, AZR_LOG_INFO, "control channel %s of '%s' was idle for %u ms: %s", l->tracking_id,
          l->entity ? l->entity->path : "?", (unsigned)l->em->settings.idle_timeout_ms,
          reset ? "reset" : "black-holed (IdleTimeoutMs)");
  l->closing = true;
  if (reset) {
    azr__ws_abort(l->ws);
    return;
  }
  struct azr__stream *s = azr__ws_detach_stream(l->ws);
  if (s) emu_black_hole_take(l->em, s);
}

static void tracking_guid(struct azr__span id, char out[37]) {
  size_t n = 0;
  while (n < id.len && n < 36 && id.ptr[n] != '_') {
    out[n] = id.ptr[n];
    n++;
  }
  out[n] = 0;
}

void emu_control_listen(azr_emulator *em, struct azr__stream *s, struct azr__http_head *head,
                        const struct azr__hc_target *target, const uint8_t *leftover, size_t leftover_len) {
  char tid[128];
  snprintf(tid, sizeof tid, "%.*s", (int)(target->id.len < 100 ? target->id.len : 100), target->id.ptr);
  struct azr__span suffix;
  struct emu_entity *e = emu_entity_match(em, target->path, &suffix);
  if (!e || suffix.len) {
    emu_reply_ws_error(em, s, 404, "Endpoint does not exist.", tid, NULL);
    return;
  }
  if (em->settings.refuse_listen_until_ms && (int64_t)azr__now_ms() < em->settings.refuse_listen_until_ms) {
    emu_reply_ws_error(em, s, 503, "ServerBusy: the emulator is refusing listeners (fault injection).", tid, e->path);
    return;
  }
  char msg[200];
  int64_t expiry = 0;
  int status = emu_authorize(em, head, target, e, AZR__RIGHT_LISTEN, false, &expiry, msg, sizeof msg);
  if (status) {
    emu_reply_ws_error(em, s, status, msg, tid, e->path);
    return;
  }
  if (e->listener_count >= em->settings.max_listeners || em->relay_connections >= em->settings.max_connections) {
    emu_reply_ws_error(em, s, em->settings.listener_quota_status,
                       e->listener_count >= em->settings.max_listeners
                           ? "QuotaExceeded: The maximum number of listeners for this hybrid connection is reached."
                           : "QuotaExceeded: The maximum number of connections for this namespace is reached.",
                       tid, e->path);
    return;
  }
  struct emu_listener *l = azr__calloc(em->mem, 1, sizeof *l);
  if (!l) {
    emu_reply_ws_error(em, s, 500, "Internal error.", tid, e->path);
    return;
  }
  l->em = em;
  snprintf(l->tracking_id, sizeof l->tracking_id, "%s", tid[0] ? tid : "(no id)");
  tracking_guid(target->id, l->guid);
  const struct azr__http_header *host = azr__http_head_find(head, "Host");
  snprintf(l->host, sizeof l->host, "%.*s", host ? (int)(host->value.len < 290 ? host->value.len : 290) : 0,
           host ? host->value.ptr : "");
  if (!l->host[0]) snprintf(l->host, sizeof l->host, "%s:%u", em->namespace_host, em->port);
  l->token_expiry_s = expiry;
  const struct azr__http_header *key = azr__http_head_find(head, "Sec-WebSocket-Key");
  char keybuf[64];
  snprintf(keybuf, sizeof keybuf, "%.*s", key ? (int)(key->value.len < 60 ? key->value.len : 60) : 0,
           key ? key->value.ptr : "");
  struct azr__ws_options opt;
  azr__ws_options_default(&opt);
  opt.session.buffer_messages = true;
  opt.session.max_message_size = AZR_MAX_CONTROL_MSG;
  if (azr__ws_accept(s, keybuf, NULL, leftover, leftover_len, &opt, &control_cb, l, &l->ws) != AZR_OK) {
    azr__free(em->mem, l);
    emu_reply_ws_error(em, s, 500, "Internal error.", tid, e->path);
    return;
  }
  uv_timer_init(&em->loop, &l->expiry_timer);
  l->expiry_timer.data = l;
  l->entity = e;
  l->next = e->listeners;
  if (l->next) l->next->prev = l;
  e->listeners = l;
  e->listener_count++;
  emu_relay_connections_changed(em, +1);
  emu_flow_add(em, &l->flow, NULL, l->ws, on_idle);
  arm_expiry(l);
  EMU_LOG(em, AZR_LOG_INFO, "listener %s joined '%s' from %s:%u (%zu listening)", l->tracking_id, e->path,
          s->peer_addr, s->peer_port, e->listener_count);
}

static bool guid_in_list(const char *guid, const struct azr__http_header *list) {
  struct azr__span rest = list->value;
  while (rest.len) {
    struct azr__span item = azr__span_trim(azr__span_cut(rest, ',', &rest));
    if (item.len && azr__span_ieq(item, guid)) return true;
  }
  return false;
}

struct emu_listener *emu_control_pick(azr_emulator *em, struct emu_entity *entity, const struct azr__http_head *head,
                                      bool *filtered) {
  const struct azr__http_header *allowed = azr__http_head_find(head, "Microsoft-Relay-AllowedListeners");
  const struct azr__http_header *disallowed = azr__http_head_find(head, "Microsoft-Relay-DisallowedListeners");
  size_t eligible = 0;
  *filtered = false;
  for (struct emu_listener *l = entity->listeners; l; l = l->next) {
    if (l->closing || !l->ws) continue;
    if ((allowed && !guid_in_list(l->guid, allowed)) || (disallowed && guid_in_list(l->guid, disallowed))) {
      *filtered = true;
      continue;
    }
    eligible++;
  }
  if (!eligible) return NULL;
  size_t pick = (size_t)(emu_random(em) % eligible);
  for (struct emu_listener *l = entity->listeners; l; l = l->next) {
    if (l->closing || !l->ws) continue;
    if ((allowed && !guid_in_list(l->guid, allowed)) || (disallowed && guid_in_list(l->guid, disallowed))) continue;
    if (pick-- == 0) return l;
  }
  return NULL;
}

int emu_control_send(struct emu_listener *l, const char *json, size_t json_len, const uint8_t *body, size_t body_len,
                     bool has_body) {
  if (!l->ws || l->closing) return AZR_E_CLOSED;
  EMU_LOG(l->em, AZR_LOG_DEBUG, "to listener %s: %.*s", l->tracking_id, (int)(json_len < 1500 ? json_len : 1500),
          json);
  int rc = azr__ws_send(l->ws, AZR__WS_TEXT, json, json_len);
  if (rc == AZR_OK && has_body) rc = azr__ws_send(l->ws, AZR__WS_BINARY, body, body_len);
  return rc;
}

void emu_control_close_all(azr_emulator *em, uint16_t code, const char *reason, const char *entity_path) {
  for (size_t i = 0; i < em->entity_count; i++) {
    struct emu_entity *e = &em->entities[i];
    if (entity_path && strcasecmp(e->path, entity_path)) continue;
    for (struct emu_listener *l = e->listeners; l; l = l->next) close_channel(l, code, reason);
  }
}

void emu_control_abort_all(azr_emulator *em) {
  for (size_t i = 0; i < em->entity_count; i++)
    for (struct emu_listener *l = em->entities[i].listeners; l; l = l->next)
      if (l->ws) azr__ws_abort(l->ws);
}

bool emu_control_alive(const struct emu_entity *entity, const struct emu_listener *listener) {
  for (const struct emu_listener *l = entity->listeners; l; l = l->next)
    if (l == listener) return l->ws && !l->closing;
  return false;
}
