/* SPDX-License-Identifier: MIT */
/* URLs: splitting, the exact strings of §2.2/§2.4/§6.4, the §7.1 query filter, request targets, entity match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "azrelay/common.h"
#include "proto/hc_url.h"

#define NS "contoso.servicebus.windows.net"
#define GUID "1c048eb5-77c4-4b85-96fd-fa526801af35"
#define TOKEN_3_2                                                                                             \
  "SharedAccessSignature sr=http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco%2F&sig=hMMUYLCqSXRKhlOOm3ZYIuDPt1" \
  "reQe2N0VvUQN%2Fjc2k%3D&se=1700000000&skn=RootManageSharedAccessKey"
#define TOKEN_3_2_QUERY                                                                                          \
  "SharedAccessSignature+sr%3Dhttp%253A%252F%252Fcontoso.servicebus.windows.net%252Fhyco%252F%26sig%3DhMMUYLCqSX" \
  "RKhlOOm3ZYIuDPt1reQe2N0VvUQN%252Fjc2k%253D%26se%3D1700000000%26skn%3DRootManageSharedAccessKey"

static struct azr__span S(const char *s) { return azr__span_of(s); }

static void test_url_split(void **state) {
  (void)state;
  struct azr__url u;
  assert_int_equal(azr__url_split(S("wss://g17-prod-by3-010-sb.servicebus.windows.net/$hc/yesclientauth?sb-hc-action="
                                    "accept&sb-hc-id=ca496b91-f5a3-4761-8eda-9a66dd9a2558_G17_G30"),
                                  &u),
                   AZR_OK);
  assert_true(azr__span_eq(u.scheme, "wss"));
  assert_true(azr__span_eq(u.host, "g17-prod-by3-010-sb.servicebus.windows.net"));
  assert_int_equal(u.port, 0);
  assert_true(azr__span_eq(u.path, "/$hc/yesclientauth"));
  assert_true(azr__span_eq(u.query, "sb-hc-action=accept&sb-hc-id=ca496b91-f5a3-4761-8eda-9a66dd9a2558_G17_G30"));

  assert_int_equal(azr__url_split(S("WSS://g63.example:443/$hc/YourHybridConnection?a=1#frag"), &u), AZR_OK);
  assert_int_equal(u.port, 443);
  assert_true(azr__span_eq(u.query, "a=1"));
  assert_true(azr__span_eq(u.path, "/$hc/YourHybridConnection"));

  assert_int_equal(azr__url_split(S("sb://" NS), &u), AZR_OK);
  assert_true(azr__span_eq(u.path, "/") && u.query.len == 0 && azr__span_eq(u.host, NS));
  assert_int_equal(azr__url_split(S("http://h?x"), &u), AZR_OK);
  assert_true(azr__span_eq(u.path, "/") && azr__span_eq(u.query, "x"));
  assert_int_equal(azr__url_split(S("https://[::1]:8443/a"), &u), AZR_OK);
  assert_true(azr__span_eq(u.host, "::1") && u.port == 8443 && azr__span_eq(u.path, "/a"));
  assert_int_equal(azr__url_split(S("ws://[fe80::1%25eth0]/"), &u), AZR_OK);
  assert_true(azr__span_eq(u.host, "fe80::1%25eth0"));
  assert_int_equal(azr__url_split(S("ws://h:/p"), &u), AZR_OK); /* empty port = absent */
  assert_int_equal(u.port, 0);

  static const char *const bad[] = {
      "",           "h/path",          "ftp://h/",      "wss:/h/",        "wss://",       "wss:///p",
      "wss://h:0/", "wss://h:65536/",  "wss://h:x/",    "wss://u@h/",     "wss://[::1/",  "wss://[::1]x/",
      "wss://[]/",  "wss://[1.2.3.4]", "wss://h h/",    "wss://h/p q",    "wss://h/\x01", "wss://h\x7f/",
      "://h/",      "wss//h",          "wss://h!x/",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (azr__url_split(S(bad[i]), &u) != AZR_E_PARSE) fail_msg("accepted: %s", bad[i]);
}

static void expect(int rc, struct azr__buf *b, const char *want) {
  assert_int_equal(rc, AZR_OK);
  assert_string_equal(azr__buf_cstr(b), want);
  azr__buf_reset(b);
}

