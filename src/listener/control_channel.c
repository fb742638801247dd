/* SPDX-License-Identifier: MIT */
/* The control channel (§5): connect with a token, renew it before it expires (§3.7), keep the
 * channel alive, dispatch accept/request commands, and reconnect with backoff when it drops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/token_source.h"
#include "listener/listener_internal.h"
#include "proto/backoff.h"
#include "proto/control_policy.h"
#include "proto/hc_url.h"
#include "proto/sas.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/str.h"
#include "util/limits.h"

static void connect_now(azr_listener *l);

/* The public state is the policy's state. */
_Static_assert((int)AZR_STATE_STOPPED == AZR__CC_STOPPED && (int)AZR_STATE_CONNECTING == AZR__CC_CONNECTING &&
                   (int)AZR_STATE_ONLINE == AZR__CC_ONLINE && (int)AZR_STATE_WAITING == AZR__CC_WAITING,
               "azr_listener_state mirrors enum azr__cc_state");

/* A session up this long counts as healthy: its loss is retried at once (a relay restart or a
 * load-balancer drop usually heals immediately). */
#define HEALTHY_AFTER_MS 10000u

static void on_reconnect_timer(uv_timer_t *t) {
  azr_listener *l = t->data;
  if (azr__listener_listening(l) && !l->control) connect_now(l);
}

void azr__control_init(azr_listener *l) {
  uv_timer_init(l->loop, &l->renew_timer);
  uv_timer_init(l->loop, &l->reconnect_timer);
  l->renew_timer.data = l->reconnect_timer.data = l;
}

static void on_timer_closed(uv_handle_t *h) {
  azr_listener *l = h->data;
  l->handles_open--;
  azr__listener_maybe_release(l);
}

void azr__control_close_handles(azr_listener *l) {
  l->handles_open = 2;
  uv_close((uv_handle_t *)&l->renew_timer, on_timer_closed);
  uv_close((uv_handle_t *)&l->reconnect_timer, on_timer_closed);
}

static int parse_namespace(azr_listener *l) {
  return azr__namespace_split(l->set.namespace_address, l->host, sizeof l->host, &l->port);
}

int azr__control_make_token(azr_listener *l, char *out, size_t out_len, int64_t *expiry_s) {
  if (!l->host[0] && parse_namespace(l) != AZR_OK) {
    azr__listener_set_error(l, "NamespaceAddress is not set or malformed");
    return AZR_E_INVALID_ARG;
  }
  struct azr__token_source ts = {&l->set, l->token_fn, l->token_ud};
  char err[256] = "";
  int rc = azr__token_make(&ts, l->host, l->set.hybrid_connection, out, out_len, expiry_s, err, sizeof err);
  if (rc) azr__listener_set_error(l, "%s", err);
  return rc;
}

/* ---- renewal and keep-alive ---- */

static void schedule_renew(azr_listener *l);

static void on_renew(uv_timer_t *t) {
  azr_listener *l = t->data;
  if (!l->control || !azr__listener_online(l)) return;
  char token[AZR_MAX_TOKEN];
  int64_t expiry;
  int rc = azr__control_make_token(l, token, sizeof token, &expiry);
  if (rc) {
    /* Try again shortly; the relay's grace period gives some room. */
    azr__listener_error(l, rc, "cannot renew the token: %s", l->last_error);
    uv_timer_start(&l->renew_timer, on_renew, 5000, 0);
    return;
  }
  struct azr__buf json;
  azr__buf_init(&json, l->mem, AZR_MAX_CONTROL_MSG);
  rc = azr__hc_cmd_write_renew_token(&json, token);
  if (!rc) rc = azr__ws_send(l->control, AZR__WS_TEXT, json.data, json.len);
  azr__buf_free(&json);
  if (rc) {
    azr__listener_error(l, rc, "cannot send renewToken: %s", azr_strerror(rc));
    uv_timer_start(&l->renew_timer, on_renew, 5000, 0);
    return;
  }
  l->token_issued_s = azr__wall_s();
  l->token_expiry_s = expiry;
  l->stats.token_renewals++;
  azr__listener_status(l, "TokenRenewed", AZR_OK, "sent renewToken");
  schedule_renew(l);
}

