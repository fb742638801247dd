/* SPDX-License-Identifier: MIT */
/* Capped growable byte buffer. */
#include "util/buf.h"

#include <stdio.h>
#include <string.h>

#include "azrelay/common.h"

void azr__buf_init(struct azr__buf *b, const struct azr__mem *mem, size_t max) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max ? max : SIZE_MAX / 2;
  b->mem = mem ? mem : azr__mem_default();
}

void azr__buf_free(struct azr__buf *b) {
  azr__free(b->mem, b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

void azr__buf_reset(struct azr__buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = 0;
}

int azr__buf_reserve(struct azr__buf *b, size_t extra) {
  if (extra > b->max - b->len) return AZR_E_TOO_BIG;
  size_t need = b->len + extra + 1; /* room for the trailing NUL */
  if (need <= b->cap) return AZR_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap = cap > SIZE_MAX / 4 ? need : cap * 2;
  if (cap > b->max + 1) cap = b->max + 1;
  if (cap < need) cap = need;
  uint8_t *p = azr__realloc(b->mem, b->data, cap);
  if (!p) return AZR_E_NOMEM;
  b->data = p;
  b->cap = cap;
  return AZR_OK;
}

int azr__buf_append(struct azr__buf *b, const void *data, size_t len) {
  int rc = azr__buf_reserve(b, len);
  if (rc) return rc;
  if (len) memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = 0;
  return AZR_OK;
}

int azr__buf_append_str(struct azr__buf *b, const char *s) { return azr__buf_append(b, s, strlen(s)); }

int azr__buf_append_byte(struct azr__buf *b, uint8_t c) { return azr__buf_append(b, &c, 1); }

int azr__buf_vprintf(struct azr__buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap2);
  va_end(ap2);
  if (n < 0) return AZR_E_PARSE;
  if ((size_t)n < sizeof small) return azr__buf_append(b, small, (size_t)n);
  int rc = azr__buf_reserve(b, (size_t)n);
  if (rc) return rc;
  vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return AZR_OK;
}

int azr__buf_printf(struct azr__buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = azr__buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

void azr__buf_consume(struct azr__buf *b, size_t n) {
  if (n >= b->len) {
    azr__buf_reset(b);
    return;
  }
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
  b->data[b->len] = 0;
}

char *azr__buf_steal(struct azr__buf *b) {
  char *p = (char *)b->data;
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

const char *azr__buf_cstr(const struct azr__buf *b) { return b->data ? (const char *)b->data : ""; }
