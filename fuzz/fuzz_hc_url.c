/* SPDX-License-Identifier: MIT */
/* Fuzzes URL handling (§2, §6.4, §7.1). The first byte picks the mode: 0 = the rest is a request target
 * as the service sees it, 1 = an absolute URL to split, 2 = "entity\ntext" fed to the URL builders,
 * whose output must read back (action, token, status description) through the service-side parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azrelay/common.h"
#include "proto/hc_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const entities[] = {"hyco", "a", "a/b", "microsoft.hybridcompute/machines/x/1/v2"};

static void check_target(struct azr__span in) {
  struct azr__hc_target t;
  if (azr__hc_target_parse(in, &t) != AZR_OK) return;
  struct azr__buf b, again;
  azr__buf_init(&b, NULL, 0);
  azr__buf_init(&again, NULL, 0);
  int rc = azr__hc_target_token(&t, &b);
  if (rc != AZR_OK && rc != AZR_E_NOT_FOUND && rc != AZR_E_PARSE) abort();
  if ((rc != AZR_E_NOT_FOUND) != t.has_token) abort();
  azr__buf_reset(&b);
  rc = azr__hc_target_status_description(&t, &b);
  if (rc != AZR_OK && rc != AZR_E_NOT_FOUND && rc != AZR_E_PARSE) abort();
  if (t.has_status_code && t.status_code != 0 && (t.status_code < 100 || t.status_code > 999)) abort();
  /* The filtered query keeps no sb-hc-* parameter and filtering twice changes nothing. */
  azr__buf_reset(&b);
  if (azr__query_filter_sb_hc(&b, t.query) != AZR_OK || b.len > t.query.len) abort();
  struct azr__span filtered = {(const char *)b.data, b.len}, value;
  if (filtered.ptr && azr__query_find(filtered, "sb-hc-id", &value) && value.ptr > filtered.ptr &&
      value.ptr[-1] == '=')
    abort();
  filtered = (struct azr__span){(const char *)b.data, b.len};
  if (azr__query_filter_sb_hc(&again, filtered) != AZR_OK || again.len != b.len ||
      (b.len && memcmp(again.data, b.data, b.len)))
    abort();
  azr__buf_reset(&b);
  if (azr__hc_request_target(&b, &t) != AZR_OK || b.len == 0 || b.data[0] != '/') abort();
  size_t idx;
  struct azr__span suffix;
  if (azr__hc_entity_match(t.path, entities, 4, &idx, &suffix) == AZR_OK) {
    if (idx >= 4 || (suffix.len && suffix.ptr[0] != '/') || suffix.ptr + suffix.len != t.path.ptr + t.path.len) abort();
  }
  azr__buf_free(&b);
  azr__buf_free(&again);
}

static void check_url(struct azr__span in) {
  struct azr__url u;
  if (azr__url_split(in, &u) != AZR_OK) return;
  if (!u.host.len || !u.path.len || u.path.ptr[0] != '/' || !u.scheme.len) abort();
  /* Rebuild and split again: same parts. */
  char text[8192];
  bool v6 = memchr(u.host.ptr, ':', u.host.len) != NULL;
  int n = snprintf(text, sizeof text, "%.*s://%s%.*s%s", (int)u.scheme.len, u.scheme.ptr, v6 ? "[" : "",
                   (int)u.host.len, u.host.ptr, v6 ? "]" : "");
  if (u.port) n += snprintf(text + n, sizeof text - (size_t)n, ":%u", (unsigned)u.port);
  n += snprintf(text + n, sizeof text - (size_t)n, "%.*s?%.*s", (int)u.path.len, u.path.ptr, (int)u.query.len,
                u.query.ptr);
  if (n <= 0 || (size_t)n >= sizeof text) return;
  struct azr__url w;
  if (azr__url_split(azr__span_of(text), &w) != AZR_OK) abort();
  if (w.port != u.port || w.host.len != u.host.len || memcmp(w.host.ptr, u.host.ptr, u.host.len) ||
      w.path.len != u.path.len || memcmp(w.path.ptr, u.path.ptr, u.path.len) || w.query.len != u.query.len ||
      memcmp(w.query.ptr, u.query.ptr, u.query.len))
    abort();
}

/* The service-side view of a URL we built: "/path?query" of the split URL. */
static void read_back(const struct azr__buf *url, struct azr__hc_target *t, char *storage, size_t cap) {
  struct azr__url u;
  if (azr__url_split((struct azr__span){(const char *)url->data, url->len}, &u) != AZR_OK) abort();
  int n = snprintf(storage, cap, "%.*s?%.*s", (int)u.path.len, u.path.ptr, (int)u.query.len, u.query.ptr);
  if (n <= 0 || (size_t)n >= cap) abort();
  if (azr__hc_target_parse(azr__span_of(storage), t) != AZR_OK) abort();
}

static void check_builders(const char *entity, const char *text) {
  struct azr__buf url, dec;
  azr__buf_init(&url, NULL, 0);
  azr__buf_init(&dec, NULL, 0);
  static char storage[65536];
  struct azr__hc_target t;
  const char *path = entity;
  while (*path == '/') path++;
  bool simple_entity = *path && *path != '?' && !strchr(entity, '?');

  int rc = azr__hc_url_listen(&url, true, "relay.local", 8443, entity, "id", text);
  if (rc == AZR_OK) {
    read_back(&url, &t, storage, sizeof storage);
    if (!t.is_hc || !t.has_token || azr__hc_target_token(&t, &dec) != AZR_OK) abort();
    if (simple_entity && (t.action != AZR__HC_ACTION_LISTEN || strcmp(azr__buf_cstr(&dec), text) != 0)) abort();
  } else if (rc != AZR_E_INVALID_ARG || simple_entity) {
    abort();
  }
  azr__buf_reset(&url);
  azr__buf_reset(&dec);
  rc = azr__hc_url_http(&url, false, "::1", 0, entity, text);
  if (rc == AZR_OK) {
    read_back(&url, &t, storage, sizeof storage);
    if (t.is_hc && simple_entity && strncasecmp(path, "$hc", 3) != 0) abort();
  }
  azr__buf_reset(&url);
  rc = azr__hc_url_reject(&url, "wss://gw/$hc/hyco?sb-hc-action=accept&sb-hc-id=1", 400 + (int)(strlen(text) % 100),
                          text);
  if (rc != AZR_OK) abort();
  read_back(&url, &t, storage, sizeof storage);
  if (t.action != AZR__HC_ACTION_ACCEPT || t.status_code != 400 + (int)(strlen(text) % 100)) abort();
  if (azr__hc_target_status_description(&t, &dec) != AZR_OK || strcmp(azr__buf_cstr(&dec), text) != 0) abort();
  azr__buf_free(&url);
  azr__buf_free(&dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 8192) return 0;
  struct azr__span rest = {(const char *)data + 1, size - 1};
  switch (data[0] % 3) {
  case 0:
    check_target(rest);
    break;
  case 1:
    check_url(rest);
    break;
  default: {
    char *copy = malloc(size);
    if (!copy) return 0;
    memcpy(copy, rest.ptr, rest.len);
    copy[rest.len] = 0;
    char *nl = strchr(copy, '\n');
    if (nl) *nl = 0;
    check_builders(copy, nl ? nl + 1 : "");
    free(copy);
  }
  }
  return 0;
}
