/* SPDX-License-Identifier: MIT */
/* Fuzzes the WebSocket frame layer. The first byte gives the allowed RSV bits (low 3 bits) and a
 * mask offset (high bits); the rest is a frame header candidate. A header that parses must write
 * back to the same bytes; masking its payload must agree with a byte loop; a Close payload that
 * parses must write back and parse to the same code and reason. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ws_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_close_payload(const uint8_t *p, size_t len) {
  uint16_t code;
  const uint8_t *reason;
  size_t rlen;
  if (!azr__ws_close_payload_parse(p, len, &code, &reason, &rlen)) return;
  if (len == 1 || (len == 0 && code != 1005) || (len >= 2 && !azr__ws_close_code_valid(code))) abort();
  if (rlen > 123 || memchr(reason, 0, rlen)) return; /* the writer takes a C string of at most 123 bytes */
  char text[124];
  memcpy(text, reason, rlen);
  text[rlen] = 0;
  uint8_t out[125];
  size_t n = azr__ws_close_payload_write(out, code, text);
  if (n != len || (n && memcmp(out, p, n) != 0)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t allowed = data[0] & 7;
  uint64_t offset = data[0] >> 3;
  data++;
  size--;
  struct azr__ws_frame_header h;
  int n = azr__ws_frame_parse_header(data, size, allowed, &h);
  if (n <= 0) {
    /* Fourteen bytes always hold a whole header. */
    if (n == 0 && size >= AZR__WS_MAX_HEADER) abort();
    check_close_payload(data, size < 125 ? size : 125);
    return 0;
  }
  if (n < 2 || n > (int)AZR__WS_MAX_HEADER || (size_t)n > size) abort();
  if ((h.rsv & ~allowed) || (azr__ws_is_control(h.opcode) && (!h.fin || h.payload_len > 125))) abort();
  for (int cut = 0; cut < n; cut++) {
    struct azr__ws_frame_header g;
    if (azr__ws_frame_parse_header(data, (size_t)cut, allowed, &g) != 0) abort(); /* a prefix needs more */
  }
  uint8_t back[AZR__WS_MAX_HEADER];
  size_t wn = azr__ws_frame_write_header(back, &h);
  if (wn != (size_t)n || memcmp(back, data, wn) != 0) abort();

  const uint8_t *payload = data + n;
  size_t plen = size - (size_t)n;
  if (plen > h.payload_len) plen = (size_t)h.payload_len;
  uint8_t *fast = malloc(plen + 1), *slow = malloc(plen + 1);
  if (!fast || !slow) abort();
  memcpy(fast, payload, plen);
  for (size_t i = 0; i < plen; i++) slow[i] = payload[i] ^ h.mask[(offset + i) % 4];
  /* In two pieces, each with its offset in the payload. */
  size_t half = plen / 2;
  azr__ws_mask(fast, half, h.mask, offset);
  azr__ws_mask(fast + half, plen - half, h.mask, offset + half);
  if (plen && memcmp(fast, slow, plen) != 0) abort();
  azr__ws_mask_copy(fast, payload, plen, h.mask, offset);
  if (plen && memcmp(fast, slow, plen) != 0) abort();
  if (h.opcode == AZR__WS_CLOSE && plen == h.payload_len) {
    azr__ws_mask_copy(fast, payload, plen, h.mask, 0);
    check_close_payload(h.masked ? fast : payload, plen);
  }
  free(fast);
  free(slow);
  return 0;
}
