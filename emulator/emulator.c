/* SPDX-License-Identifier: MIT */
/* The emulator object: configuration, settings table, lifecycle and the loop. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator/cert.h"
#include "emulator/config_file.h"
#include "emulator/emulator_internal.h"
#include "io/loop.h"
#include "proto/connstr.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/limits.h"

static void set_error(azr_emulator *em, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(azr_emulator *em, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(em->last_error, sizeof em->last_error, fmt, ap);
  va_end(ap);
}

/* ---- settings ---- */

enum setting_type { S_I64, S_INT, S_UINT, S_U32, S_BOOL, S_HOST, S_HOSTS, S_SECRET, S_IDLE_ACTION };
struct setting {
  const char *name;
  enum setting_type type;
  size_t offset;
  int64_t min, max;
};

#define SET(name, type, field, min, max) {name, type, offsetof(struct emu_settings, field), min, max}
static const struct setting settings_table[] = {
    SET("TokenGraceSeconds", S_I64, token_grace_s, 0, 86400),
    SET("TokenMaxTtlSeconds", S_I64, token_max_ttl_s, 0, 10 * 365 * 86400LL),
    SET("ClockSkewSeconds", S_I64, clock_skew_s, 0, 3600),
    SET("ClockSpeed", S_INT, clock_speed, 1, 100000),
    SET("MaxListenersPerHybridConnection", S_UINT, max_listeners, 1, 100000),
    SET("MaxConnections", S_UINT, max_connections, 1, 10000000),
    SET("MaxPendingConnectionsPerAddress", S_UINT, max_pending_per_address, 1, 10000000),
    SET("AcceptTimeoutMs", S_U32, accept_timeout_ms, 1, 3600000),
    SET("AcceptTimeoutStatus", S_INT, accept_timeout_status, 400, 599),
    SET("HttpResponseTimeoutMs", S_U32, http_timeout_ms, 1, 3600000),
    SET("NoListenerHttpStatus", S_INT, no_listener_http_status, 400, 599),
    SET("MissingRightStatus", S_INT, missing_right_status, 401, 403),
    SET("ListenerQuotaStatus", S_INT, listener_quota_status, 400, 599),
    SET("LenientRejectParameters", S_BOOL, lenient_reject_params, 0, 1),
    SET("RendezvousRequestAddress", S_BOOL, rendezvous_request_address, 0, 1),
    SET("RequestHeadTimeoutMs", S_U32, head_timeout_ms, 1, 3600000),
    SET("IdleTimeoutMs", S_U32, idle_timeout_ms, 0, 86400000),
    SET("IdleTimeoutAction", S_IDLE_ACTION, idle_timeout_action, 0, 1),
    SET("HttpKeepAliveTimeoutMs", S_U32, http_keepalive_timeout_ms, 1, 3600000),
    SET("LatencyMs", S_U32, latency_ms, 0, 600000),
    SET("RendezvousDelayMs", S_U32, rendezvous_delay_ms, 0, 600000),
    SET("RendezvousFailPercent", S_UINT, rendezvous_fail_percent, 0, 100),
    SET("DropListenersAfterMs", S_U32, drop_listeners_after_ms, 0, 86400000),
    /* strings: max is the field's size */
    SET("NamespaceAliases", S_HOSTS, namespace_aliases, 0, sizeof(((struct emu_settings *)0)->namespace_aliases)),
    SET("GatewayHost", S_HOST, gateway_host, 0, sizeof(((struct emu_settings *)0)->gateway_host)),
    SET("HomeAddress", S_HOST, home_address, 0, sizeof(((struct emu_settings *)0)->home_address)),
    SET("GatewaySecret", S_SECRET, gateway_secret, 0, sizeof(((struct emu_settings *)0)->gateway_secret)),
};