static void schedule_renew(azr_listener *l) {
  int64_t at = azr__renew_at_s(l->token_issued_s, l->token_expiry_s, l->set.auto_renew_threshold_s);
  int64_t now = azr__wall_s();
  int64_t delay_s = at > now ? at - now : 0;
  /* A token that is already expired (a stale pre-issued one) would make this spin: retry slowly. */
  if (l->token_expiry_s <= now && delay_s < 5) delay_s = 5;
  uv_timer_start(&l->renew_timer, on_renew, (uint64_t)delay_s * 1000u, 0);
}

/* ---- control channel callbacks ---- */

/* After a loss or a refusal: the policy (proto/control_policy.h) says whether to reconnect and
 * when; the cause always reaches the application. */
static void schedule_reconnect(azr_listener *l, int status, int close_code, const char *why, int http_status) {
  l->control = NULL;
  l->http_body_req = NULL;
  uv_timer_stop(&l->renew_timer);
  bool was_online = l->cc.ever_online;
  struct azr__cc_policy policy = {(uint32_t)l->set.reconnect_first_ms, (uint32_t)l->set.reconnect_max_ms,
                                  (uint32_t)l->set.auth_error_delay_ms, HEALTHY_AFTER_MS,
                                  l->set.retry_on_auth_error, l->set.retry_on_not_found,
                                  l->set.retry_on_startup_error};
  struct azr__cc_decision d =
      azr__cc_failed(&l->cc, &policy, azr__cc_classify(status, http_status), azr__now_ms(), azr__listener_random(l));
  if (d.stop) {
    if (http_status)
      azr__listener_error(l, status, "stopped listening: the relay answered %d (%s)", http_status, why);
    else
      azr__listener_error(l, status, "stopped listening%s: %s", was_online ? "" : " (never online)", why);
  }
  azr_disconnected_event ev = {status, close_code, why, !d.stop, d.delay_ms};
  l->stats.control_losses++;
  AZR__FIRE(l, on_disconnected, &ev);
  if (!d.stop && azr__listener_listening(l)) {
    char msg[64];
    snprintf(msg, sizeof msg, "reconnecting in %u ms", d.delay_ms);
    azr__listener_status(l, "Waiting", status, msg);
    uv_timer_start(&l->reconnect_timer, on_reconnect_timer, d.delay_ms, 0);
  }
}

static void c_open(struct azr__ws *ws, int status, const struct azr__http_head *resp, const char *detail) {
  azr_listener *l = azr__ws_user_data(ws);
  if (resp) {
    for (size_t i = 0; i < resp->header_count && !l->freeing; i++) {
      char field[256], value[2048];
      const struct azr__http_header *h = &resp->headers[i];
      snprintf(field, sizeof field, "%.*s", (int)h->name.len, h->name.ptr);
      snprintf(value, sizeof value, "%.*s", (int)h->value.len, h->value.ptr);
      azr_header_event hev = {field, value};
      AZR__FIRE(l, on_header, &hev);
    }
  }
  if (status != AZR_OK && resp && resp->status_code >= 300 && resp->status_code < 400) {
    const struct azr__http_header *loc = azr__http_head_find(resp, "Location");
    char location[1024];
    snprintf(location, sizeof location, "%.*s", loc ? (int)loc->value.len : 0, loc ? loc->value.ptr : "");
    azr_redirect_event rev = {location, false};
    AZR__FIRE(l, on_redirect, &rev);
    char ns[300];
    uint16_t port;
    if (rev.accept && location[0] && azr__namespace_split(location, ns, sizeof ns, &port) == AZR_OK) {
      char value[320], err[256];
      azr__host_port(value, sizeof value, ns, port); /* an IPv6 literal keeps its brackets */
      /* NamespaceAddress is fixed for the application while listening; here the relay moves it. */
      struct azr__settings_context own = {false};
      if (azr__settings_set(l->mem, &l->set, &own, "NamespaceAddress", 16, value, err, sizeof err) == AZR_OK &&
          azr__namespace_split(l->set.namespace_address, l->host, sizeof l->host, &l->port) == AZR_OK) {
        AZR__LLOG(l, AZR_LOG_INFO, "control", "following a redirect to %s", location);
        l->control = NULL;
        l->cc.attempt = 0;
        uv_timer_start(&l->reconnect_timer, on_reconnect_timer, 0, 0);
        return;
      }
    }
  }
  if (status != AZR_OK) {
    int http = resp ? resp->status_code : 0;
    char desc[600];
    snprintf(desc, sizeof desc, "%s", detail && *detail ? detail : azr_strerror(status));
    azr__listener_set_error(l, "control channel: %s", desc);
    AZR__LLOG(l, AZR_LOG_INFO, "control", "control channel refused: %s", desc);
    azr_connected_event ev = {status, desc, http};
    AZR__FIRE(l, on_connected, &ev);
    schedule_reconnect(l, status, 0, desc, http);
    return;
  }
  azr__cc_opened(&l->cc, azr__now_ms());
  AZR__LLOG(l, AZR_LOG_INFO, "control", "listening on %s/%s (tracking id %s)", l->host, l->set.hybrid_connection,
            l->tracking_id);
  l->stats.control_opens++;
  azr__listener_status(l, "Online", AZR_OK, "control channel open");
  azr_connected_event ev = {AZR_OK, "OK", 101};
  AZR__FIRE(l, on_connected, &ev);
  if (l->control == ws) schedule_renew(l);
}

