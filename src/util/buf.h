/* SPDX-License-Identifier: MIT */
/* Growable byte buffer with a hard cap: growth past `max` fails with AZR_E_TOO_BIG instead of
 * allocating, so no peer can make a buffer grow without bound. The content is always followed by
 * a NUL byte (not counted in len) so text can be used as a C string. */
#ifndef AZR_UTIL_BUF_H
#define AZR_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "util/mem.h"

struct azr__buf {
  uint8_t *data;
  size_t len;
  size_t cap;
  size_t max; /* 0 = SIZE_MAX/2 */
  const struct azr__mem *mem;
};

void azr__buf_init(struct azr__buf *b, const struct azr__mem *mem, size_t max);
void azr__buf_free(struct azr__buf *b);
/* Empties the buffer, keeping its allocation. */
void azr__buf_reset(struct azr__buf *b);
/* Makes room for `extra` more bytes. AZR_E_TOO_BIG past max, AZR_E_NOMEM. */
int azr__buf_reserve(struct azr__buf *b, size_t extra);
int azr__buf_append(struct azr__buf *b, const void *data, size_t len);
int azr__buf_append_str(struct azr__buf *b, const char *s);
int azr__buf_append_byte(struct azr__buf *b, uint8_t c);
int azr__buf_printf(struct azr__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int azr__buf_vprintf(struct azr__buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Drops the first n bytes (n <= len). */
void azr__buf_consume(struct azr__buf *b, size_t n);
/* Hands the allocation to the caller (NUL-terminated, may be NULL if nothing was appended), leaving
 * the buffer empty. Free it with azr__free(b->mem, p). */
char *azr__buf_steal(struct azr__buf *b);
/* Content as a C string (never NULL). */
const char *azr__buf_cstr(const struct azr__buf *b);

#endif
