/* SPDX-License-Identifier: MIT */
/* Control-channel command writers and header lists (§5.3-§5.7, §12.2). Commands are written with a
 * small JSON escaper instead of cJSON trees: every accepted connection goes through here. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "azrelay/common.h"
#include "proto/hc_cmd.h"
#include "util/utf8.h"

int azr__hc_headers_add(const struct azr__mem *mem, struct azr__hc_headers *h, const char *name, size_t name_len,
                        const char *value, size_t value_len) {
  if (!h || !name || name_len == 0 || (!value && value_len)) return AZR_E_INVALID_ARG;
  if (!value) value = "";
  for (size_t i = 0; i < h->count; i++) {
    struct azr__hc_header *e = &h->items[i];
    if (strlen(e->name) != name_len || strncasecmp(e->name, name, name_len) != 0) continue;
    size_t old_len = strlen(e->value);
    if (value_len > SIZE_MAX / 2 - old_len) return AZR_E_TOO_BIG;
    char *joined = azr__realloc(mem, e->value, old_len + 2 + value_len + 1);
    if (!joined) return AZR_E_NOMEM;
    memcpy(joined + old_len, ", ", 2);
    memcpy(joined + old_len + 2, value, value_len);
    joined[old_len + 2 + value_len] = 0;
    e->value = joined;
    return AZR_OK;
  }
  /* Capacity is implied by count: max(8, next power of two). */
  if (h->count == 0 || (h->count >= 8 && (h->count & (h->count - 1)) == 0)) {
    size_t cap = h->count ? h->count * 2 : 8;
    struct azr__hc_header *items = azr__realloc(mem, h->items, cap * sizeof *items);
    if (!items) return AZR_E_NOMEM;
    h->items = items;
  }
  char *n = azr__strndup(mem, name, name_len);
  char *v = azr__strndup(mem, value, value_len);
  if (!n || !v) {
    azr__free(mem, n);
    azr__free(mem, v);
    return AZR_E_NOMEM;
  }
  h->items[h->count].name = n;
  h->items[h->count].value = v;
  h->count++;
  return AZR_OK;
}

const char *azr__hc_headers_get(const struct azr__hc_headers *h, const char *name) {
  for (size_t i = 0; h && name && i < h->count; i++)
    if (strcasecmp(h->items[i].name, name) == 0) return h->items[i].value;
  return NULL;
}

void azr__hc_headers_free(const struct azr__mem *mem, struct azr__hc_headers *h) {
  if (!h) return;
  for (size_t i = 0; i < h->count; i++) {
    azr__free(mem, h->items[i].name);
    azr__free(mem, h->items[i].value);
  }
  azr__free(mem, h->items);
  h->items = NULL;
  h->count = 0;
}

int azr__json_append_string(struct azr__buf *out, const char *s, size_t len) {
  if (!out || (!s && len)) return AZR_E_INVALID_ARG;
  if (len && !azr__utf8_valid((const uint8_t *)s, len)) return AZR_E_UTF8;
  size_t len0 = out->len, run = 0;
  int rc = azr__buf_append_byte(out, '"');
  for (size_t i = 0; i < len && !rc; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[8];
    switch (c) {
    case '"': strcpy(esc, "\\\""); break;
    case '\\': strcpy(esc, "\\\\"); break;
    case '\n': strcpy(esc, "\\n"); break;
    case '\r': strcpy(esc, "\\r"); break;
    case '\t': strcpy(esc, "\\t"); break;
    case '\b': strcpy(esc, "\\b"); break;
    case '\f': strcpy(esc, "\\f"); break;
    default:
      if (c >= 0x20) continue; /* kept as is, UTF-8 included */
      snprintf(esc, sizeof esc, "\\u%04x", c);
    }
    rc = azr__buf_append(out, s + run, i - run);
    if (!rc) rc = azr__buf_append_str(out, esc);
    run = i + 1;
  }
  if (!rc) rc = azr__buf_append(out, s + run, len - run);
  if (!rc) rc = azr__buf_append_byte(out, '"');
  if (rc) {
    out->len = len0;
    if (out->data) out->data[len0] = 0;
  }
  return rc;
}

/* A writer that stops at the first error, so each command reads as a list of members. */
struct writer {
  struct azr__buf *out;
  size_t len0;
  int rc;
};

static void lit(struct writer *w, const char *s) {
  if (!w->rc) w->rc = azr__buf_append_str(w->out, s);
}

static void str(struct writer *w, const char *s) {
  if (!w->rc) w->rc = azr__json_append_string(w->out, s ? s : "", s ? strlen(s) : 0);
}