static void c_message_begin(struct azr__ws *ws, uint8_t opcode) {
  azr_listener *l = azr__ws_user_data(ws);
  l->control_opcode = opcode;
}

static void c_message_data(struct azr__ws *ws, uint8_t *data, size_t len, bool frame_end, bool message_end) {
  (void)frame_end;
  azr_listener *l = azr__ws_user_data(ws);
  if (!message_end) return; /* buffered mode: one call per message */
  if (l->control_opcode == AZR__WS_BINARY) {
    azr__http_control_binary(l, data, len);
    return;
  }
  if (l->http_body_req) {
    /* A text message where a body was due: the body was empty (§5.6 rule 5, mirrored). */
    azr__http_control_binary(l, NULL, 0);
  }
  struct azr__hc_cmd cmd;
  char err[160];
  int rc = azr__hc_cmd_parse(l->mem, data, len, &cmd, err, sizeof err);
  if (rc == AZR_E_NOT_FOUND) {
    AZR__LLOG(l, AZR_LOG_VERBOSE, "control", "ignoring an unknown control command");
    return;
  }
  if (rc) {
    azr__listener_error(l, AZR_E_PROTOCOL, "malformed control message ignored: %s", err);
    return;
  }
  AZR__LLOG(l, AZR_LOG_DEBUG, "control", "command: %.*s", (int)(len < 1500 ? len : 1500), (const char *)data);
  if (cmd.type == AZR__HC_CMD_ACCEPT) azr__accept_command(l, &cmd.u.accept);
  else if (cmd.type == AZR__HC_CMD_REQUEST) azr__http_command(l, &cmd.u.request);
  else AZR__LLOG(l, AZR_LOG_VERBOSE, "control", "ignoring a command listeners do not receive");
  azr__hc_cmd_free(l->mem, &cmd);
}

static void c_close(struct azr__ws *ws, int status, uint16_t code, const char *reason) {
  azr_listener *l = azr__ws_user_data(ws);
  if (l->control != ws) return;
  char desc[300];
  snprintf(desc, sizeof desc, "%s%s%u %s", status ? azr_strerror(status) : "", status ? " / close " : "close ", code,
           reason);
  AZR__LLOG(l, AZR_LOG_INFO, "control", "control channel closed: %s", desc);
  if (azr__ws_keepalive_expired(ws))
    azr__listener_status(l, "KeepAliveTimeout", AZR_E_TIMEOUT, "no answer from the relay; reconnecting");
  schedule_reconnect(l, status, code, desc, 0);
}

static const struct azr__ws_callbacks control_cb = {.on_open = c_open,
                                                    .on_message_begin = c_message_begin,
                                                    .on_message_data = c_message_data,
                                                    .on_close = c_close};

static void control_tls(void *ud, struct azr__tls_event *ev) {
  azr_listener *l = ud;
  switch (ev->kind) {
  case AZR__TLS_STATUS: {
    AZR__LLOG(l, AZR_LOG_DEBUG, "tls", "%s", ev->message);
    azr_ssl_status_event sev = {ev->message};
    AZR__FIRE(l, on_ssl_status, &sev);
    break;
  }
  case AZR__TLS_SERVER_CERT: {
    azr__free(l->mem, l->server_cert_pem);
    l->server_cert_pem = azr__strdup(l->mem, ev->cert_pem);
    azr_ssl_server_authentication_event aev = {ev->cert_pem, ev->subject, ev->issuer, ev->status, ev->accept};
    AZR__FIRE(l, on_ssl_server_authentication, &aev);
    if (aev.accept != ev->accept)
      AZR__LLOG(l, AZR_LOG_INFO, "tls", "relay certificate %s by the application (%s)",
                aev.accept ? "accepted" : "refused", ev->status);
    ev->accept = aev.accept;
    break;
  }
  case AZR__TLS_DONE:
    azr__tls_info_record(&l->tls, ev);
    break;
  }
}

