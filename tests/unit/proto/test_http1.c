/* SPDX-License-Identifier: MIT */
/* HTTP/1.1 parsing over http-parser: heads, Content-Length and chunked bodies, keep-alive pipelines,
 * upgrades, caps, stops and resumes, EOF-delimited bodies; each fed whole, byte by byte and at every
 * split point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "azrelay/common.h"
#include "proto/http1.h"

/* A parser plus a log of what it reported, in a form that does not depend on input splits. */
struct rec {
  struct azr__http1 p;
  char log[8192];
  size_t log_len;
  struct azr__http_head kept; /* the last head, taken over from the parser */
  int heads;
  int stop_on_head; /* stop after this head number (1-based); 0 = never */
};

static void addf(struct rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct rec *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(r->log + r->log_len, sizeof r->log - r->log_len, fmt, ap);
  va_end(ap);
  assert_true(n >= 0 && (size_t)n < sizeof r->log - r->log_len);
  r->log_len += (size_t)n;
}

static int on_head(void *ud, struct azr__http_head *h) {
  struct rec *r = ud;
  if (h->is_request) addf(r, "[%.*s %.*s", (int)h->method.len, h->method.ptr, (int)h->target.len, h->target.ptr);
  else addf(r, "[%d %.*s", h->status_code, (int)h->reason.len, h->reason.ptr);
  addf(r, " %d.%d%s%s%s", h->http_major, h->http_minor, h->keep_alive ? " ka" : "", h->upgrade ? " up" : "",
       h->chunked ? " chunked" : "");
  if (h->has_content_length) addf(r, " cl=%llu", (unsigned long long)h->content_length);
  for (size_t i = 0; i < h->header_count; i++) {
    const struct azr__http_header *x = &h->headers[i];
    /* Spans are NUL-terminated too. */
    assert_int_equal(x->name.ptr[x->name.len], 0);
    assert_int_equal(x->value.ptr[x->value.len], 0);
    addf(r, " {%s=%s}", x->name.ptr, x->value.ptr);
  }
  addf(r, "]");
  azr__http_head_free(&r->kept);
  r->kept = *h; /* take ownership */
  memset(h, 0, sizeof *h);
  r->heads++;
  return r->heads == r->stop_on_head;
}

static int on_body(void *ud, const uint8_t *data, size_t len) {
  addf(ud, "%.*s", (int)len, (const char *)data);
  return 0;
}

static int on_complete(void *ud) {
  addf(ud, "$");
  return 0;
}

static const struct azr__http1_callbacks rec_cb = {on_head, on_body, on_complete};

static void rec_init(struct rec *r, enum azr__http1_type type) {
  memset(r, 0, sizeof *r);
  assert_int_equal(azr__http1_init(&r->p, type, NULL, &rec_cb, r), AZR_OK);
}

static void rec_free(struct rec *r) {
  azr__http1_free(&r->p);
  azr__http_head_free(&r->kept);
}

/* Feeds text in pieces (split 0 = whole, SIZE_MAX = byte by byte, else two pieces). Returns the total
 * consumed, or -1 on the first error. Stops early when the parser consumes less than offered. */
static long feed(struct rec *r, const char *text, size_t len, size_t split) {
  size_t off = 0;
  while (off < len) {
    size_t n = split == 0 ? len - off : split == SIZE_MAX ? 1 : off == 0 ? split : len - off;
    if (n > len - off) n = len - off;
    long used = azr__http1_feed(&r->p, (const uint8_t *)text + off, n);
    if (used < 0) return -1;
    off += (size_t)used;
    if ((size_t)used < n) break;
  }
  return (long)off;
}

/* Runs text through a fresh parser with every split; each run must log `expect` and consume
 * `consumed` bytes (or fail with -1 and an error containing `expect` when consumed is -1). */
