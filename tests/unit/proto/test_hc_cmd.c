/* SPDX-License-Identifier: MIT */
/* Control-channel commands: the §5 examples, §13 quirks, malformed JSON of many kinds, writers and round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "failmem.h"

#include "azrelay/common.h"
#include "proto/hc_cmd.h"
#include "util/limits.h"

/* The command structs own their strings (char *); tests point them at literals they never free. */
#define MUT(s) ((char *)(uintptr_t)(s))

/* §5.3 example, with the service's "\/" escapes. */
static const char accept_5_3[] =
    "{\"accept\":{\"address\":\"wss:\\/\\/relay-gw-01.example.net\\/$hc\\/hyco\\/orders?tenant=7&sb-hc-action=accept&"
    "sb-hc-id=0f8fad5b-d9cb-469f-a165-70867728950e_G0_G4\",\"id\":\"0f8fad5b-d9cb-469f-a165-70867728950e_G0_G4\","
    "\"connectHeaders\":{\"Host\":\"contoso.servicebus.windows.net\",\"Connection\":\"Upgrade\",\"Upgrade\":"
    "\"websocket\",\"Sec-WebSocket-Key\":\"x3JJHMbDL1EzLkh9GBhXDw==\",\"Sec-WebSocket-Version\":\"13\","
    "\"Sec-WebSocket-Protocol\":\"chat.v2, chat.v1\",\"User-Agent\":\"example-sender\\/1.0\",\"X-Order-Batch\":\"17\"},"
    "\"remoteEndpoint\":{\"address\":\"203.0.113.25\",\"port\":50321}}}";

/* §5.4 example. */
static const char request_5_4[] =
    "{\"request\":{\"address\":\"wss://relay-gw-01.example.net/$hc/hyco?sb-hc-action=request&sb-hc-id=5d1f7a3e-2b8c-"
    "4e51-9a60-3f0c2d4b7e91_G3\",\"id\":\"5d1f7a3e-2b8c-4e51-9a60-3f0c2d4b7e91_G3\",\"requestTarget\":\"/hyco/api/"
    "items?page=2\",\"method\":\"POST\",\"remoteEndpoint\":{\"address\":\"198.51.100.7\",\"port\":61022},"
    "\"requestHeaders\":{\"Host\":\"contoso.servicebus.windows.net\",\"Content-Type\":\"application/json\","
    "\"Accept-Encoding\":\"gzip\",\"User-Agent\":\"curl/8.5.0\",\"Via\":\"1.1 contoso.servicebus.windows.net\"},"
    "\"body\":true}}";

/* §5.5 rendezvous-only form. */
static const char request_5_5[] =
    "{\"request\":{\"address\":\"wss://relay-gw-01.example.net/$hc/hyco?sb-hc-action=request&sb-hc-id=9b2e_G3\","
    "\"id\":\"9b2e_G3\"}}";

/* §5.6 .NET member order (alphabetical). */
static const char response_dotnet[] =
    "{\"response\":{\"body\":true,\"requestId\":\"5d1f7a3e-2b8c-4e51-9a60-3f0c2d4b7e91_G3\",\"responseHeaders\":{"
    "\"Content-Type\":\"application\\/json\"},\"statusCode\":201,\"statusDescription\":\"Created\"}}";

/* §5.6 Node member order, lower-cased header names, statusCode as a string (the article's example). */
static const char response_node[] =
    "{\"response\":{\"requestId\":\"77c0_G3\",\"statusCode\":\"204\",\"statusDescription\":\"No Content\","
    "\"responseHeaders\":{\"content-type\":\"text/plain\",\"x-count\":3},\"body\":false}}";

static const char renew_3_7[] =
    "{\"renewToken\":{\"token\":\"SharedAccessSignature sr=http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco%2F&sig="
    "abc&se=1700003600&skn=RootManageSharedAccessKey\"}}";

static int parse(const char *json, struct azr__hc_cmd *cmd, char *err, size_t err_len) {
  size_t len = strlen(json);
  uint8_t *copy = malloc(len ? len : 1); /* exactly sized: ASan sees any over-read */
  memcpy(copy, json, len);
  int rc = azr__hc_cmd_parse(NULL, copy, len, cmd, err, err_len);
  free(copy);
  return rc;
}

static void parse_ok(const char *json, struct azr__hc_cmd *cmd) {
  char err[128];
  int rc = parse(json, cmd, err, sizeof err);
  if (rc) fail_msg("rc %d (%s) for %s", rc, err, json);
}