static void num(struct writer *w, long long v) {
  if (!w->rc) w->rc = azr__buf_printf(w->out, "%lld", v);
}

static void headers(struct writer *w, const struct azr__hc_headers *h) {
  lit(w, "{");
  for (size_t i = 0; h && i < h->count; i++) {
    if (i) lit(w, ",");
    str(w, h->items[i].name);
    lit(w, ":");
    str(w, h->items[i].value);
  }
  lit(w, "}");
}

static void endpoint(struct writer *w, const struct azr__hc_endpoint *ep) {
  bool have = ep->present && ep->address;
  lit(w, "{\"address\":");
  str(w, have ? ep->address : "0.0.0.0");
  lit(w, ",\"port\":");
  num(w, ep->present ? ep->port : 0);
  lit(w, "}");
}

static int finish(struct writer *w) {
  if (w->rc) {
    w->out->len = w->len0;
    if (w->out->data) w->out->data[w->len0] = 0;
  }
  return w->rc;
}

int azr__hc_headers_to_json(struct azr__buf *out, const struct azr__hc_headers *h) {
  if (!out) return AZR_E_INVALID_ARG;
  struct writer w = {out, out->len, AZR_OK};
  headers(&w, h);
  return finish(&w);
}

static bool port_ok(const struct azr__hc_endpoint *ep) { return !ep->present || (ep->port >= 0 && ep->port <= 65535); }

int azr__hc_cmd_write_accept(struct azr__buf *out, const struct azr__hc_accept *a) {
  if (!out || !a || !a->address || !port_ok(&a->remote)) return AZR_E_INVALID_ARG;
  struct writer w = {out, out->len, AZR_OK};
  lit(&w, "{\"accept\":{\"address\":");
  str(&w, a->address);
  lit(&w, ",\"id\":");
  str(&w, a->id);
  lit(&w, ",\"connectHeaders\":");
  headers(&w, &a->connect_headers);
  lit(&w, ",\"remoteEndpoint\":");
  endpoint(&w, &a->remote);
  lit(&w, "}}");
  return finish(&w);
}

int azr__hc_cmd_write_request(struct azr__buf *out, const struct azr__hc_request *r) {
  if (!out || !r || (!r->address && !r->method) || !port_ok(&r->remote)) return AZR_E_INVALID_ARG;
  struct writer w = {out, out->len, AZR_OK};
  if (!r->method) { /* §5.5: nothing that would make an SDK take it for the full form */
    lit(&w, "{\"request\":{\"address\":");
    str(&w, r->address);
    if (r->id) {
      lit(&w, ",\"id\":");
      str(&w, r->id);
    }
    lit(&w, "}}");
    return finish(&w);
  }
  lit(&w, "{\"request\":{");
  if (r->address) { /* a request that arrives on a rendezvous may leave it out (§7.4) */
    lit(&w, "\"address\":");
    str(&w, r->address);
    lit(&w, ",");
  }
  lit(&w, "\"id\":");
  str(&w, r->id);
  lit(&w, ",\"requestTarget\":");
  str(&w, r->request_target ? r->request_target : "/");
  lit(&w, ",\"method\":");
  str(&w, r->method);
  if (r->remote.present) {
    lit(&w, ",\"remoteEndpoint\":");
    endpoint(&w, &r->remote);
  }
  lit(&w, ",\"requestHeaders\":");
  headers(&w, &r->request_headers);
  lit(&w, r->body == AZR__HC_BODY_TRUE ? ",\"body\":true}}" : ",\"body\":false}}");
  return finish(&w);
}

int azr__hc_cmd_write_response(struct azr__buf *out, const struct azr__hc_response *r) {
  if (!out || !r || !r->request_id || r->status_code < 100 || r->status_code > 999) return AZR_E_INVALID_ARG;
  struct writer w = {out, out->len, AZR_OK};
  lit(&w, "{\"response\":{\"requestId\":");
  str(&w, r->request_id);
  lit(&w, ",\"statusCode\":");
  num(&w, r->status_code);
  if (r->status_description) {
    lit(&w, ",\"statusDescription\":");
    str(&w, r->status_description);
  }
  lit(&w, ",\"responseHeaders\":");
  headers(&w, &r->response_headers);
  lit(&w, r->body ? ",\"body\":true}}" : ",\"body\":false}}");
  return finish(&w);
}

int azr__hc_cmd_write_renew_token(struct azr__buf *out, const char *token) {
  if (!out || !token) return AZR_E_INVALID_ARG;
  struct writer w = {out, out->len, AZR_OK};
  lit(&w, "{\"renewToken\":{\"token\":");
  str(&w, token);
  lit(&w, "}}");
  return finish(&w);
}
