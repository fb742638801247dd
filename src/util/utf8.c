/* SPDX-License-Identifier: MIT */
/* Incremental UTF-8 validator.
 * State: bits 0-2 = continuation bytes still expected, bits 8-15 = lower bound of the next byte,
 * bits 16-23 = upper bound of the next byte (the bounds reject overlongs and surrogates). */
#include "util/utf8.h"

#define RANGE(lo, hi) ((uint32_t)(lo) << 8 | (uint32_t)(hi) << 16)

bool azr__utf8_feed(struct azr__utf8 *v, const uint8_t *data, size_t len) {
  uint32_t st = v->state;
  size_t i = 0;
  while (i < len) {
    if (st == 0) {
      /* Fast path: skip ASCII eight bytes at a time. */
      while (i + 8 <= len) {
        uint64_t w;
        __builtin_memcpy(&w, data + i, 8);
        if (w & 0x8080808080808080ull) break;
        i += 8;
      }
      if (i >= len) break;
      uint8_t c = data[i++];
      if (c < 0x80) continue;
      if (c >= 0xc2 && c <= 0xdf) st = 1 | RANGE(0x80, 0xbf);
      else if (c == 0xe0) st = 2 | RANGE(0xa0, 0xbf);
      else if (c == 0xed) st = 2 | RANGE(0x80, 0x9f);
      else if (c >= 0xe1 && c <= 0xef) st = 2 | RANGE(0x80, 0xbf);
      else if (c == 0xf0) st = 3 | RANGE(0x90, 0xbf);
      else if (c >= 0xf1 && c <= 0xf3) st = 3 | RANGE(0x80, 0xbf);
      else if (c == 0xf4) st = 3 | RANGE(0x80, 0x8f);
      else {
        v->state = st;
        return false;
      }
    } else {
      uint8_t c = data[i++];
      uint8_t lo = (uint8_t)(st >> 8), hi = (uint8_t)(st >> 16);
      if (c < lo || c > hi) {
        v->state = st;
        return false;
      }
      uint32_t left = (st & 7) - 1;
      st = left ? (left | RANGE(0x80, 0xbf)) : 0;
    }
  }
  v->state = st;
  return true;
}

bool azr__utf8_complete(const struct azr__utf8 *v) { return v->state == 0; }

bool azr__utf8_valid(const uint8_t *data, size_t len) {
  struct azr__utf8 v = AZR__UTF8_INIT;
  return azr__utf8_feed(&v, data, len) && azr__utf8_complete(&v);
}
