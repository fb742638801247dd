/* SPDX-License-Identifier: MIT */
/* Hybrid Connections URLs: split, build (§2.2, §6.4) and the service-side view of a target (§2.1, §7.1). */
#include "proto/hc_url.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "azrelay/common.h"
#include "util/encoding.h"

static const char hexdigits[] = "0123456789ABCDEF";

static void restore(struct azr__buf *b, size_t len) {
  b->len = len;
  if (b->data) b->data[len] = 0;
}

static bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static bool is_alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static bool parse_port(struct azr__span s, uint16_t *out) {
  uint64_t v;
  if (!azr__span_to_u64(s, &v) || v == 0 || v > 65535) return false;
  *out = (uint16_t)v;
  return true;
}

int azr__url_split(struct azr__span url, struct azr__url *out) {
  if (!out || !url.ptr) return AZR_E_PARSE;
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < url.len; i++) {
    unsigned char c = (unsigned char)url.ptr[i];
    if (c <= 0x20 || c == 0x7f) return AZR_E_PARSE;
  }
  struct azr__span rest;
  struct azr__span scheme = azr__span_cut(url, ':', &rest);
  if (scheme.len == url.len || rest.len < 2 || rest.ptr[0] != '/' || rest.ptr[1] != '/') return AZR_E_PARSE;
  if (!azr__span_ieq(scheme, "sb") && !azr__span_ieq(scheme, "ws") && !azr__span_ieq(scheme, "wss") &&
      !azr__span_ieq(scheme, "http") && !azr__span_ieq(scheme, "https"))
    return AZR_E_PARSE;
  rest.ptr += 2;
  rest.len -= 2;
  size_t alen = 0;
  while (alen < rest.len && rest.ptr[alen] != '/' && rest.ptr[alen] != '?' && rest.ptr[alen] != '#') alen++;
  struct azr__span auth = {rest.ptr, alen}, port = {NULL, 0};
  if (memchr(auth.ptr, '@', auth.len)) return AZR_E_PARSE; /* no userinfo in relay addresses */
  if (auth.len && auth.ptr[0] == '[') {
    const char *close = memchr(auth.ptr, ']', auth.len);
    if (!close) return AZR_E_PARSE;
    out->host = (struct azr__span){auth.ptr + 1, (size_t)(close - auth.ptr) - 1};
    struct azr__span after = {close + 1, auth.len - (size_t)(close - auth.ptr) - 1};
    if (after.len && after.ptr[0] != ':') return AZR_E_PARSE;
    if (after.len) port = (struct azr__span){after.ptr + 1, after.len - 1};
    if (!memchr(out->host.ptr, ':', out->host.len)) return AZR_E_PARSE;
    for (size_t i = 0; i < out->host.len; i++) {
      char c = out->host.ptr[i];
      if (!is_hex(c) && c != ':' && c != '.' && c != '%' && !is_alnum(c)) return AZR_E_PARSE;
    }
  } else {
    out->host = azr__span_cut(auth, ':', &port);
    for (size_t i = 0; i < out->host.len; i++) {
      char c = out->host.ptr[i];
      if (!is_alnum(c) && c != '-' && c != '.' && c != '_' && c != '~' && c != '%') return AZR_E_PARSE;
    }
  }
  if (out->host.len == 0) return AZR_E_PARSE;
  if (port.len && !parse_port(port, &out->port)) return AZR_E_PARSE;
  out->scheme = scheme;

  struct azr__span tail = {rest.ptr + alen, rest.len - alen};
  size_t plen = 0;
  while (plen < tail.len && tail.ptr[plen] != '?' && tail.ptr[plen] != '#') plen++;
  out->path = plen ? (struct azr__span){tail.ptr, plen} : AZR__SPAN_LIT("/");
  if (plen < tail.len && tail.ptr[plen] == '?') {
    struct azr__span q = {tail.ptr + plen + 1, tail.len - plen - 1};
    const char *hash = memchr(q.ptr, '#', q.len);
    if (hash) q.len = (size_t)(hash - q.ptr);
    out->query = q;
  } else {
    out->query = (struct azr__span){tail.ptr + tail.len, 0};
  }
  return AZR_OK;
}

/* RFC 3986 pchar plus '/', and '?' inside a query; '%' only when it starts a valid escape. */
static bool uri_char_ok(const char *s, size_t i, size_t len, bool in_query) {
  char c = s[i];
  if (is_alnum(c) || strchr("-._~!$&'()*+,;=:@/", c)) return c != 0;
  if (c == '?') return in_query;
  if (c == '%') return i + 2 < len && is_hex(s[i + 1]) && is_hex(s[i + 2]);
  return false;
}