static void test_accept(void **state) {
  (void)state;
  struct azr__hc_cmd c;
  parse_ok(accept_5_3, &c);
  assert_int_equal(c.type, AZR__HC_CMD_ACCEPT);
  const struct azr__hc_accept *a = &c.u.accept;
  assert_string_equal(a->address, "wss://relay-gw-01.example.net/$hc/hyco/orders?tenant=7&sb-hc-action=accept&sb-hc-"
                                  "id=0f8fad5b-d9cb-469f-a165-70867728950e_G0_G4");
  assert_string_equal(a->id, "0f8fad5b-d9cb-469f-a165-70867728950e_G0_G4");
  assert_int_equal(a->connect_headers.count, 8);
  assert_string_equal(a->connect_headers.items[0].name, "Host");
  assert_string_equal(azr__hc_headers_get(&a->connect_headers, "sec-websocket-key"), "x3JJHMbDL1EzLkh9GBhXDw==");
  assert_string_equal(azr__hc_headers_get(&a->connect_headers, "User-Agent"), "example-sender/1.0");
  assert_null(azr__hc_headers_get(&a->connect_headers, "Origin"));
  assert_true(a->remote.present);
  assert_string_equal(a->remote.address, "203.0.113.25");
  assert_int_equal(a->remote.port, 50321);
  azr__hc_cmd_free(NULL, &c);
  assert_int_equal(c.type, 0);

  /* Order-independent, unknown members ignored, null = absent, empty id allowed, optional parts missing (.NET). */
  parse_ok("{\"accept\":{\"extra\":{\"deep\":[1,2,{\"x\":null}]},\"connectHeaders\":null,\"id\":\"\",\"address\":\"wss://"
           "h/$hc/x?sb-hc-action=accept\",\"remoteEndpoint\":null}}",
           &c);
  assert_string_equal(c.u.accept.id, "");
  assert_int_equal(c.u.accept.connect_headers.count, 0);
  assert_false(c.u.accept.remote.present);
  azr__hc_cmd_free(NULL, &c);
}

static void test_request(void **state) {
  (void)state;
  struct azr__hc_cmd c;
  parse_ok(request_5_4, &c);
  assert_int_equal(c.type, AZR__HC_CMD_REQUEST);
  const struct azr__hc_request *r = &c.u.request;
  assert_string_equal(r->id, "5d1f7a3e-2b8c-4e51-9a60-3f0c2d4b7e91_G3");
  assert_string_equal(r->request_target, "/hyco/api/items?page=2");
  assert_string_equal(r->method, "POST");
  assert_int_equal(r->remote.port, 61022);
  assert_int_equal(r->request_headers.count, 5);
  assert_string_equal(azr__hc_headers_get(&r->request_headers, "via"), "1.1 contoso.servicebus.windows.net");
  assert_int_equal(r->body, AZR__HC_BODY_TRUE);
  assert_false(azr__hc_request_is_rendezvous_only(r));
  azr__hc_cmd_free(NULL, &c);

  parse_ok(request_5_5, &c);
  assert_true(azr__hc_request_is_rendezvous_only(&c.u.request));
  assert_null(c.u.request.method);
  assert_int_equal(c.u.request.body, AZR__HC_BODY_ABSENT);
  assert_string_equal(c.u.request.id, "9b2e_G3");
  azr__hc_cmd_free(NULL, &c);

  /* .NET/Java look at body, Node at method: either missing means rendezvous-only. */
  parse_ok("{\"request\":{\"address\":\"a\",\"method\":\"GET\"}}", &c);
  assert_true(azr__hc_request_is_rendezvous_only(&c.u.request));
  azr__hc_cmd_free(NULL, &c);
  parse_ok("{\"request\":{\"address\":\"a\",\"body\":false}}", &c);
  assert_true(azr__hc_request_is_rendezvous_only(&c.u.request));
  assert_int_equal(c.u.request.body, AZR__HC_BODY_FALSE);
  azr__hc_cmd_free(NULL, &c);
  parse_ok("{\"request\":{\"address\":\"a\",\"method\":\"GET\",\"body\":false}}", &c);
  assert_false(azr__hc_request_is_rendezvous_only(&c.u.request));
  azr__hc_cmd_free(NULL, &c);
  assert_false(azr__hc_request_is_rendezvous_only(NULL));
  /* A request over a rendezvous socket may come without an address (.NET never reads it there). */
  parse_ok("{\"request\":{\"id\":\"b\",\"method\":\"GET\",\"requestTarget\":\"/x\",\"body\":false}}", &c);
  assert_null(c.u.request.address);
  assert_string_equal(c.u.request.method, "GET");
  azr__hc_cmd_free(NULL, &c);
}

