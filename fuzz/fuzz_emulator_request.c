/* SPDX-License-Identifier: MIT */
/* Fuzzes the emulator's handling of whatever a client sends: a fresh plain-mode emulator gets one
 * connection (a socketpair) fed with the input, then runs its loop until the input is consumed.
 * "@TOKEN@" in the input is replaced by a valid token for hybrid connection hc1, so listen, connect
 * and HTTP paths get past authorization and the control-channel and WebSocket code is reached. The
 * emulator is a gateways' home, so offers (X-Azr-Gateway headers) are parsed too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "azrelay.h"
#include "emulator/emulator_internal.h"
#include "proto/sas.h"
#include "util/crypto.h"
#include "util/encoding.h"

static size_t expand(const uint8_t *data, size_t size, const char *token, uint8_t **out) {
  static const char marker[] = "@TOKEN@";
  size_t tlen = strlen(token), cap = size + 1, n = 0;
  uint8_t *buf = malloc(cap);
  for (size_t i = 0; buf && i < size;) {
    if (i + 7 <= size && memcmp(data + i, marker, 7) == 0) {
      uint8_t *grown = realloc(buf, cap + tlen);
      if (!grown) break;
      buf = grown;
      cap += tlen;
      memcpy(buf + n, token, tlen);
      n += tlen;
      i += 7;
    } else {
      buf[n++] = data[i++];
    }
  }
  *out = buf;
  return buf ? n : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 256 * 1024) return 0;
  azr_emulator *em;
  azr_emulator_options o = {0};
  o.plain = true;
  if (azr_emulator_new(&em, &o, sizeof o) != AZR_OK) return 0;
  if (azr_emulator_add_rule(em, "root", "fuzzkey", NULL, AZR_RIGHT_MANAGE, NULL) ||
      azr_emulator_add_hybrid_connection(em, "hc1", true) || azr_emulator_add_hybrid_connection(em, "open", false)) {
    azr_emulator_free(em);
    return 0;
  }
  (void)azr_emulator_config(em, "AcceptTimeoutMs=50");
  (void)azr_emulator_config(em, "HttpResponseTimeoutMs=50");
  /* A home: "X-Azr-Gateway: fuzz-gateway-secret" makes a request a gateway's offer. */
  (void)azr_emulator_config(em, "GatewaySecret=fuzz-gateway-secret");
  struct azr__buf aud, tok;
  azr__buf_init(&aud, NULL, 0);
  azr__buf_init(&tok, NULL, 0);
  azr__sas_audience(&aud, "localhost", "hc1");
  azr__sas_sign(&tok, azr__buf_cstr(&aud), "root", "fuzzkey", 4102444800, azr__hmac_sha256);
  uint8_t *input;
  size_t len = expand(data, size, azr__buf_cstr(&tok), &input);
  int sv[2];
  if (input && socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0) {
    azr__emu_front_accept(em, sv[0]);
    size_t off = 0;
    uint8_t sink[65536];
    for (int round = 0; round < 200; round++) {
      if (off < len) {
        ssize_t n = write(sv[1], input + off, len - off);
        if (n > 0) off += (size_t)n;
        if (off == len) shutdown(sv[1], SHUT_WR);
      }
      uv_run(&em->loop, UV_RUN_NOWAIT);
      while (read(sv[1], sink, sizeof sink) > 0) {
      }
      if (off == len && round > 20) break;
    }
    close(sv[1]);
  }
  free(input);
  azr__buf_free(&aud);
  azr__buf_free(&tok);
  azr_emulator_free(em);
  return 0;
}