static void default_settings(struct emu_settings *s) {
  memset(s, 0, sizeof *s);
  s->token_grace_s = 0;
  s->clock_skew_s = 5;
  s->clock_speed = 1;
  s->max_listeners = 25;
  s->max_connections = 5000;
  s->max_pending_per_address = 1024;
  s->accept_timeout_ms = 30000;
  s->accept_timeout_status = 404;
  s->http_timeout_ms = 60000;
  s->no_listener_http_status = 404;
  s->missing_right_status = 401;
  s->listener_quota_status = 403;
  s->head_timeout_ms = 30000;
  s->idle_timeout_ms = 240000;
  s->rendezvous_request_address = true;
  s->http_keepalive_timeout_ms = 30000;
}

static void on_maintenance(uv_timer_t *t);

int azr_emulator_config(azr_emulator *em, const char *setting) {
  if (!em || !setting) return AZR_E_INVALID_ARG;
  const char *eq = strchr(setting, '=');
  if (!eq) {
    set_error(em, "setting '%s' has no '='", setting);
    return AZR_E_INVALID_ARG;
  }
  size_t nlen = (size_t)(eq - setting);
  const char *value = eq + 1;
  if (nlen == strlen("RefuseListenSeconds") && !strncasecmp(setting, "RefuseListenSeconds", nlen)) {
    char *end;
    long v = strtol(value, &end, 10);
    if (*value == 0 || *end || v < 0 || v > 86400) {
      set_error(em, "RefuseListenSeconds: bad value '%s'", value);
      return AZR_E_INVALID_ARG;
    }
    em->settings.refuse_listen_until_ms = v ? (int64_t)(azr__now_ms() + (uint64_t)v * 1000u) : 0;
    return AZR_OK;
  }
  if (nlen == strlen("DropListenersNow") && !strncasecmp(setting, "DropListenersNow", nlen)) {
    int code = atoi(value);
    azr__emu_control_close_all(em, (uint16_t)(code >= 1000 && code <= 4999 ? code : 1011), "NameRenewalFailed", NULL);
    return AZR_OK;
  }
  for (size_t i = 0; i < sizeof settings_table / sizeof settings_table[0]; i++) {
    const struct setting *st = &settings_table[i];
    if (strlen(st->name) != nlen || strncasecmp(st->name, setting, nlen) != 0) continue;
    if (st->type == S_SECRET) {
      /* URL-safe characters; never echoed in an error. */
      size_t len = strlen(value);
      bool ok = len < (size_t)st->max && (len == 0 || len >= EMU_GATEWAY_SECRET_MIN);
      for (size_t k = 0; ok && k < len; k++) ok = isalnum((unsigned char)value[k]) || strchr("-_.~", value[k]);
      if (!ok) {
        set_error(em, "%s: expected %d to %lld letters, digits or -_.~", st->name, EMU_GATEWAY_SECRET_MIN,
                  (long long)st->max - 1);
        return AZR_E_INVALID_ARG;
      }
      memcpy((char *)&em->settings + st->offset, value, len + 1);
      return AZR_OK;
    }
    if (em->started && !strcasecmp(st->name, "HomeAddress")) {
      set_error(em, "HomeAddress can only be set before the emulator starts");
      return AZR_E_BAD_STATE;
    }
    if (st->type == S_HOST || st->type == S_HOSTS) {
      /* Host names (letters, digits, '-', '.', ':', '[', ']'), comma-separated for S_HOSTS. */
      size_t len = strlen(value);
      bool ok = len < (size_t)st->max;
      const char *allowed = st->type == S_HOSTS ? "-.:[]," : "-.:[]";
      for (size_t k = 0; ok && k < len; k++) ok = isalnum((unsigned char)value[k]) || strchr(allowed, value[k]);
      if (!ok) {
        set_error(em, "%s: '%s' is not %s (at most %lld characters)", st->name, value,
                  st->type == S_HOSTS ? "a comma-separated list of host names" : "a host name or address",
                  (long long)st->max - 1);
        return AZR_E_INVALID_ARG;
      }
      memcpy((char *)&em->settings + st->offset, value, len + 1);
      return AZR_OK;
    }
    int64_t v;
    if (st->type == S_IDLE_ACTION) {
      if (!strcasecmp(value, "blackhole")) v = EMU_IDLE_BLACK_HOLE;
      else if (!strcasecmp(value, "reset")) v = EMU_IDLE_RESET;
      else {
        set_error(em, "%s: expected blackhole or reset, got '%s'", st->name, value);
        return AZR_E_INVALID_ARG;
      }
    } else if (st->type == S_BOOL) {
      if (!strcasecmp(value, "true") || !strcmp(value, "1")) v = 1;
      else if (!strcasecmp(value, "false") || !strcmp(value, "0")) v = 0;
      else {
        set_error(em, "%s: expected true or false, got '%s'", st->name, value);
        return AZR_E_INVALID_ARG;
      }
    } else {
      char *end;
      long long ll = strtoll(value, &end, 10);
      if (*value == 0 || *end || ll < st->min || ll > st->max) {
        set_error(em, "%s: '%s' is not a number from %lld to %lld", st->name, value, (long long)st->min,
                  (long long)st->max);
        return AZR_E_INVALID_ARG;
      }
      v = ll;
    }
    char *field = (char *)&em->settings + st->offset;
    switch (st->type) {
    case S_I64: *(int64_t *)field = v; break;
    case S_INT:
    case S_IDLE_ACTION: *(int *)field = (int)v; break;
    case S_UINT: *(unsigned *)field = (unsigned)v; break;
    case S_U32: *(uint32_t *)field = (uint32_t)v; break;
    case S_BOOL: *(bool *)field = v != 0; break;
    case S_HOST:
    case S_HOSTS:
    case S_SECRET: break;
    }
    if (em->started && !strcasecmp(st->name, "DropListenersAfterMs") && v > 0)
      uv_timer_start(&em->maintenance, on_maintenance, (uint64_t)v, 0);
    if (!strcasecmp(st->name, "IdleTimeoutMs")) azr__emu_idle_start(em);
    return AZR_OK;
  }
  set_error(em, "unknown setting '%.*s'", (int)nlen, setting);
  return AZR_E_NOT_FOUND;
}