static void test_response(void **state) {
  (void)state;
  struct azr__hc_cmd c;
  parse_ok(response_dotnet, &c);
  assert_int_equal(c.type, AZR__HC_CMD_RESPONSE);
  assert_string_equal(c.u.response.request_id, "5d1f7a3e-2b8c-4e51-9a60-3f0c2d4b7e91_G3");
  assert_int_equal(c.u.response.status_code, 201);
  assert_string_equal(c.u.response.status_description, "Created");
  assert_string_equal(azr__hc_headers_get(&c.u.response.response_headers, "content-type"), "application/json");
  assert_true(c.u.response.body);
  azr__hc_cmd_free(NULL, &c);

  parse_ok(response_node, &c);
  assert_int_equal(c.u.response.status_code, 204);
  assert_false(c.u.response.body);
  assert_string_equal(c.u.response.response_headers.items[0].name, "content-type");
  assert_string_equal(azr__hc_headers_get(&c.u.response.response_headers, "Content-Type"), "text/plain");
  assert_string_equal(azr__hc_headers_get(&c.u.response.response_headers, "X-Count"), "3"); /* number -> text */
  azr__hc_cmd_free(NULL, &c);

  /* Optional members; headers repeated with different case are joined (§7.1). */
  parse_ok("{\"response\":{\"requestId\":\"r\",\"statusCode\":500.0,\"responseHeaders\":{\"Set-Cookie\":\"a=1\","
           "\"set-cookie\":\"b=2\",\"X-Float\":1.5,\"X-Neg\":-7}}}",
           &c);
  assert_int_equal(c.u.response.status_code, 500);
  assert_null(c.u.response.status_description);
  assert_false(c.u.response.body);
  assert_int_equal(c.u.response.response_headers.count, 3);
  assert_string_equal(c.u.response.response_headers.items[0].name, "Set-Cookie");
  assert_string_equal(c.u.response.response_headers.items[0].value, "a=1, b=2");
  assert_string_equal(azr__hc_headers_get(&c.u.response.response_headers, "x-float"), "1.5");
  assert_string_equal(azr__hc_headers_get(&c.u.response.response_headers, "x-neg"), "-7");
  azr__hc_cmd_free(NULL, &c);
}

static void test_renew_and_unknown(void **state) {
  (void)state;
  struct azr__hc_cmd c;
  parse_ok(renew_3_7, &c);
  assert_int_equal(c.type, AZR__HC_CMD_RENEW_TOKEN);
  assert_string_equal(c.u.renew_token.token, "SharedAccessSignature sr=http%3A%2F%2Fcontoso.servicebus.windows.net%2F"
                                             "hyco%2F&sig=abc&se=1700003600&skn=RootManageSharedAccessKey");
  azr__hc_cmd_free(NULL, &c);
  char err[128];
  assert_int_equal(parse("{\"injectFault\":{\"delay\":1}}", &c, err, sizeof err), AZR_E_NOT_FOUND);
  assert_non_null(strstr(err, "unknown command 'injectFault'"));
  assert_int_equal(parse("{\"Accept\":{\"address\":\"a\",\"id\":\"b\"}}", &c, err, sizeof err), AZR_E_NOT_FOUND);
  assert_int_equal(parse("{\"\\u0001x\":1}", &c, err, sizeof err), AZR_E_NOT_FOUND);
  assert_non_null(strstr(err, "'?x'"));
  assert_int_equal(c.type, 0);
}

static void test_status_code_forms(void **state) {
  (void)state;
  static const struct {
    const char *value;
    int want; /* 0 = rejected */
  } v[] = {
      {"200", 200},   {"\"200\"", 200}, {"100", 100},       {"999", 999},     {"2e2", 200},  {"99", 0},
      {"1000", 0},    {"200.5", 0},     {"\"2x0\"", 0},     {"\"\"", 0},      {"\" 200\"", 0}, {"\"-200\"", 0},
      {"true", 0},    {"null", 0},      {"[200]", 0},       {"-200", 0},      {"1e999", 0},  {"\"0200\"", 200},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    char json[128];
    snprintf(json, sizeof json, "{\"response\":{\"requestId\":\"r\",\"statusCode\":%s,\"body\":false}}", v[i].value);
    struct azr__hc_cmd c;
    char err[128];
    int rc = parse(json, &c, err, sizeof err);
    if (v[i].want) {
      if (rc) fail_msg("%s rejected: %s", v[i].value, err);
      assert_int_equal(c.u.response.status_code, v[i].want);
      azr__hc_cmd_free(NULL, &c);
    } else {
      if (rc != AZR_E_PARSE) fail_msg("%s: rc %d", v[i].value, rc);
      assert_non_null(strstr(err, "statusCode"));
    }
  }
}