static void test_listen_urls(void **state) {
  (void)state;
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  /* §2.2 .NET/Java example, with the port spelled out and without it. */
  expect(azr__hc_url_listen(&b, true, NS, 443, "hyco", GUID, NULL), &b,
         "wss://" NS ":443/$hc/hyco?sb-hc-action=listen&sb-hc-id=" GUID);
  expect(azr__hc_url_listen(&b, true, NS, 0, "/hyco", GUID, NULL), &b,
         "wss://" NS "/$hc/hyco?sb-hc-action=listen&sb-hc-id=" GUID);
  /* Token as a form-encoded query value: exactly the §3.2 string. */
  expect(azr__hc_url_listen(&b, true, NS, 0, "hyco", GUID, TOKEN_3_2), &b,
         "wss://" NS "/$hc/hyco?sb-hc-action=listen&sb-hc-id=" GUID "&sb-hc-token=" TOKEN_3_2_QUERY);
  /* Plain ws, IPv6, entity with '/', a query already on the address comes first. */
  expect(azr__hc_url_listen(&b, false, "::1", 8080, "a/b?x=1", "id", NULL), &b,
         "ws://[::1]:8080/$hc/a/b?x=1&sb-hc-action=listen&sb-hc-id=id");
  /* Characters that cannot appear in a URI are escaped; existing escapes pass through. */
  expect(azr__hc_url_listen(&b, true, "h", 0, "my hc%20x/\xc3\xa9", "a b", NULL), &b,
         "wss://h/$hc/my%20hc%20x/%C3%A9?sb-hc-action=listen&sb-hc-id=a%20b");
  assert_int_equal(azr__hc_url_listen(&b, true, NS, 0, "hyco", NULL, NULL), AZR_E_INVALID_ARG);
  assert_int_equal(azr__hc_url_listen(&b, true, NS, 0, "hyco", "", NULL), AZR_E_INVALID_ARG);
  assert_int_equal(azr__hc_url_listen(&b, true, NS, 0, "/", GUID, NULL), AZR_E_INVALID_ARG);
  assert_int_equal(azr__hc_url_listen(&b, true, NS, 0, NULL, GUID, NULL), AZR_E_INVALID_ARG);
  assert_int_equal(azr__hc_url_listen(&b, true, "", 0, "hyco", GUID, NULL), AZR_E_INVALID_ARG);
  assert_int_equal(azr__hc_url_listen(&b, true, "h/x", 0, "hyco", GUID, NULL), AZR_E_INVALID_ARG);
  assert_int_equal(b.len, 0);
  azr__buf_free(&b);
}

static void test_connect_http_urls(void **state) {
  (void)state;
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  /* §12.6 sender. */
  expect(azr__hc_url_connect(&b, true, "relay.local", 8443, "hyco/orders?tenant=7",
                             "0f8fad5b-d9cb-469f-a165-70867728950e", NULL),
         &b,
         "wss://relay.local:8443/$hc/hyco/orders?tenant=7&sb-hc-action=connect&sb-hc-id=0f8fad5b-d9cb-469f-a165-"
         "70867728950e");
  expect(azr__hc_url_connect(&b, true, NS, 0, "hyco", NULL, "SharedAccessSignature x"), &b,
         "wss://" NS "/$hc/hyco?sb-hc-action=connect&sb-hc-token=SharedAccessSignature+x");
  expect(azr__hc_url_connect(&b, true, NS, 0, "hyco?a=1&", NULL, NULL), &b,
         "wss://" NS "/$hc/hyco?a=1&sb-hc-action=connect");
  expect(azr__hc_url_connect(&b, true, NS, 0, "hyco?", NULL, NULL), &b, "wss://" NS "/$hc/hyco?sb-hc-action=connect");
  /* §2.2 HTTP sender: no $hc. */
  expect(azr__hc_url_http(&b, true, NS, 0, "hyco/api/items?page=2", NULL), &b, "https://" NS "/hyco/api/items?page=2");
  expect(azr__hc_url_http(&b, true, NS, 0, "/hyco", "SharedAccessSignature x"), &b,
         "https://" NS "/hyco?sb-hc-token=SharedAccessSignature+x");
  expect(azr__hc_url_http(&b, false, "127.0.0.1", 8080, "hyco?a=b c", "t"), &b,
         "http://127.0.0.1:8080/hyco?a=b%20c&sb-hc-token=t");
  assert_int_equal(azr__hc_url_http(&b, true, NS, 0, "?a=1", NULL), AZR_E_INVALID_ARG);
  assert_int_equal(azr__hc_url_http(&b, true, NULL, 0, "hyco", NULL), AZR_E_INVALID_ARG);
  azr__buf_free(&b);
}

