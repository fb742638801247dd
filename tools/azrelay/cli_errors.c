/* SPDX-License-Identifier: MIT */
/* One clear line per failure: what happened, in the user's terms, and what to change. */
#include "cli_errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_is_relay_reply(const char *description) { return description && strstr(description, "TrackingId:") != NULL; }

void cli_relay_reason(const char *description, int http_status, char *out, size_t out_len) {
  const char *d = description ? description : "";
  char code[16];
  snprintf(code, sizeof code, "%d ", http_status);
  if (http_status && !strncmp(d, code, strlen(code))) d += strlen(code);
  const char *tail = strstr(d, "TrackingId:");
  size_t n = tail ? (size_t)(tail - d) : strlen(d);
  while (n && (d[n - 1] == ' ' || d[n - 1] == '.' || d[n - 1] == ',')) n--;
  snprintf(out, out_len, "%.*s", (int)n, d);
}

static const char *hc_name(const struct cli_common *c) {
  return c->cs && c->cs->entity_path && c->cs->entity_path[0] ? c->cs->entity_path : "?";
}

static const char *ns_host(const struct cli_common *c) { return c->cs && c->cs->host ? c->cs->host : "?"; }

/* "HOST:PORT" of the relay, for messages. */
static void relay_address(const struct cli_common *c, char *out, size_t len) {
  unsigned port = c->cs && c->cs->port ? c->cs->port : 443;
  bool v6 = strchr(ns_host(c), ':') != NULL;
  snprintf(out, len, v6 ? "[%s]:%u" : "%s:%u", ns_host(c), port);
}

static int explain_http(const struct cli_common *c, enum cli_role role, int http, const char *reason, bool relay,
                        char *out, size_t len) {
  const char *right = role == CLI_ROLE_LISTENER ? "Listen" : "Send";
  if (relay && (http == 401 || http == 403)) {
    snprintf(out, len,
             "the relay refused the credentials (HTTP %d %s): check SharedAccessKeyName and SharedAccessKey in the "
             "connection string (from %s), and that the rule has the %s right",
             http, reason, c->connstr_source, right);
    return CLI_AUTH;
  }
  if (http == 404 && strstr(reason, "no listeners")) {
    snprintf(out, len, "no listener is online for hybrid connection '%s' (HTTP 404 %s): start one, e.g. azrelay listen",
             hc_name(c), reason);
    return CLI_NO_LISTENER;
  }
  if (relay && http == 404) {
    snprintf(out, len,
             "hybrid connection '%s' does not exist in namespace %s (HTTP 404 %s): check EntityPath in the "
             "connection string (from %s)",
             hc_name(c), ns_host(c), reason, c->connstr_source);
    return CLI_NOT_FOUND;
  }
  if (relay) {
    snprintf(out, len, "the relay answered HTTP %d %s", http, reason);
    return http >= 500 || http == 429 ? CLI_NETWORK : CLI_FAIL;
  }
  if (role == CLI_ROLE_LISTENER) {
    snprintf(out, len, "the relay answered HTTP %d %s", http, reason);
    return CLI_NETWORK;
  }
  if (role == CLI_ROLE_REQUEST) snprintf(out, len, "the listener answered HTTP %d %s", http, reason);
  else snprintf(out, len, "the listener refused the connection: HTTP %d %s", http, reason);
  return CLI_REFUSED;
}

int cli_explain_failure(const struct cli_common *c, enum cli_role role, int status, int http_status,
                        const char *description, char *out, size_t out_len) {
  char reason[600];
  cli_relay_reason(description, http_status, reason, sizeof reason);
  /* The listener's control channel only ever talks to the relay. */
  bool relay = role == CLI_ROLE_LISTENER || cli_is_relay_reply(description);
  if (http_status >= 300) return explain_http(c, role, http_status, reason, relay, out, out_len);
  char where[300];
  relay_address(c, where, sizeof where);
  switch (status) {
  case AZR_E_AUTH: return explain_http(c, role, 401, reason, true, out, out_len);
  case AZR_E_ENDPOINT_NOT_FOUND: return explain_http(c, role, 404, reason, true, out, out_len);
  case AZR_E_TLS_VERIFY:
    if (c->cacert)
      snprintf(out, out_len, "cannot verify the relay's TLS certificate against --cacert %s (%s): is it the "
               "certificate of %s (e.g. the emulator's --cert-out)? --insecure skips the check (tests only)",
               c->cacert, reason, where);
    else
      snprintf(out, out_len, "cannot verify the relay's TLS certificate (%s): for the emulator, trust its certificate "
               "with --cacert FILE (its --cert-out); --insecure skips the check (tests only)", reason);
    return CLI_TLS;
  case AZR_E_TLS_CREDENTIALS:
    snprintf(out, out_len, "cannot load TLS files (%s): check --cacert and the OpenSSLCAFile/SSLCert* settings", reason);
    return CLI_TLS;
  case AZR_E_TLS_HANDSHAKE:
    snprintf(out, out_len, "the TLS handshake with %s failed (%s)", where, reason);
    return CLI_TLS;
  case AZR_E_HOST_NOT_FOUND:
    snprintf(out, out_len, "cannot resolve the relay's host name %s (%s): check Endpoint in the connection string "
             "(from %s)", ns_host(c), reason, c->connstr_source);
    return CLI_NETWORK;
  case AZR_E_CONN_REFUSED:
    snprintf(out, out_len, "%s refused the connection (%s): is the relay (or the emulator) running there?", where, reason);
    return CLI_NETWORK;
  case AZR_E_PROXY:
    snprintf(out, out_len, "the proxy failed: %s (check --proxy, the *_proxy variables or the Proxy*/Firewall* settings)",
             reason);
    return CLI_NETWORK;
  case AZR_E_TIMEOUT:
    snprintf(out, out_len, "timed out reaching %s (%s)", where, reason);
    return CLI_NETWORK;
  case AZR_E_PROTOCOL:
    if (role != CLI_ROLE_LISTENER) {
      snprintf(out, out_len, "the listener refused the connection: %s", reason);
      return CLI_REFUSED;
    }
    break;
  default: break;
  }
  snprintf(out, out_len, "cannot reach the relay at %s: %s", where, reason[0] ? reason : azr_strerror(status));
  return CLI_NETWORK;
}
