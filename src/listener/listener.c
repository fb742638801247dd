/* SPDX-License-Identifier: MIT */
/* The listener object: creation, identity, settings, the loop, and teardown. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azrelay/uv.h"
#include "io/loop.h"
#include "listener/listener_internal.h"
#include "proto/hc_url.h"
#include "proto/connstr.h"
#include "proto/sas.h"
#include "util/crypto.h"

void azr__listener_set_error(azr_listener *l, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(l->last_error, sizeof l->last_error, fmt, ap);
  va_end(ap);
}

void azr__listener_error(azr_listener *l, int status, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  AZR__LLOG(l, AZR_LOG_INFO, "listener", "error %d: %s", status, msg);
  azr_error_event ev = {status, msg};
  AZR__FIRE(l, on_error, &ev);
}

void azr__listener_status(azr_listener *l, const char *event, int status, const char *description) {
  AZR__LLOG(l, AZR_LOG_VERBOSE, "control", "%s%s%s", event, description && *description ? ": " : "",
            description ? description : "");
  azr_connection_status_event ev = {event, status, description ? description : "", (azr_listener_state)l->cc.state};
  AZR__FIRE(l, on_connection_status, &ev);
}

uint32_t azr__listener_random(azr_listener *l) {
  uint64_t x = l->rng; /* xorshift64*: reconnect jitter only */
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  l->rng = x;
  return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

static int init(azr_listener *l, uv_loop_t *loop) {
  l->mem = azr__mem_default();
  if (loop) {
    l->loop = loop;
  } else {
    if (uv_loop_init(&l->own_loop) != 0) return AZR_E_NOMEM;
    l->loop = &l->own_loop;
    l->owns_loop = true;
  }
  azr__settings_init(&l->set);
  l->log.level = l->set.log_level;
  azr__idmap_init(&l->conn_map, l->mem);
  azr__http_init(l);
  uint8_t seed[8];
  azr__random_bytes(seed, sizeof seed);
  memcpy(&l->rng, seed, sizeof seed);
  l->rng |= 1;
  int rc = azr__curl_new(l->loop, l->mem, &l->log, &l->curl);
  if (rc) return rc;
  azr__control_init(l);
  return AZR_OK;
}

int azr_listener_new(azr_listener **out) {
  if (!out) return AZR_E_INVALID_ARG;
  azr_listener *l = azr__calloc(azr__mem_default(), 1, sizeof *l);
  if (!l) return AZR_E_NOMEM;
  int rc = init(l, NULL);
  if (rc) {
    if (l->owns_loop) uv_loop_close(&l->own_loop);
    azr__free(azr__mem_default(), l);
    return rc;
  }
  *out = l;
  return AZR_OK;
}

int azr_listener_new_on_uv(azr_listener **out, uv_loop_t *loop) {
  if (!out || !loop) return AZR_E_INVALID_ARG;
  azr_listener *l = azr__calloc(azr__mem_default(), 1, sizeof *l);
  if (!l) return AZR_E_NOMEM;
  int rc = init(l, loop);
  if (rc) {
    azr__free(azr__mem_default(), l);
    return rc;
  }
  *out = l;
  return AZR_OK;
}

static void release_memory(azr_listener *l) {
  azr__idmap_free(&l->conn_map);
  azr__idmap_free(&l->http_map);
  azr__free(l->mem, l->rejects);
  azr__settings_free(l->mem, &l->set);
  azr__free(l->mem, l->server_cert_pem);
  azr__free(l->mem, l);
}

static bool idle(const azr_listener *l) {
  return l->handles_open == 0 && !l->conns && !l->http_reqs && !l->http_rvs && !l->curl_closing;
}

void azr__listener_maybe_release(azr_listener *l) {
  if (l->release_when_idle && idle(l)) release_memory(l);
}

/* Connections that were closing when the listener was freed have finished flushing. */
static void curl_freed(void *ud) {
  azr_listener *l = ud;
  l->curl_closing = false;
  azr__listener_maybe_release(l);
}

