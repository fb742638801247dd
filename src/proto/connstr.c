/* SPDX-License-Identifier: MIT */
/* Connection-string parsing and formatting. Error messages name keys, never values of secrets. */
#include "proto/connstr.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "azrelay/common.h"
#include "proto/sas.h"
#include "util/limits.h"
#include "util/str.h"

enum key_id { K_ENDPOINT, K_KEY_NAME, K_KEY, K_SAS, K_ENTITY, K_EMULATOR, K_TIMEOUT, K_AUTH, K_COUNT };

static const char *const key_names[K_COUNT] = {
    "Endpoint",   "SharedAccessKeyName",    "SharedAccessKey",  "SharedAccessSignature",
    "EntityPath", "UseDevelopmentEmulator", "OperationTimeout", "Authentication"};

static int fail(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t err_len, const char *fmt, ...) {
  if (err && err_len) {
    int n = snprintf(err, err_len, "connection string: ");
    if (n > 0 && (size_t)n < err_len) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
      va_end(ap);
    }
  }
  return AZR_E_BAD_CONNSTR;
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

static struct azr__span trim(struct azr__span s) {
  while (s.len && is_blank(s.ptr[0])) {
    s.ptr++;
    s.len--;
  }
  while (s.len && is_blank(s.ptr[s.len - 1])) s.len--;
  return s;
}

/* True when an unknown key name may be quoted in a message: a pasted-in key split at its '=' padding
 * also looks like "Name=Value", so only short, letters-only names (what real key names look like) are
 * echoed. */
