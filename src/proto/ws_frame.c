/* SPDX-License-Identifier: MIT */
/* RFC 6455 §5.2 frame headers, §5.3 payload masking and §5.5.1 Close payloads. */
#include "proto/ws_frame.h"

#include <string.h>

#include "util/utf8.h"

static bool opcode_known(uint8_t op) {
  return op == AZR__WS_CONTINUATION || op == AZR__WS_TEXT || op == AZR__WS_BINARY || op == AZR__WS_CLOSE ||
         op == AZR__WS_PING || op == AZR__WS_PONG;
}

int azr__ws_frame_parse_header(const uint8_t *data, size_t len, uint8_t allowed_rsv,
                               struct azr__ws_frame_header *out) {
  if (len < 2) return 0;
  uint8_t b0 = data[0], b1 = data[1];
  uint8_t opcode = b0 & 0x0f, rsv = (b0 >> 4) & 0x07, len7 = b1 & 0x7f;
  bool fin = (b0 & 0x80) != 0, masked = (b1 & 0x80) != 0;
  /* Everything the first two bytes decide is checked before waiting for the rest, so a bad frame
   * is refused as early as possible. */
  if (!opcode_known(opcode) || (rsv & (uint8_t)~allowed_rsv) != 0) return -1;
  if (azr__ws_is_control(opcode) && (!fin || len7 > 125)) return -1;
  size_t ext = len7 == 126 ? 2u : len7 == 127 ? 8u : 0u;
  size_t need = 2 + ext + (masked ? 4u : 0u);
  if (len < need) return 0;
  uint64_t plen = len7;
  if (ext) {
    plen = 0;
    for (size_t i = 0; i < ext; i++) plen = plen << 8 | data[2 + i];
    /* §5.2: the minimal number of bytes must be used; the 64-bit form has its top bit clear. */
    if (ext == 2 && plen < 126) return -1;
    if (ext == 8 && (plen <= 0xffff || (plen >> 63) != 0)) return -1;
  }
  out->fin = fin;
  out->rsv = rsv;
  out->opcode = opcode;
  out->masked = masked;
  if (masked) memcpy(out->mask, data + 2 + ext, 4);
  else memset(out->mask, 0, 4);
  out->payload_len = plen;
  return (int)need;
}

size_t azr__ws_frame_write_header(uint8_t *out, const struct azr__ws_frame_header *h) {
  size_t n = 2;
  out[0] = (uint8_t)((h->fin ? 0x80 : 0) | (h->rsv & 0x07) << 4 | (h->opcode & 0x0f));
  uint8_t mbit = h->masked ? 0x80 : 0;
  uint64_t plen = h->payload_len;
  if (plen < 126) {
    out[1] = (uint8_t)(mbit | plen);
  } else if (plen <= 0xffff) {
    out[1] = mbit | 126;
    out[2] = (uint8_t)(plen >> 8);
    out[3] = (uint8_t)plen;
    n = 4;
  } else {
    out[1] = mbit | 127;
    for (int i = 0; i < 8; i++) out[2 + i] = (uint8_t)(plen >> (56 - 8 * i));
    n = 10;
  }
  if (h->masked) {
    memcpy(out + n, h->mask, 4);
    n += 4;
  }
  return n;
}

/* The mask pattern for eight payload bytes starting at phase `phase` (0..3), as a word in memory
 * order: loading it with memcpy gives the right XOR value on any byte order. */
static uint64_t mask_word(const uint8_t mask[4], unsigned phase) {
  uint8_t pat[8];
  for (unsigned i = 0; i < 8; i++) pat[i] = mask[(phase + i) & 3];
  uint64_t w;
  memcpy(&w, pat, 8);
  return w;
}

/* Bytes are masked one at a time until dst is 8-aligned, then eight (four words per loop) at a time:
 * 8 is a multiple of the 4-byte mask period, so the word never needs rotating after the head. */
static void mask_run(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t mask[4], uint64_t offset) {
  unsigned phase = (unsigned)(offset & 3);
  size_t head = (size_t)(-(uintptr_t)dst & 7);
  if (head > len) head = len;
  for (size_t i = 0; i < head; i++) dst[i] = src[i] ^ mask[(phase + i) & 3];
  dst += head;
  src += head;
  len -= head;
  phase = (unsigned)((phase + head) & 3);
  uint64_t m = mask_word(mask, phase);
  while (len >= 32) {
    uint64_t a, b, c, d;
    memcpy(&a, src, 8);
    memcpy(&b, src + 8, 8);
    memcpy(&c, src + 16, 8);
    memcpy(&d, src + 24, 8);
    a ^= m;
    b ^= m;
    c ^= m;
    d ^= m;
    memcpy(dst, &a, 8);
    memcpy(dst + 8, &b, 8);
    memcpy(dst + 16, &c, 8);
    memcpy(dst + 24, &d, 8);
    dst += 32;
    src += 32;
    len -= 32;
  }
  while (len >= 8) {
    uint64_t a;
    memcpy(&a, src, 8);
    a ^= m;
    memcpy(dst, &a, 8);
    dst += 8;
    src += 8;
    len -= 8;
  }
  for (size_t i = 0; i < len; i++) dst[i] = src[i] ^ mask[(phase + i) & 3];
}

void azr__ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset) {
  if (len) mask_run(data, data, len, mask, offset);
}

void azr__ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t mask[4], uint64_t offset) {
  if (len) mask_run(dst, src, len, mask, offset);
}

/* §7.4: codes a peer may put in a Close frame. 1004-1006 and 1015 are reserved for local use,
 * 1016-2999 are unassigned protocol codes, 3000-4999 belong to libraries and applications. */
static bool close_code_sendable(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

bool azr__ws_close_code_valid(uint16_t code) { return close_code_sendable(code); }

bool azr__ws_close_payload_parse(const uint8_t *payload, size_t len, uint16_t *code, const uint8_t **reason,
                                 size_t *reason_len) {
  *reason = payload;
  *reason_len = 0;
  if (len == 0) {
    *code = 1005;
    return true;
  }
  if (len < 2) return false;
  uint16_t c = (uint16_t)(payload[0] << 8 | payload[1]);
  if (!close_code_sendable(c)) return false;
  if (!azr__utf8_valid(payload + 2, len - 2)) return false;
  *code = c;
  *reason = payload + 2;
  *reason_len = len - 2;
  return true;
}

size_t azr__ws_close_payload_write(uint8_t *out, uint16_t code, const char *reason) {
  if (code == 0 || code == 1005) return 0;
  out[0] = (uint8_t)(code >> 8);
  out[1] = (uint8_t)code;
  size_t n = reason ? strlen(reason) : 0;
  if (n > 123) {
    n = 123;
    /* Cut before a continuation byte would split a character. */
    while (n > 0 && ((uint8_t)reason[n] & 0xc0) == 0x80) n--;
  }
  /* A reason that is not UTF-8 would make the peer fail the connection: send the code alone. */
  if (n && !azr__utf8_valid((const uint8_t *)reason, n)) n = 0;
  if (n) memcpy(out + 2, reason, n);
  return 2 + n;
}