/* ---- construction ---- */

static char *dup_or(const struct azr__mem *mem, const char *s, const char *dflt) {
  return azr__strdup(mem, s && *s ? s : dflt);
}

int azr_emulator_new(azr_emulator **out, const azr_emulator_options *options, size_t options_size) {
  if (!out || (options && options_size == 0)) return AZR_E_INVALID_ARG;
  azr_emulator_options o = {0};
  if (options) memcpy(&o, options, options_size < sizeof o ? options_size : sizeof o);
  const struct azr__mem *mem = azr__mem_default();
  azr_emulator *em = azr__calloc(mem, 1, sizeof *em);
  if (!em) return AZR_E_NOMEM;
  em->mem = mem;
  if (uv_loop_init(&em->loop) != 0) {
    azr__free(mem, em);
    return AZR_E_NOMEM;
  }
  uv_timer_init(&em->loop, &em->maintenance);
  uv_timer_init(&em->loop, &em->idle_sweep);
  em->maintenance.data = em->idle_sweep.data = em;
  em->log.fn = o.log;
  em->log.ud = o.log_user_data;
  em->log.level = o.log_level;
  em->bind_host = dup_or(mem, o.bind_host, "127.0.0.1");
  em->namespace_host = dup_or(mem, o.namespace_host, "localhost");
  em->port = o.port;
  em->plain = o.plain;
  azr__buf_init(&em->cert_pem, mem, 0);
  azr__buf_init(&em->key_pem, mem, 0);
  azr__strmap_init(&em->pending, mem);
  azr__strmap_init(&em->pending_by_address, mem);
  default_settings(&em->settings);
  uint8_t seed[8];
  azr__random_bytes(seed, sizeof seed);
  memcpy(&em->rng_state, seed, sizeof seed);
  em->rng_state |= 1;
  em->clock_anchor_s = azr__wall_s();
  em->clock_anchor_ms = azr__now_ms();
  *out = em;
  if (!em->bind_host || !em->namespace_host) {
    azr_emulator_free(em);
    *out = NULL;
    return AZR_E_NOMEM;
  }
  if (!o.plain && o.tls_cert_pem && o.tls_key_pem &&
      (azr__buf_append_str(&em->cert_pem, o.tls_cert_pem) || azr__buf_append_str(&em->key_pem, o.tls_key_pem))) {
    azr_emulator_free(em);
    *out = NULL;
    return AZR_E_NOMEM;
  }
  return AZR_OK;
}