static void test_malformed(void **state) {
  (void)state;
  static const char *const bad[] = {
      "",
      " ",
      "{",
      "}",
      "[]",
      "null",
      "\"accept\"",
      "{}",
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\"},\"request\":{\"address\":\"a\"}}",
      "{\"accept\":[]}",
      "{\"accept\":\"x\"}",
      "{\"accept\":null}",
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\"}}x",
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\"}}{}",
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\",}}",
      "{\"accept\":{\"address\":'a',\"id\":\"b\"}}",
      "{\"accept\":{\"address\":\"a\" \"id\":\"b\"}}",
      "{accept:{}}",
      /* required members */
      "{\"accept\":{\"id\":\"b\"}}",
      "{\"accept\":{\"address\":\"a\"}}",
      "{\"accept\":{\"address\":null,\"id\":\"b\"}}",
      "{\"request\":{\"id\":\"b\"}}",
      "{\"response\":{\"statusCode\":200}}",
      "{\"response\":{\"requestId\":\"r\"}}",
      "{\"renewToken\":{}}",
      "{\"renewToken\":{\"token\":5}}",
      /* wrong types */
      "{\"accept\":{\"address\":1,\"id\":\"b\"}}",
      "{\"accept\":{\"address\":\"a\",\"id\":true}}",
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\",\"connectHeaders\":[]}}",
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\",\"connectHeaders\":\"Host: x\"}}",
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\",\"connectHeaders\":{\"A\":{}}}}",
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\",\"connectHeaders\":{\"A\":true}}}",
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\",\"connectHeaders\":{\"A\":null}}}",
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\",\"connectHeaders\":{\"A\":[\"1\"]}}}",
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\",\"remoteEndpoint\":[]}}",
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\",\"remoteEndpoint\":{\"port\":\"80\"}}}",
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\",\"remoteEndpoint\":{\"port\":70000}}}",
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\",\"remoteEndpoint\":{\"port\":-1}}}",
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\",\"remoteEndpoint\":{\"port\":1.5}}}",
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\",\"remoteEndpoint\":{\"address\":1}}}",
      "{\"request\":{\"address\":\"a\",\"body\":\"true\"}}",
      "{\"request\":{\"address\":\"a\",\"body\":1}}",
      "{\"request\":{\"address\":\"a\",\"method\":[]}}",
      "{\"response\":{\"requestId\":\"r\",\"statusCode\":200,\"body\":0}}",
      "{\"response\":{\"requestId\":\"r\",\"statusCode\":200,\"statusDescription\":7}}",
      /* duplicate members */
      "{\"accept\":{\"address\":\"a\",\"address\":\"b\",\"id\":\"c\"}}",
      /* header names and values that could not go on an HTTP wire */
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\",\"connectHeaders\":{\"Bad Name\":\"v\"}}}",
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\",\"connectHeaders\":{\"\":\"v\"}}}",
      "{\"accept\":{\"address\":\"a\",\"id\":\"b\",\"connectHeaders\":{\"X:Y\":\"v\"}}}",
      "{\"response\":{\"requestId\":\"r\",\"statusCode\":200,\"responseHeaders\":{\"X\":\"a\\r\\nSet-Cookie: x\"}}}",
      "{\"response\":{\"requestId\":\"r\",\"statusCode\":200,\"responseHeaders\":{\"X\":\"a\\nb\"}}}",
      "{\"response\":{\"requestId\":\"r\",\"statusCode\":200,\"responseHeaders\":{\"X\":1e999}}}",
      /* text-level problems cJSON itself lets through */
      "{\"accept\":{\"address\":\"a\\u0000b\",\"id\":\"b\"}}",
      "{\"accept\":{\"address\":\"a\x01\",\"id\":\"b\"}}",
      "{\"accept\":{\"address\":\"a\tb\",\"id\":\"b\"}}",
      "{\"accept\":\x01{\"address\":\"a\",\"id\":\"b\"}}",
      "{\"accept\":{\"address\":\"\xff\",\"id\":\"b\"}}",
      "{\"accept\":{\"address\":\"\xc0\xaf\",\"id\":\"b\"}}",
      "{\"accept\":{\"address\":\"\xed\xa0\x80\",\"id\":\"b\"}}",
      "{\"accept\":{\"address\":\"\\ud800\",\"id\":\"b\"}}",
      "{\"accept\":{\"address\":\"\\udc00x\",\"id\":\"b\"}}",
      "{\"accept\":{\"address\":\"\\x41\",\"id\":\"b\"}}",
      "{\"accept\":{\"address\":\"\\u12\",\"id\":\"b\"}}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct azr__hc_cmd c;
    char err[128] = "";
    int rc = parse(bad[i], &c, err, sizeof err);
    if (rc != AZR_E_PARSE) fail_msg("#%zu rc %d: %s", i, rc, bad[i]);
    if (!err[0]) fail_msg("#%zu no message", i);
    assert_int_equal(c.type, 0);
  }
  /* A NUL byte inside the given length. */
  struct azr__hc_cmd c;
  static const uint8_t with_nul[] = "{\"renewToken\":{\"token\":\"a\0b\"}}";
  assert_int_equal(azr__hc_cmd_parse(NULL, with_nul, sizeof with_nul - 1, &c, NULL, 0), AZR_E_PARSE);
  assert_int_equal(azr__hc_cmd_parse(NULL, NULL, 0, &c, NULL, 0), AZR_E_PARSE);
  /* Whitespace around the object is fine; a lone surrogate pair is fine when paired; escapes decode. */
  parse_ok(" \r\n\t{\"renewToken\":{\"token\":\"\\ud83d\\ude00 \\u00e9 \\\" \\\\ \\/\"}} \n", &c);
  assert_string_equal(c.u.renew_token.token, "\xf0\x9f\x98\x80 \xc3\xa9 \" \\ /");
  azr__hc_cmd_free(NULL, &c);
}

