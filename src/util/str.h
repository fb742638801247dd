/* SPDX-License-Identifier: MIT */
/* Byte-range ("span") helpers for parsing without copying. */
#ifndef AZR_UTIL_STR_H
#define AZR_UTIL_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct azr__span {
  const char *ptr;
  size_t len;
};

#define AZR__SPAN_LIT(s) ((struct azr__span){(s), sizeof(s) - 1})

struct azr__span azr__span_of(const char *s);
bool azr__span_eq(struct azr__span a, const char *s);
bool azr__span_ieq(struct azr__span a, const char *s);
bool azr__span_istarts(struct azr__span a, const char *prefix);
struct azr__span azr__span_trim(struct azr__span a);
/* Splits at the first `sep`: head before it, *rest after it (empty if absent). Returns head. */
struct azr__span azr__span_cut(struct azr__span a, char sep, struct azr__span *rest);
/* Parses an unsigned decimal (no sign, no spaces); false on overflow or junk. */
bool azr__span_to_u64(struct azr__span a, uint64_t *out);
bool azr__span_to_i64(struct azr__span a, int64_t *out);
/* Case-insensitive ASCII comparison of whole strings. */
bool azr__str_ieq(const char *a, const char *b);
/* "host:port" with an IPv6 literal (a host containing ':') in brackets, the port left out when 0;
 * truncated to cap. Returns what snprintf would have written. */
int azr__host_port(char *out, size_t cap, const char *host, uint16_t port);

#endif