int azr_emulator_add_rule(azr_emulator *em, const char *name, const char *primary_key, const char *secondary_key,
                          unsigned rights, const char *entity) {
  if (!em || !name || !*name || !primary_key || !*primary_key) return AZR_E_INVALID_ARG;
  if (strlen(name) > AZR_MAX_SAS_KEY || strlen(primary_key) > AZR_MAX_SAS_KEY ||
      (secondary_key && strlen(secondary_key) > AZR_MAX_SAS_KEY)) {
    set_error(em, "rule names and keys are limited to %u characters", AZR_MAX_SAS_KEY);
    return AZR_E_TOO_BIG;
  }
  struct emu_rule *r = azr__realloc(em->mem, em->rules, (em->rule_count + 1) * sizeof *r);
  if (!r) return AZR_E_NOMEM;
  em->rules = r;
  r = &em->rules[em->rule_count];
  memset(r, 0, sizeof *r);
  r->name = azr__strdup(em->mem, name);
  r->primary_key = azr__strdup(em->mem, primary_key);
  r->secondary_key = secondary_key && *secondary_key ? azr__strdup(em->mem, secondary_key) : NULL;
  r->entity = entity && *entity ? azr__strdup(em->mem, entity) : NULL;
  r->rights = rights & AZR_RIGHT_MANAGE ? (AZR_RIGHT_LISTEN | AZR_RIGHT_SEND | AZR_RIGHT_MANAGE) : rights;
  em->rule_count++;
  if (!r->name || !r->primary_key) return AZR_E_NOMEM;
  return AZR_OK;
}

int azr_emulator_add_hybrid_connection(azr_emulator *em, const char *path, bool requires_client_authorization) {
  if (!em || !path) return AZR_E_INVALID_ARG;
  while (*path == '/') path++;
  size_t len = strlen(path);
  while (len && path[len - 1] == '/') len--;
  if (!len || len > 260) {
    set_error(em, "a hybrid connection path must have 1 to 260 characters");
    return AZR_E_INVALID_ARG;
  }
  for (size_t i = 0; i < len; i++) {
    char c = path[i];
    if (c <= ' ' || c == '?' || c == '#' || c == '%' || c == '\\' || (unsigned char)c >= 0x7f) {
      set_error(em, "hybrid connection path '%.*s' has a character that is not allowed", (int)len, path);
      return AZR_E_INVALID_ARG;
    }
  }
  for (size_t i = 0; i < em->entity_count; i++)
    if (strlen(em->entities[i].path) == len && !strncasecmp(em->entities[i].path, path, len)) {
      set_error(em, "hybrid connection '%.*s' already exists", (int)len, path);
      return AZR_E_INVALID_ARG;
    }
  if (em->started) {
    set_error(em, "hybrid connections must be added before azr_emulator_start");
    return AZR_E_BAD_STATE;
  }
  struct emu_entity *e = azr__realloc(em->mem, em->entities, (em->entity_count + 1) * sizeof *e);
  if (!e) return AZR_E_NOMEM;
  em->entities = e;
  e = &em->entities[em->entity_count];
  memset(e, 0, sizeof *e);
  e->path = azr__strndup(em->mem, path, len);
  if (!e->path) return AZR_E_NOMEM;
  e->requires_client_auth = requires_client_authorization;
  em->entity_count++;
  return AZR_OK;
}