static void test_limits(void **state) {
  (void)state;
  struct azr__hc_cmd c;
  char err[128];
  /* Above AZR_MAX_CONTROL_MSG. */
  size_t n = AZR_MAX_CONTROL_MSG + 1;
  uint8_t *big = malloc(n);
  memset(big, ' ', n);
  memcpy(big, "{\"renewToken\":{\"token\":\"x\"}}", 28);
  assert_int_equal(azr__hc_cmd_parse(NULL, big, n, &c, err, sizeof err), AZR_E_TOO_BIG);
  assert_int_equal(azr__hc_cmd_parse(NULL, big, n - 1, &c, err, sizeof err), AZR_OK);
  azr__hc_cmd_free(NULL, &c);
  free(big);

  /* Nesting: cJSON's limit holds; shallower nesting in an ignored member is fine. */
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  for (int depth = 0; depth < 2; depth++) {
    int levels = depth ? 5000 : 500;
    azr__buf_reset(&b);
    azr__buf_append_str(&b, "{\"accept\":{\"address\":\"a\",\"id\":\"b\",\"x\":");
    for (int i = 0; i < levels; i++) azr__buf_append_byte(&b, '[');
    for (int i = 0; i < levels; i++) azr__buf_append_byte(&b, ']');
    azr__buf_append_str(&b, "}}");
    int rc = azr__hc_cmd_parse(NULL, b.data, b.len, &c, err, sizeof err);
    assert_int_equal(rc, depth ? AZR_E_PARSE : AZR_OK);
    azr__hc_cmd_free(NULL, &c);
  }
  /* Header count cap. */
  azr__buf_reset(&b);
  azr__buf_append_str(&b, "{\"accept\":{\"address\":\"a\",\"id\":\"b\",\"connectHeaders\":{");
  for (unsigned i = 0; i < AZR__HC_MAX_HEADERS; i++) azr__buf_printf(&b, "%s\"h%u\":\"v\"", i ? "," : "", i % 50);
  azr__buf_append_str(&b, "}}}");
  assert_int_equal(azr__hc_cmd_parse(NULL, b.data, b.len, &c, err, sizeof err), AZR_OK);
  assert_int_equal(c.u.accept.connect_headers.count, 50); /* repeats joined */
  assert_string_equal(azr__hc_headers_get(&c.u.accept.connect_headers, "h3"), "v, v, v, v, v, v");
  azr__hc_cmd_free(NULL, &c);
  b.len -= 3;
  azr__buf_append_str(&b, ",\"one-more\":\"v\"}}}");
  assert_int_equal(azr__hc_cmd_parse(NULL, b.data, b.len, &c, err, sizeof err), AZR_E_PARSE);
  assert_non_null(strstr(err, "too many headers"));
  azr__buf_free(&b);
}

/* Every proper prefix of a valid command is rejected (exactly-sized copies). */
static void test_every_prefix(void **state) {
  (void)state;
  const char *const samples[] = {accept_5_3, request_5_4, request_5_5, response_dotnet, response_node, renew_3_7};
  for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
    size_t len = strlen(samples[s]);
    for (size_t i = 0; i < len; i++) {
      uint8_t *p = malloc(i ? i : 1);
      memcpy(p, samples[s], i);
      struct azr__hc_cmd c;
      int rc = azr__hc_cmd_parse(NULL, p, i, &c, NULL, 0);
      if (rc != AZR_E_PARSE) fail_msg("sample %zu prefix %zu: rc %d", s, i, rc);
      free(p);
    }
  }
}

static void expect_json(int rc, struct azr__buf *b, const char *want) {
  assert_int_equal(rc, AZR_OK);
  assert_string_equal(azr__buf_cstr(b), want);
  azr__buf_reset(b);
}