static void check_all_splits(enum azr__http1_type type, const char *text, const char *expect, long consumed) {
  size_t len = strlen(text);
  for (size_t i = 0; i <= len + 1; i++) {
    size_t split = i == len + 1 ? SIZE_MAX : i;
    struct rec r;
    rec_init(&r, type);
    long got = feed(&r, text, len, split);
    if (got != consumed) fail_msg("split %zu of \"%s\": consumed %ld, expected %ld", split, text, got, consumed);
    if (consumed < 0) {
      if (!strstr(r.p.error, expect)) fail_msg("error \"%s\", expected \"%s\"", r.p.error, expect);
      /* Errors are sticky. */
      assert_int_equal(azr__http1_feed(&r.p, (const uint8_t *)"x", 1), -1);
    } else if (strcmp(r.log, expect) != 0) {
      fail_msg("split %zu: got\n%s\nexpected\n%s", split, r.log, expect);
    }
    rec_free(&r);
  }
}

static void test_request_with_content_length(void **state) {
  (void)state;
  const char *req = "POST /path?q=1&r=%20 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n"
                    "X-Spaced:   spaced value \t \r\nX-Empty:\r\nx-lower-CASE: v\r\n\r\nhello";
  check_all_splits(AZR__HTTP1_REQUEST, req,
                   "[POST /path?q=1&r=%20 1.1 ka cl=5 {Host=example.com} {Content-Length=5} {X-Spaced=spaced value} "
                   "{X-Empty=} {x-lower-CASE=v}]hello$",
                   (long)strlen(req));
}

static void test_response_with_content_length(void **state) {
  (void)state;
  const char *resp = "HTTP/1.1 404 Endpoint does not exist. TrackingId:abc\r\nContent-Length: 3\r\n"
                     "Connection: close\r\n\r\nnot";
  check_all_splits(AZR__HTTP1_RESPONSE, resp,
                   "[404 Endpoint does not exist. TrackingId:abc 1.1 cl=3 {Content-Length=3} {Connection=close}]not$",
                   (long)strlen(resp));
  const char *http10 = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
  check_all_splits(AZR__HTTP1_RESPONSE, http10, "[200 OK 1.0 cl=0 {Content-Length=0}]$", (long)strlen(http10));
}

static void test_chunked_with_extensions_and_trailers(void **state) {
  (void)state;
  const char *resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "5;name=value\r\nhello\r\n6\r\n world\r\nA; x=\"y\"\r\n0123456789\r\n0\r\n"
                     "Trailer-One: t1\r\nTrailer-Two: t2\r\n\r\n";
  check_all_splits(AZR__HTTP1_RESPONSE, resp,
                   "[200 OK 1.1 ka chunked {Transfer-Encoding=chunked}]hello world0123456789$", (long)strlen(resp));
  const char *req = "PUT /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  check_all_splits(AZR__HTTP1_REQUEST, req, "[PUT /up 1.1 ka chunked {Transfer-Encoding=chunked}]abc$",
                   (long)strlen(req));
}

static void test_keep_alive_pipeline(void **state) {
  (void)state;
  const char *text = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                     "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
                     "\r\n" /* stray CRLF between messages is tolerated */
                     "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
                     "GET /d HTTP/1.0\r\n\r\n";
  check_all_splits(AZR__HTTP1_REQUEST, text,
                   "[GET /a 1.1 ka {Host=h}]$[POST /b 1.1 ka cl=3 {Host=h} {Content-Length=3}]xyz$"
                   "[POST /c 1.1 ka chunked {Transfer-Encoding=chunked}]ok$[GET /d 1.0]$",
                   (long)strlen(text));
  const char *responses = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"
                          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
  check_all_splits(AZR__HTTP1_RESPONSE, responses, "[100 Continue 1.1 ka]$[204 No Content 1.1 ka]$[200 OK 1.1 ka cl=2 {Content-Length=2}]hi$",
                   (long)strlen(responses));
}

static const char ws_request[] = "GET /$hc/x HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