static int append_uri(struct azr__buf *out, const char *s, size_t len, bool in_query) {
  for (size_t i = 0; i < len; i++) {
    int rc;
    if (uri_char_ok(s, i, len, in_query)) {
      rc = azr__buf_append_byte(out, (uint8_t)s[i]);
    } else {
      unsigned char c = (unsigned char)s[i];
      char esc[3] = {'%', hexdigits[c >> 4], hexdigits[c & 15]};
      rc = azr__buf_append(out, esc, 3);
    }
    if (rc) return rc;
  }
  return AZR_OK;
}

/* Form encoding (space as '+', §3.2) so the value survives the service's form decoding. */
static int append_form(struct azr__buf *out, const char *s) {
  for (size_t i = 0; s[i]; i++) {
    int rc = s[i] == ' ' ? azr__buf_append_byte(out, '+') : azr__url_encode(out, s + i, 1);
    if (rc) return rc;
  }
  return AZR_OK;
}

static int append_origin(struct azr__buf *out, const char *scheme, const char *host, uint16_t port) {
  bool bracket = strchr(host, ':') && host[0] != '[';
  int rc = azr__buf_printf(out, "%s://%s%s%s", scheme, bracket ? "[" : "", host, bracket ? "]" : "");
  if (!rc && port) rc = azr__buf_printf(out, ":%u", (unsigned)port);
  return rc;
}

static bool host_ok(const char *host) {
  if (!host || !*host) return false;
  for (const char *p = host; *p; p++)
    if ((unsigned char)*p <= 0x20 || *p == '/' || *p == '?' || *p == '#' || *p == '@' || *p == 0x7f) return false;
  return true;
}

/* "{scheme}://{host}[:port]/$hc/{entity}[/suffix]?{app-query&}sb-hc-action=..&sb-hc-id=..&sb-hc-token=.." */
static int build_hc(struct azr__buf *out, bool tls, const char *host, uint16_t port, const char *entity_path,
                    const char *action, const char *tracking_id, const char *token) {
  if (!out || !host_ok(host) || !entity_path) return AZR_E_INVALID_ARG;
  while (*entity_path == '/') entity_path++;
  const char *q = strchr(entity_path, '?');
  size_t path_len = q ? (size_t)(q - entity_path) : strlen(entity_path);
  if (path_len == 0) return AZR_E_INVALID_ARG;
  size_t len0 = out->len;
  int rc = append_origin(out, tls ? "wss" : "ws", host, port);
  if (!rc) rc = azr__buf_append_str(out, "/$hc/");
  if (!rc) rc = append_uri(out, entity_path, path_len, false);
  if (!rc) rc = azr__buf_append_byte(out, '?');
  if (!rc && q && q[1]) rc = append_uri(out, q + 1, strlen(q + 1), true);
  if (!rc && q && q[1] && q[strlen(q) - 1] != '&') rc = azr__buf_append_byte(out, '&');
  if (!rc) rc = azr__buf_printf(out, "sb-hc-action=%s", action);
  if (!rc && tracking_id) rc = azr__buf_append_str(out, "&sb-hc-id=");
  if (!rc && tracking_id) rc = azr__url_encode(out, tracking_id, strlen(tracking_id));
  if (!rc && token) rc = azr__buf_append_str(out, "&sb-hc-token=");
  if (!rc && token) rc = append_form(out, token);
  if (rc) restore(out, len0);
  return rc;
}

int azr__hc_url_listen(struct azr__buf *out, bool tls, const char *host, uint16_t port, const char *entity_path,
                       const char *tracking_id, const char *token) {
  if (!tracking_id || !*tracking_id) return AZR_E_INVALID_ARG;
  return build_hc(out, tls, host, port, entity_path, "listen", tracking_id, token);
}

int azr__hc_url_connect(struct azr__buf *out, bool tls, const char *host, uint16_t port, const char *entity_path,
                        const char *tracking_id, const char *token) {
  return build_hc(out, tls, host, port, entity_path, "connect", tracking_id, token);
}

