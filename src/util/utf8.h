/* SPDX-License-Identifier: MIT */
/* Incremental UTF-8 validation (RFC 3629: no overlongs, no surrogates, max U+10FFFF), so text
 * messages can be checked fragment by fragment as they stream in. */
#ifndef AZR_UTIL_UTF8_H
#define AZR_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct azr__utf8 {
  uint32_t state; /* 0 = at a character boundary */
};

#define AZR__UTF8_INIT {0}

/* Feeds bytes; false as soon as the input cannot be valid UTF-8. */
bool azr__utf8_feed(struct azr__utf8 *v, const uint8_t *data, size_t len);
/* True when the bytes fed so far end on a character boundary. */
bool azr__utf8_complete(const struct azr__utf8 *v);
/* Whole-buffer check. */
bool azr__utf8_valid(const uint8_t *data, size_t len);

#endif