int azr_emulator_load_config(azr_emulator *em, const char *path) {
  if (!em || !path) return AZR_E_INVALID_ARG;
  struct azr__emu_config cfg;
  char err[256];
  int rc = azr__emu_config_load_file(em->mem, path, &cfg, err, sizeof err);
  if (rc) {
    set_error(em, "%s: %s", path, err);
    return rc;
  }
  for (size_t i = 0; !rc && i < cfg.rule_count; i++) {
    struct azr__emu_rule_cfg *r = &cfg.rules[i];
    rc = azr_emulator_add_rule(em, r->name, r->primary_key, r->secondary_key, r->rights, NULL);
  }
  for (size_t i = 0; !rc && i < cfg.hc_count; i++) {
    struct azr__emu_hc_cfg *h = &cfg.hcs[i];
    rc = azr_emulator_add_hybrid_connection(em, h->path, h->requires_client_authorization);
    for (size_t j = 0; !rc && j < h->rule_count; j++) {
      struct azr__emu_rule_cfg *r = &h->rules[j];
      rc = azr_emulator_add_rule(em, r->name, r->primary_key, r->secondary_key, r->rights, h->path);
    }
  }
  for (size_t i = 0; !rc && i < cfg.setting_count; i++) rc = azr_emulator_config(em, cfg.settings[i]);
  if (!rc && cfg.namespace_host && *cfg.namespace_host && !em->started) {
    char *ns = azr__strdup(em->mem, cfg.namespace_host);
    if (ns) {
      azr__free(em->mem, em->namespace_host);
      em->namespace_host = ns;
    }
  }
  azr__emu_config_free(em->mem, &cfg);
  return rc;
}

/* ---- lifecycle ---- */

static void on_maintenance(uv_timer_t *t) {
  azr_emulator *em = t->data;
  if (em->settings.drop_listeners_after_ms) {
    azr__emu_control_close_all(em, 1011, "NameRenewalFailed", NULL);
    uv_timer_start(&em->maintenance, on_maintenance, em->settings.drop_listeners_after_ms, 0);
  }
}

/* GatewayHost set to a host (not "" = automatic, not "listener"): copied without brackets. */
static bool explicit_gateway(const azr_emulator *em, char *out, size_t len) {
  const char *g = em->settings.gateway_host;
  if (!*g || !strcasecmp(g, "listener")) return false;
  size_t n = strlen(g);
  if (n >= 2 && g[0] == '[' && g[n - 1] == ']') snprintf(out, len, "%.*s", (int)(n - 2), g + 1);
  else snprintf(out, len, "%s", g);
  return true;
}

/* §2.4: the service hands out rendezvous addresses on a gateway host, not the namespace host. On
 * loopback the second name is the bound address itself (127.0.0.1 for the namespace localhost):
 * it resolves everywhere without a hosts file and the generated certificate names it. Not when
 * the bind is a wildcard, the address is the namespace host itself, or a given certificate does
 * not name it: then the listener's own Host is used, as with GatewayHost=listener. */
static void choose_auto_gateway(azr_emulator *em) {
  em->auto_gateway[0] = 0;
  const char *a = azr__tcp_server_address(em->server);
  if (!strcmp(a, "0.0.0.0") || !strcmp(a, "[::]")) return;
  char bare[64];
  size_t n = strlen(a);
  snprintf(bare, sizeof bare, "%.*s", (int)(a[0] == '[' ? n - 2 : n), a[0] == '[' ? a + 1 : a);
  if (!strcasecmp(bare, em->namespace_host) || !strcasecmp(a, em->namespace_host)) return;
  if (!em->plain && !azr__emu_cert_covers((const char *)em->cert_pem.data, em->cert_pem.len, bare)) return;
  snprintf(em->auto_gateway, sizeof em->auto_gateway, "%s", a);
}

void azr__emu_rendezvous_authority(const azr_emulator *em, const char *listener_host, char *out, size_t len) {
  char gw[sizeof em->settings.gateway_host];
  if (explicit_gateway(em, gw, sizeof gw)) {
    bool v6 = strchr(gw, ':') != NULL;
    snprintf(out, len, "%s%s%s:%u", v6 ? "[" : "", gw, v6 ? "]" : "", em->port);
  } else if (em->auto_gateway[0] && strcasecmp(em->settings.gateway_host, "listener")) {
    snprintf(out, len, "%s:%u", em->auto_gateway, em->port);
  } else {
    snprintf(out, len, "%s", listener_host);
  }
}