void azr_listener_free(azr_listener *l) {
  if (!l) return;
  if (l->in_callback) {
    AZR__LLOG(l, AZR_LOG_INFO, "listener", "azr_listener_free called inside a callback: ignored");
    return;
  }
  l->freeing = true;
  azr__control_stop(l);
  azr__rejects_abort(l);
  azr__http_abort_all(l);
  for (struct azr__conn *c = l->conns; c; c = c->next) {
    if (c->ws) azr__ws_abort(c->ws);
    else azr__conn_release(c);
  }
  azr__control_close_handles(l);
  l->curl_closing = true;
  azr__curl_free(l->curl, curl_freed, l);
  l->curl = NULL;
  if (!l->owns_loop) {
    /* The application's loop delivers the remaining close callbacks; the last one frees us. */
    l->release_when_idle = true;
    azr__listener_maybe_release(l);
    return;
  }
  for (int i = 0; i < 1000 && !idle(l); i++) uv_run(l->loop, UV_RUN_ONCE);
  azr__loop_close_all(l->loop);
  release_memory(l);
}

int azr_listener_set_callbacks(azr_listener *l, const azr_listener_callbacks *cb, size_t size, void *user_data) {
  if (!l) return AZR_E_INVALID_ARG;
  memset(&l->cb, 0, sizeof l->cb);
  if (cb) memcpy(&l->cb, cb, size < sizeof l->cb ? size : sizeof l->cb);
  l->ud = user_data;
  return AZR_OK;
}

void azr_listener_set_log(azr_listener *l, azr_log_fn fn, void *user_data) {
  if (!l) return;
  l->log.fn = fn;
  l->log.ud = user_data;
}

const char *azr_listener_get_last_error(const azr_listener *l) { return l ? l->last_error : ""; }
bool azr_listener_is_listening(const azr_listener *l) { return l && azr__listener_listening(l); }
bool azr_listener_is_connected(const azr_listener *l) { return l && azr__listener_online(l); }

int azr_listener_get_stats(const azr_listener *l, azr_listener_stats *out, size_t out_size) {
  if (!l || !out || out_size == 0) return AZR_E_INVALID_ARG;
  azr_listener_stats s = l->stats;
  for (const struct azr__conn *c = l->conns; c; c = c->next) {
    s.bytes_received += c->total_received;
    s.bytes_sent += c->total_sent;
    if (c->state == AZR__CONN_OPEN || c->state == AZR__CONN_CLOSING) s.connections_open++;
  }
  s.online = azr__listener_online(l);
  memcpy(out, &s, out_size < sizeof s ? out_size : sizeof s);
  return AZR_OK;
}
azr_listener_state azr_listener_get_state(const azr_listener *l) { return l ? (azr_listener_state)l->cc.state : AZR_STATE_STOPPED; }

/* ---- identity ---- */

static int set_string(azr_listener *l, const char *name, const char *value) {
  char err[256] = "";
  size_t nlen = strlen(name);
  struct azr__settings_context ctx = {azr__listener_listening(l)};
  int rc = azr__settings_set(l->mem, &l->set, &ctx, name, nlen, value ? value : "", err, sizeof err);
  if (rc) azr__listener_set_error(l, "%s", err);
  return rc;
}

int azr_listener_set_namespace(azr_listener *l, const char *ns) {
  if (!l || !ns) return AZR_E_INVALID_ARG;
  return set_string(l, "NamespaceAddress", ns);
}

int azr_listener_set_hybrid_connection(azr_listener *l, const char *path) {
  if (!l || !path) return AZR_E_INVALID_ARG;
  return set_string(l, "HybridConnection", path);
}

int azr_listener_set_key(azr_listener *l, const char *key_name, const char *key) {
  if (!l || !key_name || !key) return AZR_E_INVALID_ARG;
  int rc = set_string(l, "AccessKeyName", key_name);
  if (!rc) rc = set_string(l, "AccessKey", key);
  return rc;
}

int azr_listener_set_token(azr_listener *l, const char *token) {
  if (!l || !token) return AZR_E_INVALID_ARG;
  return set_string(l, "SasToken", token);
}

int azr_listener_set_token_provider(azr_listener *l, azr_token_provider_fn fn, void *user_data) {
  if (!l) return AZR_E_INVALID_ARG;
  l->token_fn = fn;
  l->token_ud = user_data;
  return AZR_OK;
}

int azr_listener_set_connection_string(azr_listener *l, const char *connection_string) {
  if (!l || !connection_string) return AZR_E_INVALID_ARG;
  struct azr__settings_context ctx = {azr__listener_listening(l)};
  char err[256];
  int rc = azr__settings_apply_connection_string(l->mem, &l->set, &ctx, connection_string, err, sizeof err);
  if (rc) azr__listener_set_error(l, "connection string: %s", err);
  return rc;
}

/* ---- settings by name ---- */