static void test_writers(void **state) {
  (void)state;
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  struct azr__hc_accept a = {0};
  a.address = MUT("wss://relay.local:8443/$hc/hyco/orders?tenant=7&sb-hc-action=accept&sb-hc-id=x_G0");
  a.id = MUT("x_G0");
  assert_int_equal(azr__hc_headers_add(NULL, &a.connect_headers, "Host", 4, "relay.local:8443", 16), AZR_OK);
  assert_int_equal(azr__hc_headers_add(NULL, &a.connect_headers, "Sec-WebSocket-Key", 17, "x3JJHMbDL1EzLkh9GBhXDw==", 24),
                   AZR_OK);
  assert_int_equal(azr__hc_headers_add(NULL, &a.connect_headers, "Sec-WebSocket-Protocol", 22, "chat.v2", 7), AZR_OK);
  assert_int_equal(azr__hc_headers_add(NULL, &a.connect_headers, "sec-websocket-protocol", 22, "chat.v1", 7), AZR_OK);
  a.remote = (struct azr__hc_endpoint){true, MUT("127.0.0.1"), 50321};
  expect_json(azr__hc_cmd_write_accept(&b, &a), &b,
              "{\"accept\":{\"address\":\"wss://relay.local:8443/$hc/hyco/orders?tenant=7&sb-hc-action=accept&sb-hc-id="
              "x_G0\",\"id\":\"x_G0\",\"connectHeaders\":{\"Host\":\"relay.local:8443\",\"Sec-WebSocket-Key\":"
              "\"x3JJHMbDL1EzLkh9GBhXDw==\",\"Sec-WebSocket-Protocol\":\"chat.v2, chat.v1\"},\"remoteEndpoint\":{"
              "\"address\":\"127.0.0.1\",\"port\":50321}}}");
  /* Java needs both objects even when empty/unknown (§13.2). */
  struct azr__hc_accept bare = {0};
  bare.address = MUT("wss://h/$hc/x?sb-hc-action=accept&sb-hc-id=1");
  expect_json(azr__hc_cmd_write_accept(&b, &bare), &b,
              "{\"accept\":{\"address\":\"wss://h/$hc/x?sb-hc-action=accept&sb-hc-id=1\",\"id\":\"\",\"connectHeaders\":"
              "{},\"remoteEndpoint\":{\"address\":\"0.0.0.0\",\"port\":0}}}");

  struct azr__hc_request r = {0};
  r.address = MUT("wss://h/$hc/hyco?sb-hc-action=request&sb-hc-id=r1");
  r.id = MUT("r1");
  expect_json(azr__hc_cmd_write_request(&b, &r), &b,
              "{\"request\":{\"address\":\"wss://h/$hc/hyco?sb-hc-action=request&sb-hc-id=r1\",\"id\":\"r1\"}}");
  r.method = MUT("POST");
  r.request_target = MUT("/hyco/api?x=1");
  r.remote = (struct azr__hc_endpoint){true, MUT("198.51.100.7"), 61022};
  r.body = AZR__HC_BODY_TRUE;
  assert_int_equal(azr__hc_headers_add(NULL, &r.request_headers, "Content-Type", 12, "application/json", 16), AZR_OK);
  expect_json(azr__hc_cmd_write_request(&b, &r), &b,
              "{\"request\":{\"address\":\"wss://h/$hc/hyco?sb-hc-action=request&sb-hc-id=r1\",\"id\":\"r1\","
              "\"requestTarget\":\"/hyco/api?x=1\",\"method\":\"POST\",\"remoteEndpoint\":{\"address\":\"198.51.100.7\","
              "\"port\":61022},\"requestHeaders\":{\"Content-Type\":\"application/json\"},\"body\":true}}");
  r.remote.present = false;
  r.body = AZR__HC_BODY_ABSENT;
  r.request_target = NULL;
  expect_json(azr__hc_cmd_write_request(&b, &r), &b,
              "{\"request\":{\"address\":\"wss://h/$hc/hyco?sb-hc-action=request&sb-hc-id=r1\",\"id\":\"r1\","
              "\"requestTarget\":\"/\",\"method\":\"POST\",\"requestHeaders\":{\"Content-Type\":\"application/json\"},"
              "\"body\":false}}");

  /* The full form on a rendezvous may leave the address out (§7.4). */
  r.address = NULL;
  expect_json(azr__hc_cmd_write_request(&b, &r), &b,
              "{\"request\":{\"id\":\"r1\",\"requestTarget\":\"/\",\"method\":\"POST\",\"requestHeaders\":"
              "{\"Content-Type\":\"application/json\"},\"body\":false}}");
  r.address = MUT("wss://h/$hc/hyco?sb-hc-action=request&sb-hc-id=r1");

  struct azr__hc_response resp = {0};
  resp.request_id = MUT("r1");
  resp.status_code = 201;
  resp.status_description = MUT("Created");
  expect_json(azr__hc_cmd_write_response(&b, &resp), &b,
              "{\"response\":{\"requestId\":\"r1\",\"statusCode\":201,\"statusDescription\":\"Created\","
              "\"responseHeaders\":{},\"body\":false}}");
  resp.status_description = NULL;
  resp.body = true;
  expect_json(azr__hc_cmd_write_response(&b, &resp), &b,
              "{\"response\":{\"requestId\":\"r1\",\"statusCode\":201,\"responseHeaders\":{},\"body\":true}}");
  expect_json(azr__hc_cmd_write_renew_token(&b, "SharedAccessSignature sr=a&sig=b&se=1&skn=c"), &b,
              "{\"renewToken\":{\"token\":\"SharedAccessSignature sr=a&sig=b&se=1&skn=c\"}}");
  expect_json(azr__hc_headers_to_json(&b, &r.request_headers), &b, "{\"Content-Type\":\"application/json\"}");

  /* Argument checks leave the buffer alone. */
  assert_int_equal(azr__buf_append_str(&b, "keep"), AZR_OK);
  resp.status_code = 99;
  assert_int_equal(azr__hc_cmd_write_response(&b, &resp), AZR_E_INVALID_ARG);
  resp.status_code = 200;
  resp.request_id = NULL;
  assert_int_equal(azr__hc_cmd_write_response(&b, &resp), AZR_E_INVALID_ARG);
  assert_int_equal(azr__hc_cmd_write_renew_token(&b, NULL), AZR_E_INVALID_ARG);
  bare.address = NULL;
  assert_int_equal(azr__hc_cmd_write_accept(&b, &bare), AZR_E_INVALID_ARG);
  a.remote.port = 70000;
  assert_int_equal(azr__hc_cmd_write_accept(&b, &a), AZR_E_INVALID_ARG);
  /* A full request may leave its address out (it travels over a rendezvous), the
   * rendezvous-only form may not. */
  char *address = r.address, *method = r.method;
  r.address = NULL;
  size_t before = b.len;
  assert_int_equal(azr__hc_cmd_write_request(&b, &r), AZR_OK);
  assert_null(strstr(azr__buf_cstr(&b) + before, "address"));
  assert_int_equal(memcmp(b.data + before, "{\"request\":{\"id\":", 17), 0);
  b.len = before;
  r.method = NULL;
  assert_int_equal(azr__hc_cmd_write_request(&b, &r), AZR_E_INVALID_ARG);
  r.address = address;
  r.method = method;
  /* Invalid UTF-8 anywhere: AZR_E_UTF8, nothing written. */
  assert_int_equal(azr__hc_cmd_write_renew_token(&b, "bad \xc3"), AZR_E_UTF8);
  a.remote.port = 1;
  a.id = MUT("\xff");
  assert_int_equal(azr__hc_cmd_write_accept(&b, &a), AZR_E_UTF8);
  assert_string_equal(azr__buf_cstr(&b), "keep");
  /* A capped buffer fails cleanly too. */
  struct azr__buf small;
  azr__buf_init(&small, NULL, 30);
  assert_int_equal(azr__hc_cmd_write_renew_token(&small, "0123456789"), AZR_E_TOO_BIG);
  assert_int_equal(small.len, 0);
  azr__buf_free(&small);

  azr__hc_headers_free(NULL, &a.connect_headers);
  azr__hc_headers_free(NULL, &r.request_headers);
  azr__buf_free(&b);
}