static bool is_loopback(const char *host) {
  return !strcmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "::1");
}

int azr_emulator_start(azr_emulator *em) {
  if (!em) return AZR_E_INVALID_ARG;
  if (em->started) return AZR_E_BAD_STATE;
  if (em->plain && !is_loopback(em->bind_host)) {
    set_error(em, "plain (non-TLS) mode is only allowed on loopback addresses");
    return AZR_E_INVALID_ARG;
  }
  char err[256] = "";
  if (azr__emu_gateway_check(em, err, sizeof err) != AZR_OK) {
    set_error(em, "%s", err);
    return AZR_E_INVALID_ARG;
  }
  if (!em->plain) {
    /* The certificate is made here, after the config file may have renamed the namespace. */
    int rc = AZR_OK;
    if (!em->cert_pem.len) {
      const char *dns[3] = {em->namespace_host, "localhost"};
      const char *ips[3] = {"127.0.0.1", "::1"};
      size_t ndns = strcmp(em->namespace_host, "localhost") ? 2 : 1, nips = 2;
      /* An explicit gateway host goes into the certificate too (§2.4: clients verify it). */
      char gw[sizeof em->settings.gateway_host];
      if (explicit_gateway(em, gw, sizeof gw)) {
        if (azr__emu_cert_is_ip(gw)) {
          if (strcmp(gw, "127.0.0.1") && strcmp(gw, "::1")) ips[nips++] = gw;
        } else if (strcasecmp(gw, em->namespace_host) && strcasecmp(gw, "localhost")) {
          dns[ndns++] = gw;
        }
      }
      rc = azr__emu_cert_generate(dns, ndns, ips, nips, &em->cert_pem, &em->key_pem, err, sizeof err);
    }
    if (!rc && !em->tls)
      rc = azr__tls_server_new((const char *)em->cert_pem.data, em->cert_pem.len, (const char *)em->key_pem.data,
                               em->key_pem.len, &em->tls, err, sizeof err);
    if (rc) {
      set_error(em, "TLS identity: %s", err);
      return rc;
    }
  }
  int rc = azr__tcp_server_open(&em->loop, em->mem, &em->log, em->bind_host, em->port, azr__emu_front_accept, em,
                                &em->server, &em->port, err, sizeof err);
  if (rc) {
    set_error(em, "%s", err);
    return rc;
  }
  char gw[sizeof em->settings.gateway_host];
  if (explicit_gateway(em, gw, sizeof gw) && !em->plain &&
      !azr__emu_cert_covers((const char *)em->cert_pem.data, em->cert_pem.len, gw)) {
    set_error(em, "GatewayHost %s is not named by the served certificate", gw);
    azr__tcp_server_close(em->server);
    em->server = NULL;
    return AZR_E_INVALID_ARG;
  }
  choose_auto_gateway(em);
  em->started = true;
  azr__emu_idle_start(em);
  if (em->settings.drop_listeners_after_ms)
    uv_timer_start(&em->maintenance, on_maintenance, em->settings.drop_listeners_after_ms, 0);
  char rv[320];
  azr__emu_rendezvous_authority(em, "the host each listener dialled", rv, sizeof rv);
  EMU_LOG(em, AZR_LOG_INFO, "listening on %s://%s:%u (namespace %s; rendezvous addresses on %s)",
          em->plain ? "http" : "https", em->bind_host, em->port, em->namespace_host, rv);
  return AZR_OK;
}

int azr_emulator_run(azr_emulator *em, int timeout_ms) {
  if (!em || !em->started) return AZR_E_BAD_STATE;
  em->stop_requested = false;
  azr__loop_run(&em->loop, timeout_ms, &em->stop_requested);
  return AZR_OK;
}

