/* SPDX-License-Identifier: MIT */
/* Fuzzes HTTP/1.1 parsing. The first byte picks the parser (bit 0: request or response), a HEAD
 * response (bit 1), small caps (bit 2), stops from the callbacks (bit 3) and the piece sizes (bits
 * 4-7); the rest is fed in pieces, resuming after every stop, then the end of the connection is
 * signalled. Heads must be well formed (spans inside their storage, NUL-terminated, within the caps)
 * and events must come in order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "azrelay/common.h"
#include "proto/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct watch {
  struct azr__http1 p;
  bool in_message;
  bool upgraded;
  bool stops;
  uint32_t x;
  size_t heads;
};

static bool want_stop(struct watch *w) {
  if (!w->stops) return false;
  w->x = w->x * 1103515245u + 12345u;
  return (w->x >> 16) & 1;
}

static void check_span(const struct azr__http_head *h, struct azr__span s) {
  const char *base = (const char *)h->storage.data;
  if (!s.ptr || s.ptr < base || s.ptr + s.len > base + h->storage.len || s.ptr[s.len] != 0) abort();
}

static int w_head(void *ud, struct azr__http_head *h) {
  struct watch *w = ud;
  if (w->in_message || w->upgraded) abort();
  if (h->header_count > w->p.max_headers || h->storage.len > w->p.max_head) abort();
  check_span(h, h->method);
  check_span(h, h->target);
  check_span(h, h->reason);
  for (size_t i = 0; i < h->header_count; i++) {
    check_span(h, h->headers[i].name);
    check_span(h, h->headers[i].value);
    if (h->headers[i].name.len == 0) abort();
    const struct azr__http_header *f = azr__http_head_find(h, h->headers[i].name.ptr);
    if (!f || f > &h->headers[i]) abort();
  }
  if (h->is_request && h->status_code != 0) abort();
  struct azr__buf joined;
  azr__buf_init(&joined, NULL, 0);
  if (azr__http_head_join(h, "Connection", &joined) != AZR_OK) abort();
  if (azr__http_head_has_token(h, "Connection", "upgrade") && !joined.len) abort();
  azr__buf_free(&joined);
  w->in_message = true;
  w->upgraded = h->upgrade;
  w->heads++;
  /* Take the head over every other time (the parser must cope with both). */
  if (w->heads & 1) {
    struct azr__http_head mine = *h;
    memset(h, 0, sizeof *h);
    azr__http_head_free(&mine);
  }
  return want_stop(w);
}

static int w_body(void *ud, const uint8_t *data, size_t len) {
  struct watch *w = ud;
  if (!w->in_message || w->upgraded || (len && !data)) abort();
  return want_stop(w);
}

static int w_complete(void *ud) {
  struct watch *w = ud;
  if (!w->in_message) abort();
  w->in_message = false;
  return want_stop(w);
}

static const struct azr__http1_callbacks watch_cb = {w_head, w_body, w_complete};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t opt = data[0];
  data++;
  size--;
  struct watch w;
  memset(&w, 0, sizeof w);
  w.stops = (opt & 8) != 0;
  w.x = opt;
  if (azr__http1_init(&w.p, (opt & 1) ? AZR__HTTP1_RESPONSE : AZR__HTTP1_REQUEST, NULL, &watch_cb, &w) != AZR_OK)
    abort();
  if (opt & 2) azr__http1_expect_no_body(&w.p);
  if (opt & 4) {
    w.p.max_head = 256;
    w.p.max_headers = 4;
  }
  size_t piece = (size_t)(opt >> 4); /* 0 = whole */
  size_t off = 0;
  bool failed = false;
  int idle = 0;
  while (off < size && !failed) {
    size_t n = piece ? piece : size - off;
    if (n > size - off) n = size - off;
    long used = azr__http1_feed(&w.p, data + off, n);
    if (used < 0) {
      if (!w.p.error[0]) abort();
      failed = true;
      break;
    }
    if ((size_t)used > n) abort();
    off += (size_t)used;
    if ((size_t)used < n) {
      /* Stopped by a callback or by an upgrade: resume; after an upgrade nothing more is taken. */
      azr__http1_resume(&w.p);
      if (used == 0 && ++idle > 2) {
        if (!w.upgraded) abort(); /* a resumed parser always makes progress */
        break;
      }
    } else {
      idle = 0;
    }
  }
  if (!failed && azr__http1_finish(&w.p) != 0) {
    if (!w.p.error[0]) abort();
    failed = true;
  }
  if (azr__http1_feed(&w.p, (const uint8_t *)"x", failed ? 1 : 0) != (failed ? -1 : 0)) abort();
  azr__http1_free(&w.p);
  return 0;
}