static void test_string_escaping(void **state) {
  (void)state;
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  const char s[] = "q\" b\\ n\n r\r t\t \b\f \x01\x1f \x7f / \xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80";
  assert_int_equal(azr__json_append_string(&b, s, sizeof s - 1), AZR_OK);
  assert_string_equal(azr__buf_cstr(&b), "\"q\\\" b\\\\ n\\n r\\r t\\t \\b\\f \\u0001\\u001f \x7f / "
                                         "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\"");
  azr__buf_reset(&b);
  assert_int_equal(azr__json_append_string(&b, "", 0), AZR_OK);
  assert_string_equal(azr__buf_cstr(&b), "\"\"");
  azr__buf_reset(&b);
  assert_int_equal(azr__json_append_string(&b, "a\0b", 3), AZR_OK); /* explicit length: NUL escaped */
  assert_string_equal(azr__buf_cstr(&b), "\"a\\u0000b\"");
  /* Round trip through the parser. */
  azr__buf_reset(&b);
  assert_int_equal(azr__hc_cmd_write_renew_token(&b, s), AZR_OK);
  struct azr__hc_cmd c;
  assert_int_equal(azr__hc_cmd_parse(NULL, b.data, b.len, &c, NULL, 0), AZR_OK);
  assert_string_equal(c.u.renew_token.token, s);
  azr__hc_cmd_free(NULL, &c);
  azr__buf_free(&b);
}

static void assert_headers_equal(const struct azr__hc_headers *x, const struct azr__hc_headers *y) {
  assert_int_equal(x->count, y->count);
  for (size_t i = 0; i < x->count; i++) {
    assert_string_equal(x->items[i].name, y->items[i].name);
    assert_string_equal(x->items[i].value, y->items[i].value);
  }
}

