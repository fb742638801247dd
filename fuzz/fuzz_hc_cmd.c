/* SPDX-License-Identifier: MIT */
/* Fuzzes control-channel command parsing (§5) and checks that writing back a parsed command and parsing
 * it again is stable; also feeds the bytes through the JSON string escaper and back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "azrelay/common.h"
#include "proto/hc_cmd.h"
#include "util/limits.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int write_cmd(struct azr__buf *out, const struct azr__hc_cmd *c) {
  switch (c->type) {
  case AZR__HC_CMD_ACCEPT:
    return azr__hc_cmd_write_accept(out, &c->u.accept);
  case AZR__HC_CMD_REQUEST:
    return azr__hc_cmd_write_request(out, &c->u.request);
  case AZR__HC_CMD_RESPONSE:
    return azr__hc_cmd_write_response(out, &c->u.response);
  case AZR__HC_CMD_RENEW_TOKEN:
    return azr__hc_cmd_write_renew_token(out, c->u.renew_token.token);
  }
  return AZR_E_INVALID_ARG;
}

/* parse -> write -> parse -> write must reproduce the first writing byte for byte. */
static void check_round_trip(const uint8_t *data, size_t size) {
  struct azr__hc_cmd c1, c2;
  char err[128];
  int rc = azr__hc_cmd_parse(NULL, data, size, &c1, err, sizeof err);
  if (rc != AZR_OK) {
    if (rc != AZR_E_PARSE && rc != AZR_E_NOT_FOUND && rc != AZR_E_TOO_BIG) abort();
    if (c1.type != 0 || !err[0]) abort();
    return;
  }
  struct azr__buf w1, w2;
  azr__buf_init(&w1, NULL, 8 * AZR_MAX_CONTROL_MSG);
  azr__buf_init(&w2, NULL, 8 * AZR_MAX_CONTROL_MSG);
  if (write_cmd(&w1, &c1) != AZR_OK) abort();
  rc = azr__hc_cmd_parse(NULL, w1.data, w1.len, &c2, err, sizeof err);
  if (rc == AZR_OK) {
    if (c2.type != c1.type || write_cmd(&w2, &c2) != AZR_OK) abort();
    if (w1.len != w2.len || memcmp(w1.data, w2.data, w1.len) != 0) abort();
    azr__hc_cmd_free(NULL, &c2);
  } else if (rc != AZR_E_TOO_BIG || w1.len <= AZR_MAX_CONTROL_MSG) {
    abort(); /* what we write we must be able to read */
  }
  azr__hc_cmd_free(NULL, &c1);
  azr__buf_free(&w1);
  azr__buf_free(&w2);
}

/* Any UTF-8 string survives escaping and parsing (except NUL, which a parsed C string cannot hold). */
static void check_escaper(const uint8_t *data, size_t size) {
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  int rc = azr__buf_append_str(&b, "{\"renewToken\":{\"token\":");
  if (rc) abort();
  rc = azr__json_append_string(&b, (const char *)data, size);
  bool utf8 = azr__utf8_valid(data, size);
  if ((rc == AZR_OK) != utf8 || (rc && rc != AZR_E_UTF8)) abort();
  if (rc == AZR_OK && azr__buf_append_str(&b, "}}") == AZR_OK && b.len <= AZR_MAX_CONTROL_MSG) {
    struct azr__hc_cmd c;
    rc = azr__hc_cmd_parse(NULL, b.data, b.len, &c, NULL, 0);
    bool has_nul = memchr(data, 0, size) != NULL;
    if (has_nul ? rc != AZR_E_PARSE : rc != AZR_OK) abort();
    if (!has_nul && (strlen(c.u.renew_token.token) != size || memcmp(c.u.renew_token.token, data, size) != 0)) abort();
    azr__hc_cmd_free(NULL, &c);
  }
  azr__buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_round_trip(data, size);
  if (size <= 4096) check_escaper(data, size);
  return 0;
}