int azr__hc_url_http(struct azr__buf *out, bool tls, const char *host, uint16_t port, const char *path_and_query,
                     const char *token) {
  if (!out || !host_ok(host) || !path_and_query) return AZR_E_INVALID_ARG;
  while (*path_and_query == '/') path_and_query++;
  const char *q = strchr(path_and_query, '?');
  size_t path_len = q ? (size_t)(q - path_and_query) : strlen(path_and_query);
  if (path_len == 0) return AZR_E_INVALID_ARG;
  bool has_query = q && q[1];
  size_t len0 = out->len;
  int rc = append_origin(out, tls ? "https" : "http", host, port);
  if (!rc) rc = azr__buf_append_byte(out, '/');
  if (!rc) rc = append_uri(out, path_and_query, path_len, false);
  if (!rc && has_query) rc = azr__buf_append_byte(out, '?');
  if (!rc && has_query) rc = append_uri(out, q + 1, strlen(q + 1), true);
  if (!rc && token) rc = azr__buf_append_str(out, has_query ? "&sb-hc-token=" : "?sb-hc-token=");
  if (!rc && token) rc = append_form(out, token);
  if (rc) restore(out, len0);
  return rc;
}

int azr__hc_url_reject(struct azr__buf *out, const char *accept_address, int status_code,
                       const char *status_description) {
  if (!out || !accept_address || !*accept_address || status_code < 100 || status_code > 999)
    return AZR_E_INVALID_ARG;
  size_t alen = strlen(accept_address);
  char last = accept_address[alen - 1];
  const char *sep = !strchr(accept_address, '?') ? "?" : (last == '?' || last == '&') ? "" : "&";
  size_t len0 = out->len;
  int rc = azr__buf_append(out, accept_address, alen);
  if (!rc) rc = azr__buf_printf(out, "%ssb-hc-statusCode=%d", sep, status_code);
  if (!rc && status_description) rc = azr__buf_append_str(out, "&sb-hc-statusDescription=");
  if (!rc && status_description) rc = azr__url_encode(out, status_description, strlen(status_description));
  if (rc) restore(out, len0);
  return rc;
}

bool azr__query_find(struct azr__span query, const char *name, struct azr__span *raw_value) {
  if (!query.ptr || !name) return false;
  size_t start = 0;
  for (size_t i = 0; i <= query.len; i++) {
    if (i < query.len && query.ptr[i] != '&') continue;
    struct azr__span seg = {query.ptr + start, i - start}, value;
    struct azr__span seg_name = azr__span_cut(seg, '=', &value);
    start = i + 1;
    if (!azr__span_ieq(seg_name, name)) continue;
    if (raw_value) *raw_value = value;
    return true;
  }
  return false;
}

int azr__query_filter_sb_hc(struct azr__buf *out, struct azr__span query) {
  if (!out) return AZR_E_INVALID_ARG;
  if (!query.ptr) return AZR_OK;
  size_t len0 = out->len, start = 0, kept = 0;
  int rc = AZR_OK;
  for (size_t i = 0; i <= query.len && !rc; i++) {
    if (i < query.len && query.ptr[i] != '&') continue;
    struct azr__span seg = {query.ptr + start, i - start};
    start = i + 1;
    if (azr__span_istarts(seg, "sb-hc-") && memchr(seg.ptr, '=', seg.len)) continue;
    if (kept++) rc = azr__buf_append_byte(out, '&');
    if (!rc) rc = azr__buf_append(out, seg.ptr, seg.len);
  }
  if (rc) restore(out, len0);
  return rc;
}

static enum azr__hc_action parse_action(struct azr__span query) {
  struct azr__span v;
  if (!azr__query_find(query, "sb-hc-action", &v)) return AZR__HC_ACTION_NONE;
  if (azr__span_ieq(v, "listen")) return AZR__HC_ACTION_LISTEN;
  if (azr__span_ieq(v, "connect")) return AZR__HC_ACTION_CONNECT;
  if (azr__span_ieq(v, "accept")) return AZR__HC_ACTION_ACCEPT;
  if (azr__span_ieq(v, "request")) return AZR__HC_ACTION_REQUEST;
  return AZR__HC_ACTION_UNKNOWN;
}