/* Parse a sample, write it back, parse again: same content (the emulator writes what the listener parses). */
static void test_round_trips(void **state) {
  (void)state;
  const char *const samples[] = {accept_5_3, request_5_4, request_5_5, response_dotnet, response_node, renew_3_7};
  for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
    struct azr__hc_cmd c1, c2;
    parse_ok(samples[s], &c1);
    struct azr__buf b;
    azr__buf_init(&b, NULL, AZR_MAX_CONTROL_MSG);
    int rc = AZR_E_PARSE;
    switch (c1.type) {
    case AZR__HC_CMD_ACCEPT: rc = azr__hc_cmd_write_accept(&b, &c1.u.accept); break;
    case AZR__HC_CMD_REQUEST: rc = azr__hc_cmd_write_request(&b, &c1.u.request); break;
    case AZR__HC_CMD_RESPONSE: rc = azr__hc_cmd_write_response(&b, &c1.u.response); break;
    case AZR__HC_CMD_RENEW_TOKEN: rc = azr__hc_cmd_write_renew_token(&b, c1.u.renew_token.token); break;
    }
    assert_int_equal(rc, AZR_OK);
    parse_ok(azr__buf_cstr(&b), &c2);
    assert_int_equal(c1.type, c2.type);
    switch (c1.type) {
    case AZR__HC_CMD_ACCEPT:
      assert_string_equal(c1.u.accept.address, c2.u.accept.address);
      assert_string_equal(c1.u.accept.id, c2.u.accept.id);
      assert_headers_equal(&c1.u.accept.connect_headers, &c2.u.accept.connect_headers);
      assert_string_equal(c1.u.accept.remote.address, c2.u.accept.remote.address);
      assert_int_equal(c1.u.accept.remote.port, c2.u.accept.remote.port);
      break;
    case AZR__HC_CMD_REQUEST:
      assert_string_equal(c1.u.request.address, c2.u.request.address);
      assert_string_equal(c1.u.request.id, c2.u.request.id);
      assert_int_equal(azr__hc_request_is_rendezvous_only(&c1.u.request),
                       azr__hc_request_is_rendezvous_only(&c2.u.request));
      if (c1.u.request.method) {
        assert_string_equal(c1.u.request.method, c2.u.request.method);
        assert_string_equal(c1.u.request.request_target, c2.u.request.request_target);
        assert_int_equal(c1.u.request.body, c2.u.request.body);
        assert_int_equal(c1.u.request.remote.port, c2.u.request.remote.port);
        assert_headers_equal(&c1.u.request.request_headers, &c2.u.request.request_headers);
      }
      break;
    case AZR__HC_CMD_RESPONSE:
      assert_string_equal(c1.u.response.request_id, c2.u.response.request_id);
      assert_int_equal(c1.u.response.status_code, c2.u.response.status_code);
      assert_string_equal(c1.u.response.status_description, c2.u.response.status_description);
      assert_int_equal(c1.u.response.body, c2.u.response.body);
      assert_headers_equal(&c1.u.response.response_headers, &c2.u.response.response_headers);
      break;
    case AZR__HC_CMD_RENEW_TOKEN:
      assert_string_equal(c1.u.renew_token.token, c2.u.renew_token.token);
      break;
    }
    azr__hc_cmd_free(NULL, &c1);
    azr__hc_cmd_free(NULL, &c2);
    azr__buf_free(&b);
  }
}

static void test_headers_api(void **state) {
  (void)state;
  struct azr__hc_headers h = {0};
  for (int i = 0; i < 40; i++) {
    char name[16];
    int n = snprintf(name, sizeof name, "H%d", i);
    assert_int_equal(azr__hc_headers_add(NULL, &h, name, (size_t)n, "v", 1), AZR_OK);
  }
  assert_int_equal(h.count, 40);
  assert_string_equal(azr__hc_headers_get(&h, "h39"), "v");
  assert_int_equal(azr__hc_headers_add(NULL, &h, "h0", 2, NULL, 0), AZR_OK);
  assert_string_equal(azr__hc_headers_get(&h, "H0"), "v, ");
  assert_int_equal(azr__hc_headers_add(NULL, &h, "", 0, "v", 1), AZR_E_INVALID_ARG);
  assert_int_equal(azr__hc_headers_add(NULL, &h, "x", 1, NULL, 3), AZR_E_INVALID_ARG);
  assert_null(azr__hc_headers_get(&h, NULL));
  assert_null(azr__hc_headers_get(NULL, "x"));
  azr__hc_headers_free(NULL, &h);
  assert_int_equal(h.count, 0);
  azr__hc_headers_free(NULL, &h);
}

/* Counting allocator failing the n-th allocation: every failure is AZR_E_NOMEM and nothing leaks. */

static void test_failmalloc(void **state) {
  (void)state;
  const char *const samples[] = {accept_5_3, request_5_4, response_node, renew_3_7};
  for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
    bool succeeded = false;
    for (int n = 0; n < 200 && !succeeded; n++) {
      struct failmem f = {n, 0};
      struct azr__mem mem = failmem_allocator(&f);
      struct azr__hc_cmd c;
      int rc = azr__hc_cmd_parse(&mem, (const uint8_t *)samples[s], strlen(samples[s]), &c, NULL, 0);
      assert_true(rc == AZR_OK || rc == AZR_E_NOMEM);
      succeeded = rc == AZR_OK;
      azr__hc_cmd_free(&mem, &c);
      assert_int_equal(f.live, 0);
    }
    assert_true(succeeded);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_accept),          cmocka_unit_test(test_request),
      cmocka_unit_test(test_response),        cmocka_unit_test(test_renew_and_unknown),
      cmocka_unit_test(test_status_code_forms), cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_limits),          cmocka_unit_test(test_every_prefix),
      cmocka_unit_test(test_writers),         cmocka_unit_test(test_string_escaping),
      cmocka_unit_test(test_round_trips),     cmocka_unit_test(test_headers_api),
      cmocka_unit_test(test_failmalloc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
