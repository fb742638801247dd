/* SPDX-License-Identifier: MIT */
/* The ForwardingPorts setting: azbridge logical port names mapped to TCP targets. */
#include <stdio.h>
#include <string.h>

#include "azrelay/common.h"
#include "config/settings.h"
#include "proto/azbridge.h"
#include "util/str.h"

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* One "name=host:port" item of len bytes into *out. */
static int parse_forwarding_port(const char *item, size_t len, struct azr__forwarding_port *out, char *err,
                                 size_t err_len) {
  const char *eq = memchr(item, '=', len);
  const char *why = NULL;
  if (!eq) {
    snprintf(err, err_len, "'%.*s' is not name=host:port", (int)(len > 80 ? 80 : len), item);
    return AZR_E_INVALID_ARG;
  }
  size_t name_len = (size_t)(eq - item);
  if (azr__azbridge_port_name_check(item, name_len, &why) != AZR_OK) {
    snprintf(err, err_len, "'%.*s': %s", (int)(name_len > 80 ? 80 : name_len), item, why);
    return AZR_E_INVALID_ARG;
  }
  memcpy(out->name, item, name_len);
  out->name[name_len] = 0;
  const char *hp = eq + 1, *end = item + len;
  const char *colon = NULL;
  for (const char *p = hp; p < end; p++)
    if (*p == ':') colon = p; /* the last one: an IPv6 literal has colons of its own */
  const char *host = hp, *host_end = colon;
  if (colon && host < host_end && *host == '[' && host_end[-1] == ']') {
    host++;
    host_end--;
  }
  if (!colon || host_end <= host || (size_t)(host_end - host) >= sizeof out->host) {
    snprintf(err, err_len, "port '%s': '%.*s' is not host:port", out->name, (int)(end - hp > 80 ? 80 : end - hp), hp);
    return AZR_E_INVALID_ARG;
  }
  for (const char *p = host; p < host_end; p++) {
    if (*p == ' ' || *p == '[' || *p == ']' || *p == ',' || *p == '=') {
      snprintf(err, err_len, "port '%s': bad host '%.*s'", out->name, (int)(host_end - host), host);
      return AZR_E_INVALID_ARG;
    }
  }
  memcpy(out->host, host, (size_t)(host_end - host));
  out->host[host_end - host] = 0;
  long port = 0;
  const char *p = colon + 1;
  if (p == end) port = -1;
  for (; p < end && port >= 0; p++) port = (*p >= '0' && *p <= '9' && port <= 65535) ? port * 10 + (*p - '0') : -1;
  if (port < 1 || port > 65535) {
    snprintf(err, err_len, "port '%s': '%.*s' is not a TCP port (1-65535)", out->name, (int)(end - colon - 1 > 20 ? 20 : end - colon - 1),
             colon + 1);
    return AZR_E_INVALID_ARG;
  }
  out->port = (uint16_t)port;
  return AZR_OK;
}

int azr__settings_forwarding_ports_parse(const char *text, struct azr__forwarding_port *out, size_t cap,
                                         size_t *count, char *err, size_t err_len) {
  char scratch[8];
  if (!err || !err_len) {
    err = scratch;
    err_len = sizeof scratch;
  }
  err[0] = 0;
  if (!count || (cap && !out)) return AZR_E_INVALID_ARG;
  *count = 0;
  if (!text) return AZR_OK;
  size_t n = 0;
  const char *p = text;
  for (;;) {
    const char *comma = strchr(p, ',');
    const char *end = comma ? comma : p + strlen(p);
    struct azr__span item = {p, (size_t)(end - p)};
    while (item.len && blank(*item.ptr)) {
      item.ptr++;
      item.len--;
    }
    while (item.len && blank(item.ptr[item.len - 1])) item.len--;
    if (item.len == 0) {
      /* Only a wholly empty value means "no ports"; an empty item is a typo. */
      if (!comma && n == 0 && p == text) break;
      snprintf(err, err_len, "empty item in the list");
      return AZR_E_INVALID_ARG;
    }
    if (n == cap) {
      snprintf(err, err_len, "more than %zu ports", cap);
      return AZR_E_INVALID_ARG;
    }
    int rc = parse_forwarding_port(item.ptr, item.len, &out[n], err, err_len);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
      if (strcmp(out[i].name, out[n].name) == 0) {
        snprintf(err, err_len, "port name '%s' is given twice", out[n].name);
        return AZR_E_INVALID_ARG;
      }
    }
    n++;
    if (!comma) break;
    p = comma + 1;
  }
  *count = n;
  return AZR_OK;
}