void azr_emulator_stop(azr_emulator *em) {
  if (!em) return;
  em->stop_requested = true;
  uv_stop(&em->loop);
}

void azr_emulator_free(azr_emulator *em) {
  if (!em) return;
  if (em->server) azr__tcp_server_close(em->server);
  em->server = NULL;
  azr__emu_fronts_close_all(em);
  azr__emu_http_close_all(em);
  azr__emu_senders_close_all(em);
  azr__emu_splices_close_all(em);
  azr__emu_control_abort_all(em);
  azr__emu_idle_close_all(em);
  azr__emu_gateway_free(em);
  uv_timer_stop(&em->maintenance);
  uv_close((uv_handle_t *)&em->maintenance, NULL);
  uv_close((uv_handle_t *)&em->idle_sweep, NULL);
  /* Let every connection finish its close callbacks, then force-close anything left. */
  for (int i = 0; i < 50 && uv_run(&em->loop, UV_RUN_NOWAIT); i++) {
  }
  azr__loop_close_all(&em->loop);
  azr__tls_server_free(em->tls);
  for (size_t i = 0; i < em->rule_count; i++) {
    azr__free(em->mem, em->rules[i].name);
    azr__free_secret(em->mem, em->rules[i].primary_key);
    azr__free_secret(em->mem, em->rules[i].secondary_key);
    azr__free(em->mem, em->rules[i].entity);
  }
  azr__free(em->mem, em->rules);
  for (size_t i = 0; i < em->entity_count; i++) azr__free(em->mem, em->entities[i].path);
  azr__free(em->mem, em->entities);
  azr__strmap_free(&em->pending);
  azr__strmap_free(&em->pending_by_address);
  azr__buf_free(&em->cert_pem);
  azr__buf_free(&em->key_pem);
  azr__free(em->mem, em->bind_host);
  azr__free(em->mem, em->namespace_host);
  azr__free(em->mem, em);
}

uint16_t azr_emulator_get_port(const azr_emulator *em) { return em ? em->port : 0; }

const char *azr_emulator_get_namespace(const azr_emulator *em) { return em ? em->namespace_host : ""; }

size_t azr_emulator_get_hybrid_connection_count(const azr_emulator *em) { return em ? em->entity_count : 0; }

const char *azr_emulator_get_hybrid_connection_at(const azr_emulator *em, size_t index) {
  return em && index < em->entity_count ? em->entities[index].path : NULL;
}

const char *azr_emulator_get_certificate_pem(const azr_emulator *em) {
  return em && em->cert_pem.len ? (const char *)em->cert_pem.data : NULL;
}

const char *azr_emulator_get_last_error(const azr_emulator *em) { return em ? em->last_error : ""; }

int azr_emulator_get_connection_string(const azr_emulator *em, const char *path, const char *rule_name, char *out,
                                   size_t out_len) {
  if (!em || !path || !out) return AZR_E_INVALID_ARG;
  const struct emu_rule *rule = NULL;
  for (size_t i = 0; i < em->rule_count; i++)
    if ((!rule_name || !strcmp(em->rules[i].name, rule_name)) &&
        (!em->rules[i].entity || !strcasecmp(em->rules[i].entity, path))) {
      rule = &em->rules[i];
      break;
    }
  bool found = false;
  for (size_t i = 0; i < em->entity_count; i++) found |= !strcasecmp(em->entities[i].path, path);
  if (!rule || !found) return AZR_E_NOT_FOUND;
  struct azr__buf b;
  azr__buf_init(&b, em->mem, 0);
  int rc = azr__connstr_format(&b, em->namespace_host, em->port, rule->name, rule->primary_key, path, em->plain);
  if (!rc && b.len + 1 > out_len) rc = AZR_E_TOO_BIG;
  if (!rc) memcpy(out, b.data, b.len + 1);
  azr__buf_free(&b);
  return rc;
}

/* ---- helpers for the other parts ---- */

