/* SPDX-License-Identifier: MIT */
/* Fuzzes the azbridge preamble codec (docs/internals/azbridge.md). The first byte picks the mode:
 * 0 = the rest is a relayed stream's first bytes for the listener-side decoder, fed whole and again
 * in pieces whose sizes come from byte 1 (both must agree; a decoded name must re-encode to the same
 * bytes); 1 = the rest is a listener reply for the sender-side reader; 2 = the rest is a port name to
 * encode, which must decode back unchanged. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "azrelay/common.h"
#include "proto/azbridge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct result {
  int rc;
  bool done;
  size_t consumed;
};

static struct result feed_pieces(struct azr__azbridge_preamble *p, const uint8_t *in, size_t len, uint8_t seed) {
  azr__azbridge_preamble_init(p);
  struct result r = {AZR_OK, false, 0};
  size_t pos = 0;
  unsigned step = 0;
  do {
    /* Piece sizes cycle through 0..7 offset by the seed, so empty pieces are fed too. */
    size_t n = (size_t)((seed + step++ * 3u) % 8u);
    if (n > len - pos) n = len - pos;
    size_t used = 0;
    bool done = false;
    r.rc = azr__azbridge_preamble_feed(p, in + pos, n, &used, &done);
    if (used > n) abort();
    r.consumed += used;
    r.done = done;
    if (r.rc != AZR_OK || done) return r;
    if (used != n) abort();
    pos += n;
  } while (pos < len || step < 3);
  return r;
}

static void check_decoder(const uint8_t *in, size_t len, uint8_t seed) {
  static struct azr__azbridge_preamble whole, pieces;
  azr__azbridge_preamble_init(&whole);
  size_t used = 0;
  bool done = false;
  struct result a;
  a.rc = azr__azbridge_preamble_feed(&whole, in, len, &used, &done);
  a.consumed = used;
  a.done = done;
  if (used > len) abort();
  struct result b = feed_pieces(&pieces, in, len, seed);
  if (a.rc != b.rc || a.done != b.done || a.consumed != b.consumed) abort();
  if (a.rc != AZR_OK) {
    if (!whole.why || whole.reject_reply != pieces.reject_reply) abort();
    if (a.rc == AZR_E_PROTOCOL) {
      if (whole.reject_reply != AZR__AZBRIDGE_REPLY_BAD_VERSION || a.consumed < 1 || a.consumed > 3) abort();
    } else if (a.rc == AZR_E_PARSE || a.rc == AZR_E_UTF8) {
      if (whole.reject_reply != AZR__AZBRIDGE_REPLY_NONE || a.consumed < 4) abort();
    } else {
      abort();
    }
    /* Sticky. */
    if (azr__azbridge_preamble_feed(&whole, in, len, &used, &done) != a.rc || used != 0) abort();
    return;
  }
  if (!a.done) {
    if (a.consumed != len || len >= AZR__AZBRIDGE_MAX_PREAMBLE) abort();
    return;
  }
  if (whole.port_name_len == 0 || whole.port_name_len > AZR__AZBRIDGE_MAX_PORT_NAME ||
      a.consumed != AZR__AZBRIDGE_HEADER_LEN + whole.port_name_len || strlen(whole.port_name) != whole.port_name_len ||
      strcmp(whole.port_name, pieces.port_name) != 0 || whole.mode != pieces.mode || whole.mode > 1)
    abort();
  if (azr__azbridge_port_name_check(whole.port_name, whole.port_name_len, NULL) != AZR_OK) abort();
  uint8_t again[AZR__AZBRIDGE_MAX_PREAMBLE];
  size_t n = 0;
  if (azr__azbridge_preamble_encode(whole.port_name, (enum azr__azbridge_mode)whole.mode, again, sizeof again, &n) !=
          AZR_OK ||
      n != a.consumed || memcmp(again, in, n) != 0)
    abort();
  /* The listener's decision chain never fails on a decoded preamble. */
  const char *ports[] = {"redis", whole.port_name};
  size_t idx = 9;
  if (azr__azbridge_port_lookup(ports, 2, whole.port_name, &idx) != AZR_OK || idx > 1) abort();
  uint8_t reply[AZR__AZBRIDGE_REPLY_LEN];
  enum azr__azbridge_reply rep = azr__azbridge_reply_for(whole.mode, (seed & 1) != 0);
  if (azr__azbridge_reply_encode(rep, reply) != AZR_OK || azr__azbridge_reply_parse(reply) != rep) abort();
}

static void check_reply(const uint8_t *in, size_t len, enum azr__azbridge_mode mode) {
  struct azr__azbridge_reply_reader r;
  azr__azbridge_reply_init(&r, mode);
  size_t total = 0, used;
  bool done = false;
  int rc = AZR_OK;
  for (size_t pos = 0; pos < len && !done; pos++) {
    rc = azr__azbridge_reply_feed(&r, in + pos, 1, &used, &done);
    if (used != 1) abort();
    total += used;
    if (rc != AZR_OK && !done) abort();
  }
  if (done != (len >= AZR__AZBRIDGE_REPLY_LEN) || total != (len < 3 ? len : 3)) abort();
  if (!done) return;
  enum azr__azbridge_reply want =
      mode == AZR__AZBRIDGE_MODE_DATAGRAM ? AZR__AZBRIDGE_REPLY_ACCEPT_DATAGRAM : AZR__AZBRIDGE_REPLY_ACCEPT_STREAM;
  if ((rc == AZR_OK) != (r.reply == want) || (rc != AZR_OK && (rc != AZR_E_PROTOCOL || !r.why))) abort();
  if (r.reply != azr__azbridge_reply_parse(in)) abort();
}

static void check_encoder(const uint8_t *in, size_t len, enum azr__azbridge_mode mode) {
  char name[600];
  if (len >= sizeof name) len = sizeof name - 1;
  memcpy(name, in, len);
  name[len] = 0;
  size_t name_len = strlen(name);
  uint8_t out[AZR__AZBRIDGE_MAX_PREAMBLE];
  size_t n = 0;
  int rc = azr__azbridge_preamble_encode(name, mode, out, sizeof out, &n);
  if (rc != azr__azbridge_port_name_check(name, name_len, NULL)) abort();
  if (rc != AZR_OK) return;
  struct azr__azbridge_preamble p;
  azr__azbridge_preamble_init(&p);
  size_t used;
  bool done;
  if (azr__azbridge_preamble_feed(&p, out, n, &used, &done) != AZR_OK || !done || used != n ||
      strcmp(p.port_name, name) != 0 || p.mode != (uint8_t)mode)
    abort();
  /* Too small an output is refused. */
  if (azr__azbridge_preamble_encode(name, mode, out, n - 1, &used) != AZR_E_TOO_BIG) abort();
  const char *one[] = {"x"};
  size_t idx;
  (void)azr__azbridge_port_lookup(one, 1, name, &idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2 || size > 4096) return 0;
  const uint8_t *rest = data + 2;
  size_t len = size - 2;
  enum azr__azbridge_mode mode = (data[1] & 1) ? AZR__AZBRIDGE_MODE_DATAGRAM : AZR__AZBRIDGE_MODE_STREAM;
  switch (data[0] % 3) {
  case 0:
    check_decoder(rest, len, data[1]);
    break;
  case 1:
    check_reply(rest, len, mode);
    break;
  default:
    check_encoder(rest, len, mode);
  }
  return 0;
}