static void connect_now(azr_listener *l) {
  azr__cc_connecting(&l->cc);
  azr__listener_status(l, "Connecting", AZR_OK, l->host);
  char token[AZR_MAX_TOKEN];
  int64_t expiry = 0;
  int rc = azr__control_make_token(l, token, sizeof token, &expiry);
  struct azr__buf url;
  azr__buf_init(&url, l->mem, AZR_MAX_URL);
  if (!rc)
    rc = azr__hc_url_listen(&url, !l->set.use_development_emulator, l->host, l->port, l->set.hybrid_connection,
                            l->tracking_id, NULL);
  if (!rc) {
    l->token_issued_s = azr__wall_s();
    l->token_expiry_s = expiry;
    const char *headers[] = {"ServiceBusAuthorization", token, NULL};
    struct azr__ws_connect_request req = {azr__buf_cstr(&url), headers, NULL};
    struct azr__connect_options o;
    azr__listener_connect_options(l, &o);
    o.tls_observer = control_tls;
    o.tls_observer_ud = l;
    o.tcp_user_timeout_ms = azr__settings_control_user_timeout_ms(&l->set);
    struct azr__ws_options wo;
    azr__settings_ws_options(&l->set, &wo);
    wo.session.buffer_messages = true;
    wo.session.max_message_size = 1024 * 1024; /* commands and bodies are < 64 KiB; allow slack */
    wo.max_frame_size = 128 * 1024;
    wo.send_queue_cap = 4 * 1024 * 1024;
    wo.dont_wait_for_close = false;
    wo.keepalive_reply_timeout_ms = l->set.ping_timeout_s > 0 ? (uint32_t)l->set.ping_timeout_s * 1000u : 0;
    wo.log = &l->log;
    wo.log_category = "control";
    AZR__LLOG(l, AZR_LOG_VERBOSE, "control", "connecting to %s", azr__buf_cstr(&url));
    rc = azr__ws_connect(l->curl, &o, &req, &wo, &control_cb, l, &l->control);
  }
  azr__buf_free(&url);
  if (rc) {
    l->control = NULL;
    azr_connected_event ev = {rc, l->last_error[0] ? l->last_error : azr_strerror(rc), 0};
    AZR__FIRE(l, on_connected, &ev);
    schedule_reconnect(l, rc, 0, ev.description, 0);
  }
}

int azr__control_start(azr_listener *l) {
  if (parse_namespace(l) != AZR_OK) {
    azr__listener_set_error(l, "NamespaceAddress is not set or malformed");
    return AZR_E_INVALID_ARG;
  }
  if (!l->set.hybrid_connection || !*l->set.hybrid_connection) {
    azr__listener_set_error(l, "HybridConnection is not set");
    return AZR_E_INVALID_ARG;
  }
  char token[AZR_MAX_TOKEN];
  int64_t expiry;
  int rc = azr__control_make_token(l, token, sizeof token, &expiry);
  if (rc) return rc;
  /* One tracking id for the listener's life, so relay-side traces line up across reconnects. */
  if (l->set.diagnostic_id && *l->set.diagnostic_id) snprintf(l->tracking_id, sizeof l->tracking_id, "%s", l->set.diagnostic_id);
  else if (!l->tracking_id[0]) azr__guid(l->tracking_id);
  azr__cc_start(&l->cc);
  /* Connect from the loop so no callback runs inside this call. */
  uv_timer_start(&l->reconnect_timer, on_reconnect_timer, 0, 0);
  return AZR_OK;
}

void azr__control_stop(azr_listener *l) {
  uv_timer_stop(&l->reconnect_timer);
  uv_timer_stop(&l->renew_timer);
  struct azr__ws *ws = l->control;
  l->control = NULL;
  azr__cc_stop(&l->cc);
  if (ws) {
    static const struct azr__ws_callbacks none = {0};
    azr__ws_set_callbacks(ws, &none);
    if (l->freeing) azr__ws_abort(ws);
    else if (azr__ws_is_open(ws)) azr__ws_close(ws, 1000, "Normal Closure");
    else azr__ws_abort(ws);
    if (!l->freeing) {
      azr_disconnected_event ev = {AZR_OK, 1000, "stopped", false, 0};
      l->stats.control_losses++;
      AZR__FIRE(l, on_disconnected, &ev);
    }
  }
}