struct emu_entity *azr__emu_entity_match(azr_emulator *em, struct azr__span path, struct azr__span *suffix) {
  const char *names[256];
  size_t best = (size_t)-1;
  /* azr__hc_entity_match works on a name array; walk in slices to support any entity count. */
  for (size_t base = 0; base < em->entity_count; base += 256) {
    size_t n = em->entity_count - base < 256 ? em->entity_count - base : 256;
    for (size_t i = 0; i < n; i++) names[i] = em->entities[base + i].path;
    size_t idx;
    struct azr__span suf;
    if (azr__hc_entity_match(path, names, n, &idx, &suf) == AZR_OK) {
      if (best == (size_t)-1 || strlen(em->entities[base + idx].path) > strlen(em->entities[best].path)) {
        best = base + idx;
        if (suffix) *suffix = suf;
      }
    }
  }
  return best == (size_t)-1 ? NULL : &em->entities[best];
}

uint64_t azr__emu_random(azr_emulator *em) {
  uint64_t x = em->rng_state; /* xorshift64*: load balancing and fault dice, not secrets */
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  em->rng_state = x;
  return x * 0x2545F4914F6CDD1Dull;
}

int azr__emu_new_id(struct azr__span base, char out[128]) {
  /* The id is the rendezvous address's only secret (§6.3: the address is the credential), so it
   * ends in 128 bits from the system's CSPRNG; the sender's tracking id in front of them is for
   * tracing only and may be public. */
  uint8_t rnd[16];
  if (azr__random_bytes(rnd, sizeof rnd) != AZR_OK) return AZR_E_IO;
  size_t n = 0;
  for (size_t i = 0; i < base.len && n < 80; i++) {
    char c = base.ptr[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    out[n++] = ok ? c : '-';
  }
  if (n == 0) {
    char guid[37];
    azr__guid(guid);
    memcpy(out, guid, 36);
    n = 36;
  }
  out[n++] = '_';
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof rnd; i++) {
    out[n++] = hex[rnd[i] >> 4];
    out[n++] = hex[rnd[i] & 15];
  }
  out[n] = 0;
  return AZR_OK;
}

int64_t azr_emulator_get_clock_s(const azr_emulator *em) { return em ? azr__emu_now_s(em) : 0; }

int64_t azr__emu_now_s(const azr_emulator *em) {
  /* ClockSpeed > 1 makes token lifetimes pass faster, so a day of renewals fits in minutes: time
   * runs `speed` times faster from the moment the emulator was created. */
  int64_t wall = azr__wall_s();
  if (em->settings.clock_speed <= 1) return wall;
  int64_t elapsed_ms = (int64_t)(azr__now_ms() - em->clock_anchor_ms);
  return em->clock_anchor_s + elapsed_ms * em->settings.clock_speed / 1000;
}

void azr__emu_relay_connections_changed(azr_emulator *em, int delta) {
  if (delta < 0 && (unsigned)-delta > em->relay_connections) em->relay_connections = 0;
  else em->relay_connections = (unsigned)((int)em->relay_connections + delta);
}

bool azr__emu_peer_acquire(azr_emulator *em, const char *address) {
  uintptr_t n = (uintptr_t)azr__strmap_get(&em->pending_by_address, address);
  if (n >= em->settings.max_pending_per_address) return false;
  return azr__strmap_put(&em->pending_by_address, address, (void *)(n + 1)) == AZR_OK;
}

void azr__emu_peer_release(azr_emulator *em, const char *address) {
  uintptr_t n = (uintptr_t)azr__strmap_get(&em->pending_by_address, address);
  if (n <= 1) azr__strmap_remove(&em->pending_by_address, address);
  else (void)azr__strmap_put(&em->pending_by_address, address, (void *)(n - 1));
}

bool azr__emu_log_gate_open(struct emu_log_gate *g, unsigned *suppressed) {
  uint64_t now = azr__now_ms();
  if (g->at_ms && now - g->at_ms < 60000u) {
    g->suppressed++;
    return false;
  }
  *suppressed = g->suppressed;
  g->suppressed = 0;
  g->at_ms = now;
  return true;
}