static int indexed(const char *name, size_t nlen, char *base, size_t base_len, azr_conn_id *id) {
  const char *lb = memchr(name, '[', nlen);
  if (!lb || name[nlen - 1] != ']') return 0;
  size_t blen = (size_t)(lb - name);
  if (blen >= base_len) return -1;
  memcpy(base, name, blen);
  base[blen] = 0;
  char num[32];
  size_t ilen = nlen - blen - 2;
  if (ilen == 0 || ilen >= sizeof num) return -1;
  memcpy(num, lb + 1, ilen);
  num[ilen] = 0;
  char *end;
  unsigned long long v = strtoull(num, &end, 10);
  if (*end) return -1;
  *id = (azr_conn_id)v;
  return 1;
}

int azr_listener_config(azr_listener *l, const char *setting) {
  if (!l || !setting) return AZR_E_INVALID_ARG;
  const char *eq = strchr(setting, '=');
  if (!eq) {
    azr__listener_set_error(l, "'%s' is not Name=Value", setting);
    return AZR_E_INVALID_ARG;
  }
  size_t nlen = (size_t)(eq - setting);
  const char *value = eq + 1;
  char base[64];
  azr_conn_id id;
  int ix = indexed(setting, nlen, base, sizeof base, &id);
  if (ix < 0) {
    azr__listener_set_error(l, "malformed indexed setting '%.*s'", (int)nlen, setting);
    return AZR_E_INVALID_ARG;
  }
  if (ix > 0) {
    char *end;
    long long v = strtoll(value, &end, 10);
    if (*value == 0 || *end) {
      azr__listener_set_error(l, "%s: '%s' is not a number", base, value);
      return AZR_E_INVALID_ARG;
    }
    if (!strcasecmp(base, "MessageLength")) return azr_conn_set_message_length(l, id, v < 0 ? 0 : (uint64_t)v);
    if (!strcasecmp(base, "DataFormat")) return azr_conn_set_data_format(l, id, (azr_data_format)v);
    if (!strcasecmp(base, "Timeout")) return azr_conn_set_timeout(l, id, (int)v);
    azr__listener_set_error(l, "unknown or read-only indexed setting '%s'", base);
    return AZR_E_NOT_FOUND;
  }
  char err[256] = "";
  struct azr__settings_context ctx = {azr__listener_listening(l)};
  int rc = azr__settings_set(l->mem, &l->set, &ctx, setting, nlen, value, err, sizeof err);
  if (rc) azr__listener_set_error(l, "%s", err);
  l->log.level = l->set.log_level;
  return rc;
}

int azr_listener_get_config(azr_listener *l, const char *name, char *out, size_t out_len) {
  if (!l || !name || !out || !out_len) return AZR_E_INVALID_ARG;
  struct azr__buf b;
  azr__buf_init(&b, l->mem, 0);
  int rc = AZR_OK;
  char base[64];
  azr_conn_id id;
  int ix = indexed(name, strlen(name), base, sizeof base, &id);
  if (ix > 0) {
    struct azr__conn *c = azr__conn_find(l, id);
    if (!strcasecmp(base, "ConnectionUID")) rc = azr__buf_printf(&b, "%llu", c ? (unsigned long long)c->id : 0ull);
    else if (!c) rc = AZR_E_INVALID_CONN_ID;
    else if (!strcasecmp(base, "MessageLength")) rc = azr__buf_printf(&b, "%llu", (unsigned long long)c->message_remaining);
    else if (!strcasecmp(base, "DataFormat")) rc = azr__buf_printf(&b, "%d", c->data_format);
    else if (!strcasecmp(base, "Timeout")) rc = azr__buf_printf(&b, "%d", c->timeout_s);
    else rc = azr__tls_info_get(&c->tls, base, &b);
  } else if (ix < 0) {
    rc = AZR_E_INVALID_ARG;
  } else if (!strcasecmp(name, "AccessToken")) {
    char token[4096];
    int64_t expiry;
    rc = azr__control_make_token(l, token, sizeof token, &expiry);
    if (!rc) rc = azr__buf_append_str(&b, token);
  } else if (!strcasecmp(name, "SSLServerCertEncoded")) {
    rc = azr__buf_append_str(&b, l->server_cert_pem ? l->server_cert_pem : "");
  } else if (azr__tls_info_get(&l->tls, name, &b) != AZR_E_NOT_FOUND) {
    rc = AZR_OK;  } else if (!strcasecmp(name, "Listening")) {
    rc = azr__buf_append_str(&b, azr__listener_listening(l) ? "true" : "false");
  } else if (!strcasecmp(name, "Connected")) {
    rc = azr__buf_append_str(&b, azr__listener_online(l) ? "true" : "false");
  } else if (!strcasecmp(name, "AzureRelayConnectionCount")) {
    rc = azr__buf_printf(&b, "%zu", l->conn_count);
  } else {
    rc = azr__settings_get(&l->set, name, &b);
  }
  if (!rc && b.len + 1 > out_len) rc = AZR_E_TOO_BIG;
  if (!rc) memcpy(out, azr__buf_cstr(&b), b.len + 1);
  azr__buf_free(&b);
  if (rc) azr__listener_set_error(l, "cannot read '%s': %s", name, azr_strerror(rc));
  return rc;
}