static bool quotable(struct azr__span name) {
  if (name.len > 32) return false;
  for (size_t i = 0; i < name.len; i++) {
    char c = name.ptr[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

struct endpoint {
  struct azr__span host;
  uint16_t port;
  bool ipv6;
};

static bool host_char(char c, bool ipv6) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.') return true;
  return ipv6 ? (c == ':' || c == '%') : (c == '-' || c == '_');
}

/* A bracketed host must be an IPv6 literal, with an optional zone after '%': anything else would lose its
 * brackets when the string is formatted again and then no longer parse. */
static bool is_ipv6_literal(struct azr__span host) {
  char buf[64];
  const char *zone = memchr(host.ptr, '%', host.len);
  size_t n = zone ? (size_t)(zone - host.ptr) : host.len;
  if (n == 0 || n >= sizeof buf || (zone && (size_t)(zone - host.ptr) + 1 == host.len)) return false;
  memcpy(buf, host.ptr, n);
  buf[n] = 0;
  unsigned char addr[16];
  return inet_pton(AF_INET6, buf, addr) == 1;
}

static int parse_endpoint(struct azr__span v, struct endpoint *ep, char *err, size_t err_len) {
  if (!azr__span_istarts(v, "sb://")) return fail(err, err_len, "Endpoint must use the sb:// scheme");
  struct azr__span rest = {v.ptr + 5, v.len - 5};
  size_t alen = 0;
  while (alen < rest.len && rest.ptr[alen] != '/' && rest.ptr[alen] != '?' && rest.ptr[alen] != '#') alen++;
  struct azr__span auth = {rest.ptr, alen}, path = {rest.ptr + alen, rest.len - alen};
  struct azr__span port = {NULL, 0};
  bool has_port = false;
  ep->ipv6 = auth.len && auth.ptr[0] == '[';
  if (ep->ipv6) {
    const char *close = memchr(auth.ptr, ']', auth.len);
    if (!close) return fail(err, err_len, "Endpoint has an unterminated IPv6 address");
    ep->host = (struct azr__span){auth.ptr + 1, (size_t)(close - auth.ptr) - 1};
    struct azr__span after = {close + 1, auth.len - (size_t)(close - auth.ptr) - 1};
    if (after.len && after.ptr[0] != ':') return fail(err, err_len, "Endpoint has junk after the IPv6 address");
    if (after.len) {
      has_port = true;
      port = (struct azr__span){after.ptr + 1, after.len - 1};
    }
  } else {
    ep->host = azr__span_cut(auth, ':', &port);
    has_port = ep->host.len < auth.len;
  }
  if (ep->host.len == 0) return fail(err, err_len, "Endpoint has no host name");
  for (size_t i = 0; i < ep->host.len; i++)
    if (!host_char(ep->host.ptr[i], ep->ipv6)) return fail(err, err_len, "Endpoint host name has an invalid character");
  if (ep->ipv6 && !is_ipv6_literal(ep->host))
    return fail(err, err_len, "Endpoint has brackets around something that is not an IPv6 address");
  ep->port = 0;
  if (has_port) {
    uint64_t p;
    if (!azr__span_to_u64(port, &p) || p == 0 || p > 65535)
      return fail(err, err_len, "Endpoint has a bad port (expected 1-65535)");
    ep->port = (uint16_t)p;
  }
  if (!(path.len == 0 || (path.len == 1 && path.ptr[0] == '/')))
    return fail(err, err_len, "Endpoint must be the namespace address only (put the hybrid connection in EntityPath)");
  return AZR_OK;
}

static char *dup_lower(const struct azr__mem *mem, struct azr__span s) {
  char *p = azr__strndup(mem, s.ptr, s.len);
  for (size_t i = 0; p && i < s.len; i++)
    if (p[i] >= 'A' && p[i] <= 'Z') p[i] = (char)(p[i] - 'A' + 'a');
  return p;
}

static int check_values(struct azr__span *val, const bool *seen, char *err, size_t err_len) {
  for (int k = 0; k < K_COUNT; k++)
    if (seen[k] && val[k].len == 0 && k != K_ENTITY && k != K_TIMEOUT && k != K_AUTH)
      return fail(err, err_len, "%s is empty", key_names[k]);
  if (!seen[K_ENDPOINT]) return fail(err, err_len, "missing Endpoint");
  if (seen[K_KEY_NAME] && !seen[K_KEY]) return fail(err, err_len, "SharedAccessKeyName given without SharedAccessKey");
  if (seen[K_KEY] && !seen[K_KEY_NAME]) return fail(err, err_len, "SharedAccessKey given without SharedAccessKeyName");
  if (seen[K_KEY] && seen[K_SAS])
    return fail(err, err_len, "has both SharedAccessKey and SharedAccessSignature; give only one");
  if (!seen[K_KEY] && !seen[K_SAS])
    return fail(err, err_len, "needs SharedAccessKeyName and SharedAccessKey, or SharedAccessSignature");
  if (val[K_KEY_NAME].len > AZR_MAX_SAS_KEY)
    return fail(err, err_len, "SharedAccessKeyName is longer than %u characters", AZR_MAX_SAS_KEY);
  if (val[K_KEY].len > AZR_MAX_SAS_KEY)
    return fail(err, err_len, "SharedAccessKey is longer than %u characters", AZR_MAX_SAS_KEY);
  if (seen[K_SAS]) {
    struct azr__sas_fields f;
    if (azr__sas_parse(val[K_SAS], &f) != AZR_OK)
      return fail(err, err_len, "SharedAccessSignature is not a valid SAS token");
  }
  if (seen[K_EMULATOR] && !azr__span_ieq(val[K_EMULATOR], "true") && !azr__span_ieq(val[K_EMULATOR], "false"))
    return fail(err, err_len, "UseDevelopmentEmulator must be true or false");
  for (size_t i = 0; i < val[K_ENTITY].len; i++) {
    unsigned char c = (unsigned char)val[K_ENTITY].ptr[i];
    if (c <= 0x20 || c == 0x7f || c == '?' || c == '#')
      return fail(err, err_len, "EntityPath contains a character that is not allowed");
  }
  return AZR_OK;
}

int azr__connstr_parse(const struct azr__mem *mem, const char *text, struct azr__connstr *out, char *err,
                       size_t err_len) {
  if (err && err_len) err[0] = 0;
  if (!out) return fail(err, err_len, "no output");
  memset(out, 0, sizeof *out);
  if (!text) return fail(err, err_len, "none given");
  size_t text_len = strnlen(text, AZR_MAX_CONNSTR + 1);
  if (text_len > AZR_MAX_CONNSTR) return fail(err, err_len, "longer than %u bytes", AZR_MAX_CONNSTR);

  struct azr__span val[K_COUNT];
  bool seen[K_COUNT] = {false};
  struct azr__span rest = {text, text_len};
  size_t part_no = 0;
  while (rest.len) {
    struct azr__span part = trim(azr__span_cut(rest, ';', &rest));
    part_no++;
    if (part.len == 0) continue;
    if (!memchr(part.ptr, '=', part.len)) return fail(err, err_len, "part %zu is not Name=Value", part_no);
    struct azr__span value;
    struct azr__span name = trim(azr__span_cut(part, '=', &value));
    value = trim(value);
    if (name.len == 0) return fail(err, err_len, "part %zu has no name before '='", part_no);
    int k = 0;
    while (k < K_COUNT && !azr__span_ieq(name, key_names[k])) k++;
    if (k == K_COUNT && quotable(name)) return fail(err, err_len, "unknown key '%.*s'", (int)name.len, name.ptr);
    if (k == K_COUNT) return fail(err, err_len, "unknown key in part %zu", part_no);
    if (seen[k]) return fail(err, err_len, "duplicate key '%s'", key_names[k]);
    seen[k] = true;
    val[k] = value;
  }
  for (int k = 0; k < K_COUNT; k++)
    if (!seen[k]) val[k] = (struct azr__span){"", 0};
  int rc = check_values(val, seen, err, err_len);
  if (rc) return rc;
  struct endpoint ep = {0};
  rc = parse_endpoint(val[K_ENDPOINT], &ep, err, err_len);
  if (rc) return rc;

  struct azr__span entity = val[K_ENTITY];
  while (entity.len && entity.ptr[0] == '/') entity = (struct azr__span){entity.ptr + 1, entity.len - 1};
  while (entity.len && entity.ptr[entity.len - 1] == '/') entity.len--;

  bool nomem = false;
  out->endpoint = azr__strndup(mem, val[K_ENDPOINT].ptr, val[K_ENDPOINT].len);
  out->host = dup_lower(mem, ep.host);
  nomem |= !out->endpoint || !out->host;
  out->port = ep.port;
  if (seen[K_KEY]) {
    out->key_name = azr__strndup(mem, val[K_KEY_NAME].ptr, val[K_KEY_NAME].len);
    out->key = azr__strndup(mem, val[K_KEY].ptr, val[K_KEY].len);
    nomem |= !out->key_name || !out->key;
  }
  if (seen[K_SAS]) nomem |= !(out->sas = azr__strndup(mem, val[K_SAS].ptr, val[K_SAS].len));
  if (entity.len) nomem |= !(out->entity_path = azr__strndup(mem, entity.ptr, entity.len));
  out->use_development_emulator = seen[K_EMULATOR] && azr__span_ieq(val[K_EMULATOR], "true");
  if (nomem) {
    azr__connstr_free(mem, out);
    fail(err, err_len, "out of memory");
    return AZR_E_NOMEM;
  }
  return AZR_OK;
}

void azr__connstr_free(const struct azr__mem *mem, struct azr__connstr *c) {
  if (!c) return;
  azr__free(mem, c->endpoint);
  azr__free(mem, c->host);
  azr__free(mem, c->key_name);
  azr__free_secret(mem, c->key);
  azr__free_secret(mem, c->sas);
  azr__free(mem, c->entity_path);
  memset(c, 0, sizeof *c);
}

int azr__connstr_format(struct azr__buf *out, const char *host, uint16_t port, const char *key_name, const char *key,
                        const char *entity_path, bool use_development_emulator) {
  if (!out || !host || !*host || !key_name || !*key_name || !key || !*key) return AZR_E_INVALID_ARG;
  if (strchr(host, ';') || strchr(key_name, ';') || strchr(key, ';') || (entity_path && strchr(entity_path, ';')))
    return AZR_E_INVALID_ARG;
  bool bracket = strchr(host, ':') && host[0] != '[';
  size_t len0 = out->len;
  int rc = azr__buf_printf(out, "Endpoint=sb://%s%s%s", bracket ? "[" : "", host, bracket ? "]" : "");
  if (!rc && port) rc = azr__buf_printf(out, ":%u", (unsigned)port);
  /* Appends rather than printf so the key is not staged in a stack buffer. */
  const char *parts[] = {"/;SharedAccessKeyName=", key_name, ";SharedAccessKey=", key};
  for (size_t i = 0; !rc && i < sizeof parts / sizeof parts[0]; i++) rc = azr__buf_append_str(out, parts[i]);
  if (!rc && entity_path && *entity_path) rc = azr__buf_append_str(out, ";EntityPath=");
  if (!rc && entity_path && *entity_path) rc = azr__buf_append_str(out, entity_path);
  if (!rc && use_development_emulator) rc = azr__buf_append_str(out, ";UseDevelopmentEmulator=true");
  if (rc) {
    out->len = len0;
    if (out->data) out->data[len0] = 0;
  }
  return rc;
}
