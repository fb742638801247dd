/* SPDX-License-Identifier: MIT */
/* Span helpers. */
#include "util/str.h"

#include <stdio.h>

#include <string.h>
#include <strings.h>

struct azr__span azr__span_of(const char *s) {
  struct azr__span r = {s ? s : "", s ? strlen(s) : 0};
  return r;
}

bool azr__span_eq(struct azr__span a, const char *s) {
  size_t n = strlen(s);
  return a.len == n && memcmp(a.ptr, s, n) == 0;
}

bool azr__span_ieq(struct azr__span a, const char *s) {
  size_t n = strlen(s);
  return a.len == n && strncasecmp(a.ptr, s, n) == 0;
}

bool azr__span_istarts(struct azr__span a, const char *prefix) {
  size_t n = strlen(prefix);
  return a.len >= n && strncasecmp(a.ptr, prefix, n) == 0;
}

struct azr__span azr__span_trim(struct azr__span a) {
  while (a.len && (a.ptr[0] == ' ' || a.ptr[0] == '\t')) {
    a.ptr++;
    a.len--;
  }
  while (a.len && (a.ptr[a.len - 1] == ' ' || a.ptr[a.len - 1] == '\t' || a.ptr[a.len - 1] == '\r' ||
                   a.ptr[a.len - 1] == '\n'))
    a.len--;
  return a;
}

struct azr__span azr__span_cut(struct azr__span a, char sep, struct azr__span *rest) {
  const char *p = a.len ? memchr(a.ptr, sep, a.len) : NULL;
  struct azr__span head = a;
  if (p) {
    head.len = (size_t)(p - a.ptr);
    if (rest) {
      rest->ptr = p + 1;
      rest->len = a.len - head.len - 1;
    }
  } else if (rest) {
    rest->ptr = a.ptr + a.len;
    rest->len = 0;
  }
  return head;
}

bool azr__span_to_u64(struct azr__span a, uint64_t *out) {
  if (a.len == 0 || a.len > 20) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < a.len; i++) {
    char c = a.ptr[i];
    if (c < '0' || c > '9') return false;
    uint64_t d = (uint64_t)(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

bool azr__span_to_i64(struct azr__span a, int64_t *out) {
  bool neg = a.len && a.ptr[0] == '-';
  if (neg) {
    a.ptr++;
    a.len--;
  }
  uint64_t v;
  if (!azr__span_to_u64(a, &v) || v > (uint64_t)INT64_MAX) return false;
  *out = neg ? -(int64_t)v : (int64_t)v;
  return true;
}

bool azr__str_ieq(const char *a, const char *b) { return strcasecmp(a, b) == 0; }

int azr__host_port(char *out, size_t cap, const char *host, uint16_t port) {
  bool v6 = strchr(host, ':') != NULL;
  if (port) return snprintf(out, cap, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", port);
  return snprintf(out, cap, "%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "");
}