bool azr__listener_rendezvous_allowed(azr_listener *l, const char *address, const char *what) {
  char err[160];
  if (azr__hc_url_check_rendezvous(address, !l->set.use_development_emulator, err, sizeof err) == AZR_OK) return true;
  azr__listener_error(l, AZR_E_PROTOCOL, "refused the rendezvous address of %s (%s): %s", what, err,
                      address ? address : "(none)");
  return false;
}

void azr__listener_connect_options(azr_listener *l, struct azr__connect_options *o) {
  memset(o, 0, sizeof *o);
  azr__settings_connect_options(&l->set, o);
}

/* ---- lifecycle ---- */

int azr_listener_start(azr_listener *l) {
  if (!l) return AZR_E_INVALID_ARG;
  if (azr__listener_listening(l)) {
    azr__listener_set_error(l, "already listening");
    return AZR_E_ALREADY_LISTENING;
  }
  return azr__control_start(l);
}

int azr_listener_stop(azr_listener *l) {
  if (!l) return AZR_E_INVALID_ARG;
  if (!azr__listener_listening(l)) return AZR_OK;
  azr__control_stop(l);
  return AZR_OK;
}

int azr_listener_shutdown(azr_listener *l) {
  if (!l) return AZR_E_INVALID_ARG;
  (void)azr_listener_stop(l);
  /* Connections already closing answer AZR_E_CLOSED: nothing more to do for them. */
  for (struct azr__conn *c = l->conns; c; c = c->next) (void)azr_conn_disconnect(l, c->id);
  return AZR_OK;
}

int azr_listener_run(azr_listener *l, int timeout_ms) {
  if (!l) return AZR_E_INVALID_ARG;
  if (l->in_callback) {
    azr__listener_set_error(l, "azr_listener_run cannot be called inside a callback");
    return AZR_E_BAD_STATE;
  }
  l->run_stop = false;
  azr__loop_run(l->loop, timeout_ms, &l->run_stop);
  return AZR_OK;
}

void azr_listener_interrupt_run(azr_listener *l) {
  if (!l) return;
  l->run_stop = true;
  uv_stop(l->loop);
}

void azr__tls_info_record(struct azr__tls_info *info, const struct azr__tls_event *ev) {
  snprintf(info->version, sizeof info->version, "%s", ev->version);
  snprintf(info->cipher, sizeof info->cipher, "%s", ev->cipher);
  snprintf(info->group, sizeof info->group, "%s", ev->group);
  info->cipher_bits = ev->cipher_bits;
}

int azr__tls_info_get(const struct azr__tls_info *info, const char *name, struct azr__buf *out) {
  if (!strcasecmp(name, "SSLNegotiatedVersion")) return azr__buf_append_str(out, info->version);
  if (!strcasecmp(name, "SSLNegotiatedCipher") || !strcasecmp(name, "SSLNegotiatedCipherSuite"))
    return azr__buf_append_str(out, info->cipher);
  if (!strcasecmp(name, "SSLNegotiatedCipherStrength")) return azr__buf_printf(out, "%d", info->cipher_bits);
  if (!strcasecmp(name, "SSLNegotiatedKeyExchange")) return azr__buf_append_str(out, info->group);
  if (!strcasecmp(name, "SSLNegotiatedKeyExchangeStrength")) {
    /* The size of the (EC)DHE group's key, from its name. */
    int bits = strstr(info->group, "521") ? 521 : strstr(info->group, "384") ? 384 : info->group[0] ? 256 : 0;
    return azr__buf_printf(out, "%d", bits);
  }
  return AZR_E_NOT_FOUND;
}
