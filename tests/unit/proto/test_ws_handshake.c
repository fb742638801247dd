/* SPDX-License-Identifier: MIT */
/* RFC 6455 §4 opening handshake: accept values, requests and responses on both sides, and every
 * reason a client refuses a response or a server refuses a request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "azrelay/common.h"
#include "proto/ws_handshake.h"
#include "util/encoding.h"

static const char rfc_key[] = "dGhlIHNhbXBsZSBub25jZQ==";
static const char rfc_accept[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

static int take_head(void *ud, struct azr__http_head *head) {
  *(struct azr__http_head *)ud = *head;
  memset(head, 0, sizeof *head);
  return 0;
}

/* Parses one head from text; the caller frees it. */
static void parse(enum azr__http1_type type, const char *text, struct azr__http_head *out) {
  struct azr__http1 p;
  struct azr__http1_callbacks cb = {.on_head = take_head};
  memset(out, 0, sizeof *out);
  assert_int_equal(azr__http1_init(&p, type, NULL, &cb, out), AZR_OK);
  long n = azr__http1_feed(&p, (const uint8_t *)text, strlen(text));
  if (n < 0) fail_msg("parse error: %s", p.error);
  assert_true(out->storage.data != NULL);
  azr__http1_free(&p);
}

static void test_accept_vectors(void **state) {
  (void)state;
  char out[29];
  azr__ws_accept_value(rfc_key, strlen(rfc_key), out);
  assert_string_equal(out, rfc_accept);
  azr__ws_accept_value("x3JJHMbDL1EzLkh9GBhXDw==", 24, out);
  assert_string_equal(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
  /* The length is honoured (no reliance on NUL). */
  azr__ws_accept_value("dGhlIHNhbXBsZSBub25jZQ==trailing", 24, out);
  assert_string_equal(out, rfc_accept);
}

static void test_new_key(void **state) {
  (void)state;
  char a[25], b[25];
  assert_int_equal(azr__ws_new_key(a), AZR_OK);
  assert_int_equal(azr__ws_new_key(b), AZR_OK);
  assert_int_equal(strlen(a), 24);
  assert_string_not_equal(a, b);
  struct azr__buf raw;
  azr__buf_init(&raw, NULL, 0);
  assert_int_equal(azr__base64_decode(&raw, a, 24), AZR_OK);
  assert_int_equal(raw.len, 16);
  azr__buf_free(&raw);
}

static void test_client_request_text(void **state) {
  (void)state;
  struct azr__buf out;
  azr__buf_init(&out, NULL, 0);
  const char *extra[] = {"ServiceBusAuthorization", "SharedAccessSignature sr=x", "Sec-WebSocket-Protocol", "a, b",
                         NULL};
  assert_int_equal(azr__ws_client_request(&out, "ns.example:9443", "/$hc/hyco?sb-hc-action=listen", rfc_key, extra),
                   AZR_OK);
  assert_string_equal(azr__buf_cstr(&out), "GET /$hc/hyco?sb-hc-action=listen HTTP/1.1\r\n"
                                           "Host: ns.example:9443\r\n"
                                           "Upgrade: websocket\r\n"
                                           "Connection: Upgrade\r\n"
                                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                           "Sec-WebSocket-Version: 13\r\n"
                                           "ServiceBusAuthorization: SharedAccessSignature sr=x\r\n"
                                           "Sec-WebSocket-Protocol: a, b\r\n"
                                           "\r\n");
  /* Header injection and malformed arguments are refused, leaving out as it was. */
  size_t before = out.len;
  const char *inject[] = {"X", "v\r\nEvil: 1", NULL};
  assert_int_equal(azr__ws_client_request(&out, "h", "/", rfc_key, inject), AZR_E_INVALID_ARG);
  const char *odd[] = {"X", NULL};
  assert_int_equal(azr__ws_client_request(&out, "h", "/", rfc_key, odd), AZR_E_INVALID_ARG);
  const char *colon[] = {"X:Y", "v", NULL};
  assert_int_equal(azr__ws_client_request(&out, "h", "/", rfc_key, colon), AZR_E_INVALID_ARG);
  assert_int_equal(azr__ws_client_request(&out, "h\r\n", "/", rfc_key, NULL), AZR_E_INVALID_ARG);
  assert_int_equal(azr__ws_client_request(&out, "h", "/a b", rfc_key, NULL), AZR_E_INVALID_ARG);
  assert_int_equal(azr__ws_client_request(&out, "", "/", rfc_key, NULL), AZR_E_INVALID_ARG);
  assert_int_equal(out.len, before);
  azr__buf_free(&out);
}

/* The full exchange: client request -> server check -> 101 -> client check. */
static void test_round_trip(void **state) {
  (void)state;
  char key[25];
  assert_int_equal(azr__ws_new_key(key), AZR_OK);
  struct azr__buf req, resp;
  azr__buf_init(&req, NULL, 0);
  azr__buf_init(&resp, NULL, 0);
  const char *extra[] = {"Sec-WebSocket-Protocol", "chat, superchat", NULL};
  assert_int_equal(azr__ws_client_request(&req, "h", "/x", key, extra), AZR_OK);
  struct azr__http_head rh, sh;
  parse(AZR__HTTP1_REQUEST, azr__buf_cstr(&req), &rh);
  char err[160] = "";
  assert_int_equal(azr__ws_server_check_request(&rh, err, sizeof err), 0);
  const struct azr__http_header *k = azr__http_head_find(&rh, "Sec-WebSocket-Key");
  assert_non_null(k);
  assert_int_equal(azr__ws_server_response(&resp, k->value.ptr, "superchat"), AZR_OK);
  parse(AZR__HTTP1_RESPONSE, azr__buf_cstr(&resp), &sh);
  assert_int_equal(sh.status_code, 101);
  assert_true(sh.upgrade);
  assert_int_equal(azr__ws_client_check_response(&sh, key, "chat, superchat", err, sizeof err), 0);
  azr__http_head_free(&sh);
  /* Without a sub-protocol: no header. */
  azr__buf_reset(&resp);
  assert_int_equal(azr__ws_server_response(&resp, rfc_key, NULL), AZR_OK);
  assert_string_equal(azr__buf_cstr(&resp), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                            "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                                            "\r\n");
  parse(AZR__HTTP1_RESPONSE, azr__buf_cstr(&resp), &sh);
  assert_int_equal(azr__ws_client_check_response(&sh, rfc_key, NULL, err, sizeof err), 0);
  /* Offering protocols and getting none back is allowed (RFC 6455 §4.1). */
  assert_int_equal(azr__ws_client_check_response(&sh, rfc_key, "chat", err, sizeof err), 0);
  azr__http_head_free(&sh);
  assert_int_equal(azr__ws_server_response(&resp, rfc_key, "bad\r\nX: 1"), AZR_E_INVALID_ARG);
  azr__http_head_free(&rh);
  azr__buf_free(&req);
  azr__buf_free(&resp);
}

static void expect_response_refused(const char *text, const char *offered, const char *why) {
  struct azr__http_head h;
  parse(AZR__HTTP1_RESPONSE, text, &h);
  char err[160] = "";
  assert_int_equal(azr__ws_client_check_response(&h, rfc_key, offered, err, sizeof err), -1);
  if (!strstr(err, why)) fail_msg("reason \"%s\", expected \"%s\"", err, why);
  azr__http_head_free(&h);
}

static void test_response_validation_failures(void **state) {
  (void)state;
#define OK_HEADERS "Upgrade: websocket\r\nConnection: Upgrade\r\n"
#define ACCEPT "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
  expect_response_refused("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", NULL, "101");
  expect_response_refused("HTTP/1.1 101 Switching Protocols\r\n" OK_HEADERS
                          "Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n\r\n",
                          NULL, "does not match");
  expect_response_refused("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n" ACCEPT "\r\n", NULL,
                          "Upgrade");
  expect_response_refused("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n" ACCEPT "\r\n",
                          NULL, "Upgrade");
  expect_response_refused("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" ACCEPT "\r\n", NULL,
                          "Connection");
  expect_response_refused("HTTP/1.1 101 Switching Protocols\r\n" OK_HEADERS "\r\n", NULL, "Accept");
  expect_response_refused("HTTP/1.1 101 Switching Protocols\r\n" OK_HEADERS ACCEPT ACCEPT "\r\n", NULL, "Accept");
  /* Sub-protocols: never offered, not one of ours, or two of them. */
  expect_response_refused("HTTP/1.1 101 Switching Protocols\r\n" OK_HEADERS ACCEPT
                          "Sec-WebSocket-Protocol: chat\r\n\r\n",
                          NULL, "none was offered");
  expect_response_refused("HTTP/1.1 101 Switching Protocols\r\n" OK_HEADERS ACCEPT
                          "Sec-WebSocket-Protocol: chat\r\n\r\n",
                          "", "none was offered");
  expect_response_refused("HTTP/1.1 101 Switching Protocols\r\n" OK_HEADERS ACCEPT
                          "Sec-WebSocket-Protocol: other\r\n\r\n",
                          "chat, superchat", "not offered");
  expect_response_refused("HTTP/1.1 101 Switching Protocols\r\n" OK_HEADERS ACCEPT
                          "Sec-WebSocket-Protocol: Chat\r\n\r\n",
                          "chat", "not offered");
  expect_response_refused("HTTP/1.1 101 Switching Protocols\r\n" OK_HEADERS ACCEPT
                          "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
                          "chat", "not offered");
  expect_response_refused("HTTP/1.1 101 Switching Protocols\r\n" OK_HEADERS ACCEPT
                          "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
                          NULL, "extension");
  /* Tokens are matched case-insensitively inside lists. */
  struct azr__http_head h;
  parse(AZR__HTTP1_RESPONSE,
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n" ACCEPT
        "Sec-WebSocket-Protocol: superchat\r\n\r\n",
        &h);
  char err[160];
  assert_int_equal(azr__ws_client_check_response(&h, rfc_key, "chat,superchat", err, sizeof err), 0);
  azr__http_head_free(&h);
}

static void expect_request_refused(const char *text, const char *why) {
  struct azr__http_head h;
  parse(AZR__HTTP1_REQUEST, text, &h);
  char err[160] = "";
  assert_int_equal(azr__ws_server_check_request(&h, err, sizeof err), -1);
  if (!strstr(err, why)) fail_msg("reason \"%s\", expected \"%s\"", err, why);
  azr__http_head_free(&h);
}

static void test_request_validation_failures(void **state) {
  (void)state;
#define REQ_REST "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
  expect_request_refused("POST / HTTP/1.1\r\nHost: h\r\n" OK_HEADERS REQ_REST, "GET");
  expect_request_refused("GET / HTTP/1.0\r\nHost: h\r\n" OK_HEADERS REQ_REST, "HTTP/1.1");
  expect_request_refused("GET / HTTP/1.1\r\n" OK_HEADERS REQ_REST, "Host");
  expect_request_refused("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n" REQ_REST, "Upgrade: websocket");
  expect_request_refused("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n" REQ_REST, "Connection");
  expect_request_refused("GET / HTTP/1.1\r\nHost: h\r\n" OK_HEADERS
                         "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
                         "Version");
  expect_request_refused("GET / HTTP/1.1\r\nHost: h\r\n" OK_HEADERS "Sec-WebSocket-Version: 13\r\n\r\n", "Key");
  expect_request_refused("GET / HTTP/1.1\r\nHost: h\r\n" OK_HEADERS
                         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: c2hvcnQ=\r\n\r\n",
                         "16 bytes");
  expect_request_refused("GET / HTTP/1.1\r\nHost: h\r\n" OK_HEADERS
                         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==\r\n\r\n",
                         "16 bytes");
  /* The same request with everything in place passes, header names in any case. */
  struct azr__http_head h;
  parse(AZR__HTTP1_REQUEST,
        "GET / HTTP/1.1\r\nhost: h\r\nUPGRADE: WebSocket\r\nconnection: keep-alive, Upgrade\r\n"
        "sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        &h);
  char err[160] = "";
  assert_int_equal(azr__ws_server_check_request(&h, err, sizeof err), 0);
  azr__http_head_free(&h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_accept_vectors),
      cmocka_unit_test(test_new_key),
      cmocka_unit_test(test_client_request_text),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_response_validation_failures),
      cmocka_unit_test(test_request_validation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