static void test_reject_url(void **state) {
  (void)state;
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  const char *addr = "wss://g17-prod-by3-010-sb.servicebus.windows.net/$hc/yesclientauth?sb-hc-action=accept&sb-hc-id="
                     "ca496b91-f5a3-4761-8eda-9a66dd9a2558_G17_G30";
  /* §6.4 */
  char want[512];
  snprintf(want, sizeof want, "%s&sb-hc-statusCode=401&sb-hc-statusDescription=Unauthorized", addr);
  expect(azr__hc_url_reject(&b, addr, 401, "Unauthorized"), &b, want);
  snprintf(want, sizeof want, "%s&sb-hc-statusCode=400&sb-hc-statusDescription=Rejected%%20by%%20user%%20code%%26%%3D",
           addr);
  expect(azr__hc_url_reject(&b, addr, 400, "Rejected by user code&="), &b, want);
  snprintf(want, sizeof want, "%s&sb-hc-statusCode=503", addr);
  expect(azr__hc_url_reject(&b, addr, 503, NULL), &b, want);
  expect(azr__hc_url_reject(&b, "wss://h/$hc/x", 404, "a"), &b,
         "wss://h/$hc/x?sb-hc-statusCode=404&sb-hc-statusDescription=a");
  expect(azr__hc_url_reject(&b, "wss://h/$hc/x?", 404, NULL), &b, "wss://h/$hc/x?sb-hc-statusCode=404");
  assert_int_equal(azr__hc_url_reject(&b, addr, 99, NULL), AZR_E_INVALID_ARG);
  assert_int_equal(azr__hc_url_reject(&b, addr, 1000, NULL), AZR_E_INVALID_ARG);
  assert_int_equal(azr__hc_url_reject(&b, "", 400, NULL), AZR_E_INVALID_ARG);
  /* Round trip through the service's view. */
  expect(azr__hc_url_reject(&b, "wss://h/$hc/x?sb-hc-action=accept&sb-hc-id=i", 418, "I'm a teapot"), &b,
         "wss://h/$hc/x?sb-hc-action=accept&sb-hc-id=i&sb-hc-statusCode=418&sb-hc-statusDescription=I%27m%20a%20teapot");
  azr__buf_free(&b);
}

static void test_query_find(void **state) {
  (void)state;
  struct azr__span v;
  struct azr__span q = S("a=1&SB-HC-Action=listen&bare&x=&a=2");
  assert_true(azr__query_find(q, "a", &v) && azr__span_eq(v, "1"));
  assert_true(azr__query_find(q, "sb-hc-action", &v) && azr__span_eq(v, "listen"));
  assert_true(azr__query_find(q, "bare", &v) && v.len == 0);
  assert_true(azr__query_find(q, "x", &v) && v.len == 0);
  assert_false(azr__query_find(q, "b", &v));
  assert_false(azr__query_find(S(""), "a", &v));
  assert_true(azr__query_find(S("k=v=w"), "k", &v) && azr__span_eq(v, "v=w"));
}

static void filtered(const char *query, const char *want) {
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  assert_int_equal(azr__query_filter_sb_hc(&b, S(query)), AZR_OK);
  if (strcmp(azr__buf_cstr(&b), want)) fail_msg("filter(%s) = '%s', want '%s'", query, azr__buf_cstr(&b), want);
  azr__buf_free(&b);
}

static void test_query_filter(void **state) {
  (void)state;
  /* §7.1 step 3, the .NET test examples. */
  filtered("&&&", "&&&");
  filtered("a=1&a=2&", "a=1&a=2&");
  filtered("&foo=bar", "&foo=bar");
  filtered("sb-hc-undefined", "sb-hc-undefined");
  filtered("sb-hc-id=1", "");
  filtered("sb-hc-whatever=", "");
  filtered("a=1&sb-hc-token=SharedAccessSignature+sr%3D..&b=2&SB-HC-ID=7&Sb-Hc-Action=connect", "a=1&b=2");
  filtered("x=sb-hc-id=1&sb-hc-=3", "x=sb-hc-id=1");
  filtered("", "");
  filtered("sb-hc-id=1&&", "&");
}