static void test_upgrade_stops_at_head(void **state) {
  (void)state;
  char text[512];
  size_t head = strlen(ws_request);
  memcpy(text, ws_request, head);
  memcpy(text + head, "\x81\x05hello", 8);
  check_all_splits(AZR__HTTP1_REQUEST, text,
                   "[GET /$hc/x 1.1 ka up {Host=h} {Upgrade=websocket} {Connection=Upgrade} "
                   "{Sec-WebSocket-Key=dGhlIHNhbXBsZSBub25jZQ==} {Sec-WebSocket-Version=13}]$",
                   (long)head);
  struct rec r;
  rec_init(&r, AZR__HTTP1_REQUEST);
  assert_int_equal(azr__http1_feed(&r.p, (const uint8_t *)text, head + 7), (long)head);
  /* The rest belongs to the new protocol, even after a resume. */
  assert_int_equal(azr__http1_feed(&r.p, (const uint8_t *)text + head, 7), 0);
  azr__http1_resume(&r.p);
  assert_int_equal(azr__http1_feed(&r.p, (const uint8_t *)text + head, 7), 0);
  assert_int_equal(azr__http1_finish(&r.p), 0);
  assert_true(r.kept.upgrade);
  rec_free(&r);
  /* A 101 response, with and without the Upgrade headers, followed by frame bytes. */
  const char *resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02hi";
  check_all_splits(AZR__HTTP1_RESPONSE, resp,
                   "[101 Switching Protocols 1.1 ka up {Upgrade=websocket} {Connection=Upgrade} "
                   "{Sec-WebSocket-Accept=s3pPLMBiTxaQ9kYGzzhZRbK+xOo=}]$",
                   (long)strlen(resp) - 4);
  const char *bare = "HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x02hi";
  check_all_splits(AZR__HTTP1_RESPONSE, bare, "[101 Switching Protocols 1.1 ka up]$", (long)strlen(bare) - 4);
}

/* A request head of exactly `total` bytes (request line + headers + blank line). */
static char *head_of_size(size_t total, size_t per_header) {
  char *t = malloc(total + 1);
  assert_non_null(t);
  size_t off = (size_t)sprintf(t, "GET / HTTP/1.1\r\n");
  int k = 0;
  while (total - off - 2 > per_header + 12) {
    off += (size_t)sprintf(t + off, "X-%04d: ", k++);
    size_t v = per_header;
    memset(t + off, 'v', v);
    off += v;
    memcpy(t + off, "\r\n", 2);
    off += 2;
  }
  size_t rest = total - off - 2; /* one last header filling the remainder exactly */
  assert_true(rest >= 6);
  memcpy(t + off, "Y: ", 3);
  memset(t + off + 3, 'w', rest - 5);
  memcpy(t + off + rest - 2, "\r\n", 2);
  off += rest;
  memcpy(t + off, "\r\n", 3);
  assert_int_equal(strlen(t), total);
  return t;
}

static void test_head_size_cap(void **state) {
  (void)state;
  for (int by_byte = 0; by_byte <= 1; by_byte++) {
    /* Exactly at the cap passes, one byte more fails (the whole head counts, blank line included). */
    char *ok = head_of_size(1024, 100), *big = head_of_size(1025, 100);
    struct rec r;
    rec_init(&r, AZR__HTTP1_REQUEST);
    r.p.max_head = 1024;
    assert_int_equal(feed(&r, ok, 1024, by_byte ? SIZE_MAX : 0), 1024);
    assert_int_equal(r.heads, 1);
    /* The counter restarts for the next message on the connection. */
    assert_int_equal(feed(&r, ok, 1024, by_byte ? SIZE_MAX : 0), 1024);
    assert_int_equal(r.heads, 2);
    rec_free(&r);
    rec_init(&r, AZR__HTTP1_REQUEST);
    r.p.max_head = 1024;
    assert_int_equal(feed(&r, big, 1025, by_byte ? SIZE_MAX : 0), -1);
    assert_string_equal(r.p.error, "head too large");
    assert_int_equal(r.heads, 0);
    rec_free(&r);
    free(ok);
    free(big);
  }
  /* One endless header value, and endless white space, with the default cap. */
  size_t n = 100000;
  char *t = malloc(n);
  assert_non_null(t);
  memcpy(t, "GET / HTTP/1.1\r\nX: ", 19);
  memset(t + 19, 'a', n - 19);
  for (int pass = 0; pass < 2; pass++) {
    struct rec r;
    rec_init(&r, AZR__HTTP1_REQUEST);
    assert_int_equal(feed(&r, t, n, 0), -1);
    assert_string_equal(r.p.error, "head too large");
    rec_free(&r);
    memset(t + 19, ' ', 10);
    memset(t + 29, '\t', n - 29);
  }
  free(t);
  /* Responses count their status line too. */
  const char *resp = "HTTP/1.1 200 A long reason phrase that goes on and on and on and on\r\n\r\n";
  struct rec r;
  rec_init(&r, AZR__HTTP1_RESPONSE);
  r.p.max_head = 40;
  assert_int_equal(feed(&r, resp, strlen(resp), SIZE_MAX), -1);
  assert_string_equal(r.p.error, "head too large");
  rec_free(&r);
}