int azr__hc_target_parse(struct azr__span target, struct azr__hc_target *out) {
  if (!out) return AZR_E_PARSE;
  memset(out, 0, sizeof *out);
  if (!target.ptr || target.len == 0 || target.ptr[0] != '/') return AZR_E_PARSE;
  for (size_t i = 0; i < target.len; i++) {
    unsigned char c = (unsigned char)target.ptr[i];
    if (c <= 0x20 || c == 0x7f) return AZR_E_PARSE;
  }
  struct azr__span path = {target.ptr + 1, target.len - 1}, query = {target.ptr + target.len, 0};
  const char *qmark = memchr(path.ptr, '?', path.len);
  if (qmark) {
    query = (struct azr__span){qmark + 1, path.len - (size_t)(qmark - path.ptr) - 1};
    path.len = (size_t)(qmark - path.ptr);
  } else {
    /* §2.1: a sender whose '?' got percent-encoded still reaches its entity. */
    for (size_t i = 0; i + 3 <= path.len; i++) {
      if (path.ptr[i] == '%' && path.ptr[i + 1] == '3' && (path.ptr[i + 2] == 'F' || path.ptr[i + 2] == 'f')) {
        query = (struct azr__span){path.ptr + i + 3, path.len - i - 3};
        path.len = i;
        break;
      }
    }
  }
  if (azr__span_istarts(path, "$hc/")) {
    out->is_hc = true;
    path = (struct azr__span){path.ptr + 4, path.len - 4};
  } else if (azr__span_ieq(path, "$hc")) {
    out->is_hc = true;
    path = (struct azr__span){path.ptr + 3, 0};
  }
  out->path = path;
  out->query = query;
  out->action = parse_action(query);
  if (!azr__query_find(query, "sb-hc-id", &out->id)) out->id = (struct azr__span){query.ptr + query.len, 0};
  out->has_token = azr__query_find(query, "sb-hc-token", NULL);
  struct azr__span code;
  out->has_status_code = azr__query_find(query, "sb-hc-statusCode", &code);
  uint64_t v;
  if (out->has_status_code && azr__span_to_u64(code, &v) && v >= 100 && v <= 999) out->status_code = (int)v;
  return AZR_OK;
}

static int decode_param(const struct azr__hc_target *t, const char *name, struct azr__buf *out) {
  struct azr__span v;
  if (!t || !out) return AZR_E_INVALID_ARG;
  if (!azr__query_find(t->query, name, &v)) return AZR_E_NOT_FOUND;
  size_t len0 = out->len;
  int rc = azr__url_decode(out, v.ptr, v.len, true);
  if (rc) restore(out, len0);
  return rc;
}

int azr__hc_target_token(const struct azr__hc_target *t, struct azr__buf *out) {
  return decode_param(t, "sb-hc-token", out);
}

int azr__hc_target_status_description(const struct azr__hc_target *t, struct azr__buf *out) {
  return decode_param(t, "sb-hc-statusDescription", out);
}

int azr__hc_request_target(struct azr__buf *out, const struct azr__hc_target *t) {
  if (!out || !t) return AZR_E_INVALID_ARG;
  size_t len0 = out->len;
  int rc = azr__buf_append_byte(out, '/');
  if (!rc) rc = azr__buf_append(out, t->path.ptr, t->path.len);
  size_t before_query = out->len;
  if (!rc) rc = azr__buf_append_byte(out, '?');
  if (!rc) rc = azr__query_filter_sb_hc(out, t->query);
  if (rc) restore(out, len0);
  else if (out->len == before_query + 1) restore(out, before_query); /* nothing left: no '?' */
  return rc;
}

int azr__hc_entity_match(struct azr__span path, const char *const *entities, size_t count, size_t *out_index,
                         struct azr__span *out_suffix) {
  size_t best = count, best_len = 0;
  for (size_t i = 0; path.ptr && entities && i < count; i++) {
    if (!entities[i]) continue;
    struct azr__span e = azr__span_of(entities[i]);
    while (e.len && e.ptr[0] == '/') {
      e.ptr++;
      e.len--;
    }
    while (e.len && e.ptr[e.len - 1] == '/') e.len--;
    if (e.len == 0 || e.len <= best_len || e.len > path.len) continue;
    if (strncasecmp(path.ptr, e.ptr, e.len) != 0) continue;
    if (path.len > e.len && path.ptr[e.len] != '/') continue;
    best = i;
    best_len = e.len;
  }
  if (best == count) return AZR_E_NOT_FOUND;
  if (out_index) *out_index = best;
  if (out_suffix) *out_suffix = (struct azr__span){path.ptr + best_len, path.len - best_len};
  return AZR_OK;
}

int azr__hc_url_check_rendezvous(const char *address, bool control_tls, char *err, size_t err_len) {
  struct azr__url u;
  if (!address || azr__url_split(azr__span_of(address), &u) != AZR_OK || azr__span_ieq(u.scheme, "sb")) {
    if (err && err_len) snprintf(err, err_len, "not a ws, wss, http or https URL");
    return AZR_E_PROTOCOL;
  }
  bool tls = azr__span_ieq(u.scheme, "wss") || azr__span_ieq(u.scheme, "https");
  if (control_tls && !tls) {
    if (err && err_len) snprintf(err, err_len, "%.*s:// is weaker than the control channel's TLS", (int)u.scheme.len,
                                 u.scheme.ptr);
    return AZR_E_PROTOCOL;
  }
  return AZR_OK;
}