static void target(const char *t, struct azr__hc_target *out) {
  assert_int_equal(azr__hc_target_parse(S(t), out), AZR_OK);
}

static void request_target_is(const char *t, const char *want) {
  struct azr__hc_target ht;
  target(t, &ht);
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  assert_int_equal(azr__hc_request_target(&b, &ht), AZR_OK);
  if (strcmp(azr__buf_cstr(&b), want)) fail_msg("requestTarget(%s) = '%s', want '%s'", t, azr__buf_cstr(&b), want);
  azr__buf_free(&b);
}

static void test_target_parse(void **state) {
  (void)state;
  struct azr__hc_target t;
  target("/$hc/hyco?sb-hc-action=listen&sb-hc-id=" GUID, &t);
  assert_true(t.is_hc);
  assert_true(azr__span_eq(t.path, "hyco"));
  assert_int_equal(t.action, AZR__HC_ACTION_LISTEN);
  assert_true(azr__span_eq(t.id, GUID));
  assert_false(t.has_token);
  assert_false(t.has_status_code);

  target("/$hc/hyco/orders?tenant=7&sb-hc-action=connect&sb-hc-token=x", &t);
  assert_true(t.is_hc && azr__span_eq(t.path, "hyco/orders") && t.action == AZR__HC_ACTION_CONNECT && t.has_token);
  assert_int_equal(t.id.len, 0);
  /* Raw sender without action (§2.2 [TEST]). */
  target("/$hc/hyco?sb-hc-token=x", &t);
  assert_int_equal(t.action, AZR__HC_ACTION_NONE);
  target("/$hc/hyco", &t);
  assert_true(t.is_hc && t.action == AZR__HC_ACTION_NONE && t.query.len == 0);
  target("/$HC/hyco?SB-HC-ACTION=Accept", &t);
  assert_true(t.is_hc && t.action == AZR__HC_ACTION_ACCEPT);
  target("/$hc/hyco?sb-hc-action=request", &t);
  assert_int_equal(t.action, AZR__HC_ACTION_REQUEST);
  target("/$hc/hyco?sb-hc-action=bogus", &t);
  assert_int_equal(t.action, AZR__HC_ACTION_UNKNOWN);
  target("/$hc", &t);
  assert_true(t.is_hc && t.path.len == 0);
  /* HTTP mode: no $hc. */
  target("/hyco/api/items?page=2&sb-hc-token=abc", &t);
  assert_false(t.is_hc);
  assert_true(azr__span_eq(t.path, "hyco/api/items") && t.has_token);
  target("/", &t);
  assert_true(!t.is_hc && t.path.len == 0);
  target("/$hcx/y", &t);
  assert_false(t.is_hc);
  /* Reject parameters. */
  target("/$hc/x?sb-hc-action=accept&sb-hc-id=i&sb-hc-statusCode=401&sb-hc-statusDescription=Go+away%20now", &t);
  assert_true(t.has_status_code);
  assert_int_equal(t.status_code, 401);
  target("/$hc/x?sb-hc-statusCode=40x", &t);
  assert_true(t.has_status_code);
  assert_int_equal(t.status_code, 0);
  target("/$hc/x?sb-hc-statusCode=1000", &t);
  assert_int_equal(t.status_code, 0);
  /* §2.1 quirk: '?' percent-encoded into the path. */
  target("/$hc/hyco%3Fsb-hc-action=connect&a=1", &t);
  assert_true(azr__span_eq(t.path, "hyco") && t.action == AZR__HC_ACTION_CONNECT);
  assert_true(azr__span_eq(t.query, "sb-hc-action=connect&a=1"));
  target("/hyco%3fx=1", &t);
  assert_true(azr__span_eq(t.path, "hyco") && azr__span_eq(t.query, "x=1"));
  target("/a%3Fb?c=1", &t); /* a literal '?' wins */
  assert_true(azr__span_eq(t.path, "a%3Fb") && azr__span_eq(t.query, "c=1"));

  static const char *const bad[] = {"", "hyco", "http://h/hyco", "/a b", "/a\r\n", "/\x7f"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (azr__hc_target_parse(S(bad[i]), &t) != AZR_E_PARSE) fail_msg("accepted: %s", bad[i]);
}

static void test_request_target(void **state) {
  (void)state;
  request_target_is("/hyco?&&&", "/hyco?&&&");
  request_target_is("/hyco?a=1&a=2&", "/hyco?a=1&a=2&");
  request_target_is("/hyco?&foo=bar", "/hyco?&foo=bar");
  request_target_is("/hyco?sb-hc-undefined", "/hyco?sb-hc-undefined");
  request_target_is("/hyco?sb-hc-id=1&sb-hc-token=x", "/hyco");
  request_target_is("/hyco?", "/hyco");
  request_target_is("/hyco", "/hyco");
  request_target_is("/hyco/api/items?page=2&sb-hc-token=abc", "/hyco/api/items?page=2");
  request_target_is("/$hc/hyco/orders?tenant=7&sb-hc-action=accept&sb-hc-id=x", "/hyco/orders?tenant=7");
}

static void test_target_token_and_description(void **state) {
  (void)state;
  struct azr__hc_target t;
  struct azr__buf b;
  azr__buf_init(&b, NULL, 0);
  target("/$hc/hyco?sb-hc-action=listen&sb-hc-token=" TOKEN_3_2_QUERY, &t);
  assert_int_equal(azr__hc_target_token(&t, &b), AZR_OK);
  assert_string_equal(azr__buf_cstr(&b), TOKEN_3_2);
  azr__buf_reset(&b);
  target("/$hc/x?sb-hc-statusDescription=Go+away%20now%21", &t);
  assert_int_equal(azr__hc_target_status_description(&t, &b), AZR_OK);
  assert_string_equal(azr__buf_cstr(&b), "Go away now!");
  azr__buf_reset(&b);
  assert_int_equal(azr__hc_target_token(&t, &b), AZR_E_NOT_FOUND);
  target("/$hc/x?sb-hc-token=%zz", &t);
  assert_int_equal(azr__hc_target_token(&t, &b), AZR_E_PARSE);
  assert_int_equal(b.len, 0);
  /* Builder -> service view round trip of a token with every awkward character. */
  const char *tok = "SharedAccessSignature sr=a%2Fb&sig=x+y/z=&se=1&skn=k k";
  assert_int_equal(azr__hc_url_listen(&b, true, "h", 0, "hyco", "id", tok), AZR_OK);
  struct azr__url u;
  assert_int_equal(azr__url_split((struct azr__span){(const char *)b.data, b.len}, &u), AZR_OK);
  char target_text[512];
  snprintf(target_text, sizeof target_text, "%.*s?%.*s", (int)u.path.len, u.path.ptr, (int)u.query.len, u.query.ptr);
  target(target_text, &t);
  struct azr__buf d;
  azr__buf_init(&d, NULL, 0);
  assert_int_equal(azr__hc_target_token(&t, &d), AZR_OK);
  assert_string_equal(azr__buf_cstr(&d), tok);
  assert_int_equal(t.action, AZR__HC_ACTION_LISTEN);
  assert_true(azr__span_eq(t.id, "id"));
  azr__buf_free(&d);
  azr__buf_free(&b);
}

static void test_entity_match(void **state) {
  (void)state;
  const char *const entities[] = {"hyco", "a", "/a/b/", "microsoft.hybridcompute/machines/abc/1/v2", NULL, ""};
  size_t n = sizeof entities / sizeof entities[0], idx = 99;
  struct azr__span suffix;
  assert_int_equal(azr__hc_entity_match(S("hyco"), entities, n, &idx, &suffix), AZR_OK);
  assert_true(idx == 0 && suffix.len == 0);
  assert_int_equal(azr__hc_entity_match(S("HYCO/suffix/more"), entities, n, &idx, &suffix), AZR_OK);
  assert_true(idx == 0 && azr__span_eq(suffix, "/suffix/more"));
  assert_int_equal(azr__hc_entity_match(S("a/b/c"), entities, n, &idx, &suffix), AZR_OK); /* longest wins */
  assert_true(idx == 2 && azr__span_eq(suffix, "/c"));
  assert_int_equal(azr__hc_entity_match(S("a/bc"), entities, n, &idx, &suffix), AZR_OK);
  assert_true(idx == 1 && azr__span_eq(suffix, "/bc"));
  assert_int_equal(azr__hc_entity_match(S("a/"), entities, n, &idx, &suffix), AZR_OK);
  assert_true(idx == 1 && azr__span_eq(suffix, "/"));
  assert_int_equal(azr__hc_entity_match(S("microsoft.hybridcompute/machines/abc/1/v2/x"), entities, n, &idx, &suffix),
                   AZR_OK);
  assert_true(idx == 3 && azr__span_eq(suffix, "/x"));
  assert_int_equal(azr__hc_entity_match(S("hycox"), entities, n, &idx, &suffix), AZR_E_NOT_FOUND);
  assert_int_equal(azr__hc_entity_match(S("hy"), entities, n, &idx, &suffix), AZR_E_NOT_FOUND);
  assert_int_equal(azr__hc_entity_match(S(""), entities, n, &idx, &suffix), AZR_E_NOT_FOUND);
  assert_int_equal(azr__hc_entity_match(S("hyco"), entities, 0, &idx, &suffix), AZR_E_NOT_FOUND);
  assert_int_equal(azr__hc_entity_match(S("hyco"), entities, n, NULL, NULL), AZR_OK);
}

static void test_buffer_cap_keeps_content(void **state) {
  (void)state;
  struct azr__buf b;
  azr__buf_init(&b, NULL, 20);
  assert_int_equal(azr__buf_append_str(&b, "keep"), AZR_OK);
  assert_int_equal(azr__hc_url_listen(&b, true, NS, 0, "hyco", GUID, NULL), AZR_E_TOO_BIG);
  assert_int_equal(azr__hc_url_connect(&b, true, NS, 0, "hyco", GUID, NULL), AZR_E_TOO_BIG);
  assert_int_equal(azr__hc_url_http(&b, true, NS, 0, "hyco", NULL), AZR_E_TOO_BIG);
  assert_int_equal(azr__hc_url_reject(&b, "wss://h/$hc/x?a", 400, "long description"), AZR_E_TOO_BIG);
  assert_int_equal(azr__query_filter_sb_hc(&b, S("a=1&b=2&c=3&d=4&e=5&f=6")), AZR_E_TOO_BIG);
  assert_string_equal(azr__buf_cstr(&b), "keep");
  azr__buf_free(&b);
}

/* A TLS control channel never lets the relay move a connection to plaintext. */
static void test_rendezvous_check(void **state) {
  (void)state;
  char err[160];
  static const char *const ok_tls[] = {"wss://g1-prod-sb.servicebus.windows.net/$hc/a?sb-hc-action=accept&sb-hc-id=1",
                                       "WSS://h:443/$hc/a", "https://h/$hc/a?sb-hc-action=request"};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(azr__hc_url_check_rendezvous(ok_tls[i], true, err, sizeof err), AZR_OK);
    assert_int_equal(azr__hc_url_check_rendezvous(ok_tls[i], false, err, sizeof err), AZR_OK);
  }
  static const char *const plain[] = {"ws://h/$hc/a?sb-hc-action=accept", "http://h/$hc/a", "Ws://h:80/x"};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(azr__hc_url_check_rendezvous(plain[i], true, err, sizeof err), AZR_E_PROTOCOL);
    assert_non_null(strstr(err, "weaker than the control channel"));
    assert_int_equal(azr__hc_url_check_rendezvous(plain[i], false, err, sizeof err), AZR_OK); /* emulator mode */
  }
  static const char *const bad[] = {"sb://h/a", "ftp://h/a", "file:///etc/passwd", "wss://user@h/a", "h/a", "", "wss://"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_int_equal(azr__hc_url_check_rendezvous(bad[i], true, err, sizeof err), AZR_E_PROTOCOL);
    assert_int_equal(azr__hc_url_check_rendezvous(bad[i], false, err, sizeof err), AZR_E_PROTOCOL);
  }
  assert_int_equal(azr__hc_url_check_rendezvous(NULL, true, NULL, 0), AZR_E_PROTOCOL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rendezvous_check),
      cmocka_unit_test(test_url_split),         cmocka_unit_test(test_listen_urls),
      cmocka_unit_test(test_connect_http_urls), cmocka_unit_test(test_reject_url),
      cmocka_unit_test(test_query_find),        cmocka_unit_test(test_query_filter),
      cmocka_unit_test(test_target_parse),      cmocka_unit_test(test_request_target),
      cmocka_unit_test(test_target_token_and_description), cmocka_unit_test(test_entity_match),
      cmocka_unit_test(test_buffer_cap_keeps_content),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