static void test_header_count_cap(void **state) {
  (void)state;
  const char *four = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
  const char *five = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n";
  for (int by_byte = 0; by_byte <= 1; by_byte++) {
    struct rec r;
    rec_init(&r, AZR__HTTP1_REQUEST);
    r.p.max_headers = 4;
    assert_int_equal(feed(&r, four, strlen(four), by_byte ? SIZE_MAX : 0), (long)strlen(four));
    assert_int_equal(r.kept.header_count, 4);
    assert_int_equal(feed(&r, five, strlen(five), by_byte ? SIZE_MAX : 0), -1);
    assert_non_null(strstr(r.p.error, "too many headers"));
    rec_free(&r);
  }
  /* The default cap (128) with many tiny headers. */
  char big[4096];
  size_t off = (size_t)sprintf(big, "GET / HTTP/1.1\r\n");
  for (int i = 0; i < 129; i++) off += (size_t)sprintf(big + off, "H%d: x\r\n", i);
  sprintf(big + off, "\r\n");
  struct rec r;
  rec_init(&r, AZR__HTTP1_REQUEST);
  assert_int_equal(feed(&r, big, strlen(big), 0), -1);
  assert_non_null(strstr(r.p.error, "too many headers"));
  rec_free(&r);
}

static void test_malformed_input(void **state) {
  (void)state;
  static const char *bad_requests[] = {
      "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n-1\r\n",
      "GET / HTTP/1.1\r\nHo(st: a\r\n\r\n",
      "GET / HTTP/9.9.9\r\n\r\n",
      "\x01GET / HTTP/1.1\r\n\r\n",
      "GET /a b HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\x7f" "b\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof bad_requests / sizeof bad_requests[0]; i++)
    check_all_splits(AZR__HTTP1_REQUEST, bad_requests[i], "", -1);
  static const char *bad_responses[] = {
      "HTTP/1.1 abc OK\r\n\r\n",
      "HTTP/1.1 2000 OK\r\n\r\n",
      "XTTP/1.1 200 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof bad_responses / sizeof bad_responses[0]; i++)
    check_all_splits(AZR__HTTP1_RESPONSE, bad_responses[i], "", -1);
}

static void test_stop_and_resume(void **state) {
  (void)state;
  const char *text = "POST /one HTTP/1.1\r\nContent-Length: 4\r\n\r\nbodyGET /two HTTP/1.1\r\n\r\n";
  size_t len = strlen(text), head1 = strlen("POST /one HTTP/1.1\r\nContent-Length: 4\r\n\r\n");
  for (size_t split = 0; split <= len; split++) {
    struct rec r;
    rec_init(&r, AZR__HTTP1_REQUEST);
    r.stop_on_head = 1;
    long got = feed(&r, text, len, split);
    assert_int_equal(got, (long)head1);
    assert_string_equal(r.log, "[POST /one 1.1 ka cl=4 {Content-Length=4}]");
    /* Stopped: nothing is consumed until resume. */
    assert_int_equal(azr__http1_feed(&r.p, (const uint8_t *)text + head1, len - head1), 0);
    azr__http1_resume(&r.p);
    assert_int_equal(feed(&r, text + head1, len - head1, split > head1 ? split - head1 : 0), (long)(len - head1));
    assert_string_equal(r.log, "[POST /one 1.1 ka cl=4 {Content-Length=4}]body$[GET /two 1.1 ka]$");
    rec_free(&r);
  }
  /* A message without body completes with its head even when on_head stops the parser. */
  struct rec r;
  rec_init(&r, AZR__HTTP1_REQUEST);
  r.stop_on_head = 1;
  const char *two = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
  assert_int_equal(azr__http1_feed(&r.p, (const uint8_t *)two, strlen(two)), 19);
  assert_string_equal(r.log, "[GET /a 1.1 ka]$");
  azr__http1_resume(&r.p);
  assert_int_equal(azr__http1_feed(&r.p, (const uint8_t *)two + 19, strlen(two) - 19), 19);
  assert_string_equal(r.log, "[GET /a 1.1 ka]$[GET /b 1.1 ka]$");
  rec_free(&r);
}

static int stop_body(void *ud, const uint8_t *data, size_t len) {
  on_body(ud, data, len);
  return 1;
}

static int stop_complete(void *ud) {
  on_complete(ud);
  return 1;
}

static void test_stop_from_body_and_complete(void **state) {
  (void)state;
  const char *text = "POST / HTTP/1.1\r\nContent-Length: 6\r\n\r\nabcdefGET /n HTTP/1.1\r\n\r\n";
  size_t len = strlen(text);
  struct rec r;
  rec_init(&r, AZR__HTTP1_REQUEST);
  r.p.cb.on_body = stop_body;
  r.p.cb.on_complete = stop_complete;
  /* Each stop: resume and feed the rest again; no byte is delivered twice. */
  size_t off = 0;
  for (int rounds = 0; off < len && rounds < 20; rounds++) {
    long used = azr__http1_feed(&r.p, (const uint8_t *)text + off, len - off);
    assert_true(used >= 0);
    off += (size_t)used;
    azr__http1_resume(&r.p);
  }
  assert_int_equal(off, len);
  assert_string_equal(r.log, "[POST / 1.1 ka cl=6 {Content-Length=6}]abcdef$[GET /n 1.1 ka]$");
  rec_free(&r);
}

static void test_head_response_and_eof_body(void **state) {
  (void)state;
  /* The answer to HEAD announces a length but has no body. */
  const char *text = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz";
  for (size_t split = 0; split <= strlen(text); split++) {
    struct rec r;
    rec_init(&r, AZR__HTTP1_RESPONSE);
    azr__http1_expect_no_body(&r.p);
    assert_int_equal(feed(&r, text, strlen(text), split), (long)strlen(text));
    assert_string_equal(r.log, "[200 OK 1.1 ka cl=100 {Content-Length=100}]$[200 OK 1.1 ka cl=1 {Content-Length=1}]z$");
    rec_free(&r);
  }
  /* A body delimited by the end of the connection completes on finish. */
  const char *eof = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end";
  for (size_t split = 0; split <= strlen(eof); split++) {
    struct rec r;
    rec_init(&r, AZR__HTTP1_RESPONSE);
    assert_int_equal(feed(&r, eof, strlen(eof), split), (long)strlen(eof));
    assert_string_equal(r.log, "[200 OK 1.1 {Connection=close}]until the end");
    assert_int_equal(azr__http1_finish(&r.p), 0);
    assert_string_equal(r.log, "[200 OK 1.1 {Connection=close}]until the end$");
    rec_free(&r);
  }
  /* EOF inside a Content-Length body or a head is an error; between messages it is not. */
  struct rec r;
  rec_init(&r, AZR__HTTP1_RESPONSE);
  const char *cut = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort";
  assert_int_equal(feed(&r, cut, strlen(cut), 0), (long)strlen(cut));
  assert_int_equal(azr__http1_finish(&r.p), -1);
  assert_true(r.p.error[0] != 0);
  rec_free(&r);
  rec_init(&r, AZR__HTTP1_REQUEST);
  assert_int_equal(azr__http1_finish(&r.p), 0);
  assert_int_equal(feed(&r, "GET / HT", 8, 0), 8);
  assert_int_equal(azr__http1_finish(&r.p), -1);
  rec_free(&r);
}

static void test_head_helpers(void **state) {
  (void)state;
  const char *text = "GET / HTTP/1.1\r\nAccept: a\r\nconnection: keep-alive, Upgrade\r\nACCEPT: b ,c\r\n"
                     "Upgrade: WebSocket\r\n\r\n";
  struct rec r;
  rec_init(&r, AZR__HTTP1_REQUEST);
  assert_int_equal(feed(&r, text, strlen(text), 0), (long)strlen(text));
  azr__http1_free(&r.p); /* the head we took over outlives the parser */
  struct azr__http_head *h = &r.kept;
  assert_int_equal(h->header_count, 4);
  const struct azr__http_header *x = azr__http_head_find(h, "accept");
  assert_non_null(x);
  assert_true(azr__span_eq(x->value, "a"));
  assert_null(azr__http_head_find(h, "Missing"));
  struct azr__buf out;
  azr__buf_init(&out, NULL, 0);
  assert_int_equal(azr__http_head_join(h, "Accept", &out), AZR_OK);
  assert_string_equal(azr__buf_cstr(&out), "a, b ,c");
  azr__buf_reset(&out);
  assert_int_equal(azr__http_head_join(h, "Missing", &out), AZR_OK);
  assert_int_equal(out.len, 0);
  azr__buf_free(&out);
  assert_true(azr__http_head_has_token(h, "Connection", "upgrade"));
  assert_true(azr__http_head_has_token(h, "CONNECTION", "Keep-Alive"));
  assert_true(azr__http_head_has_token(h, "Accept", "c"));
  assert_false(azr__http_head_has_token(h, "Connection", "close"));
  assert_false(azr__http_head_has_token(h, "Connection", "upgrad"));
  assert_true(azr__http_head_has_token(h, "Upgrade", "websocket"));
  azr__http_head_free(h);
  azr__http_head_free(h); /* idempotent */
}

static void test_reason_phrases(void **state) {
  (void)state;
  assert_string_equal(azr__http_reason(100), "Continue");
  assert_string_equal(azr__http_reason(101), "Switching Protocols");
  assert_string_equal(azr__http_reason(200), "OK");
  assert_string_equal(azr__http_reason(404), "Not Found");
  assert_string_equal(azr__http_reason(407), "Proxy Authentication Required");
  assert_string_equal(azr__http_reason(431), "Request Header Fields Too Large");
  assert_string_equal(azr__http_reason(502), "Bad Gateway");
  assert_string_equal(azr__http_reason(511), "Network Authentication Required");
  assert_string_equal(azr__http_reason(418), "Unknown");
  assert_string_equal(azr__http_reason(599), "Unknown");
  assert_string_equal(azr__http_reason(-1), "Unknown");
  /* Every code of the registry between 100 and 511 that has a phrase: none is empty. */
  int known = 0;
  for (int c = 100; c <= 511; c++) {
    const char *p = azr__http_reason(c);
    assert_true(p[0] != 0);
    known += strcmp(p, "Unknown") != 0;
  }
  assert_int_equal(known, 61);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_request_with_content_length),
      cmocka_unit_test(test_response_with_content_length),
      cmocka_unit_test(test_chunked_with_extensions_and_trailers),
      cmocka_unit_test(test_keep_alive_pipeline),
      cmocka_unit_test(test_upgrade_stops_at_head),
      cmocka_unit_test(test_head_size_cap),
      cmocka_unit_test(test_header_count_cap),
      cmocka_unit_test(test_malformed_input),
      cmocka_unit_test(test_stop_and_resume),
      cmocka_unit_test(test_stop_from_body_and_complete),
      cmocka_unit_test(test_head_response_and_eof_body),
      cmocka_unit_test(test_head_helpers),
      cmocka_unit_test(test_reason_phrases),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
