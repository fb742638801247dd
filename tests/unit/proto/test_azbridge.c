/* SPDX-License-Identifier: MIT */
/* azbridge preamble: byte-exact vectors from azbridge's source (docs/internals/azbridge.md), decoding
 * at every split point, errors, replies, port lookup, encode/decode round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "azrelay/common.h"
#include "proto/azbridge.h"

/* `-L 6379/redis:relay` opening one TCP stream, then the first payload bytes. */
static const uint8_t redis_vec[] = {0x01, 0x00, 0x00, 0x05, 0x72, 0x65, 0x64, 0x69, 0x73};
/* `-L 53U:relay`: UDP, default name "53U", then one framed datagram (length 2, big endian). */
static const uint8_t dns_vec[] = {0x01, 0x00, 0x01, 0x03, 0x35, 0x33, 0x55};

struct outcome {
  int rc;
  bool done;
  size_t consumed;
};

/* Feeds `in` in the pieces given by cut points cuts[0..ncuts) and returns the combined outcome,
 * stopping at the first error or at completion like a caller would. */
static struct outcome feed_cuts(struct azr__azbridge_preamble *p, const uint8_t *in, size_t len,
                                const size_t *cuts, size_t ncuts) {
  azr__azbridge_preamble_init(p);
  struct outcome o = {AZR_OK, false, 0};
  size_t start = 0;
  for (size_t k = 0; k <= ncuts; k++) {
    size_t end = k < ncuts ? cuts[k] : len;
    size_t used = 99;
    bool done = true;
    o.rc = azr__azbridge_preamble_feed(p, in + start, end - start, &used, &done);
    assert_true(used <= end - start);
    o.consumed += used;
    o.done = done;
    if (o.rc != AZR_OK || done) return o;
    assert_int_equal(used, end - start); /* need-more consumes everything */
    start = end;
  }
  return o;
}

static struct outcome feed_whole(struct azr__azbridge_preamble *p, const uint8_t *in, size_t len) {
  return feed_cuts(p, in, len, NULL, 0);
}

static void test_encode_vectors(void **state) {
  (void)state;
  uint8_t out[AZR__AZBRIDGE_MAX_PREAMBLE];
  size_t n = 0;
  assert_int_equal(azr__azbridge_preamble_encode("redis", AZR__AZBRIDGE_MODE_STREAM, out, sizeof out, &n), AZR_OK);
  assert_int_equal(n, sizeof redis_vec);
  assert_memory_equal(out, redis_vec, sizeof redis_vec);
  assert_int_equal(azr__azbridge_preamble_encode("53U", AZR__AZBRIDGE_MODE_DATAGRAM, out, sizeof out, &n), AZR_OK);
  assert_int_equal(n, sizeof dns_vec);
  assert_memory_equal(out, dns_vec, sizeof dns_vec);
  static const uint8_t rdp[] = {1, 0, 0, 4, '3', '3', '8', '9'};
  assert_int_equal(azr__azbridge_preamble_encode("3389", AZR__AZBRIDGE_MODE_STREAM, out, sizeof out, &n), AZR_OK);
  assert_int_equal(n, sizeof rdp);
  assert_memory_equal(out, rdp, sizeof rdp);

  /* The longest name: length byte 0xFF, 259 bytes in all, exactly AZR__AZBRIDGE_MAX_PREAMBLE. */
  char name[300];
  memset(name, 'x', 255);
  name[255] = 0;
  assert_int_equal(azr__azbridge_preamble_encode(name, AZR__AZBRIDGE_MODE_STREAM, out, sizeof out, &n), AZR_OK);
  assert_int_equal(n, 259);
  assert_int_equal(out[3], 0xff);
  assert_int_equal(out[258], 'x');

  /* Output too small by one: error, nothing written. */
  uint8_t small[8];
  memset(small, 0xaa, sizeof small);
  n = 77;
  assert_int_equal(azr__azbridge_preamble_encode("redis", AZR__AZBRIDGE_MODE_STREAM, small, 8, &n), AZR_E_TOO_BIG);
  assert_int_equal(n, 77);
  for (size_t i = 0; i < sizeof small; i++) assert_int_equal(small[i], 0xaa);
  assert_int_equal(azr__azbridge_preamble_encode("redis", AZR__AZBRIDGE_MODE_STREAM, small, 0, &n), AZR_E_TOO_BIG);
}

static void test_encode_errors(void **state) {
  (void)state;
  uint8_t out[AZR__AZBRIDGE_MAX_PREAMBLE + 8];
  size_t n;
  char name[300];
  memset(name, 'y', 256);
  name[256] = 0;
  assert_int_equal(azr__azbridge_preamble_encode(name, AZR__AZBRIDGE_MODE_STREAM, out, sizeof out, &n), AZR_E_TOO_BIG);
  assert_int_equal(azr__azbridge_preamble_encode("", AZR__AZBRIDGE_MODE_STREAM, out, sizeof out, &n), AZR_E_PARSE);
  assert_int_equal(azr__azbridge_preamble_encode("re dis", AZR__AZBRIDGE_MODE_STREAM, out, sizeof out, &n),
                   AZR_E_PARSE);
  assert_int_equal(azr__azbridge_preamble_encode("a:b", AZR__AZBRIDGE_MODE_STREAM, out, sizeof out, &n), AZR_E_PARSE);
  assert_int_equal(azr__azbridge_preamble_encode("caf\xc3\xa9", AZR__AZBRIDGE_MODE_STREAM, out, sizeof out, &n),
                   AZR_E_PARSE);
  assert_int_equal(azr__azbridge_preamble_encode("a\xff", AZR__AZBRIDGE_MODE_STREAM, out, sizeof out, &n), AZR_E_UTF8);
  assert_int_equal(azr__azbridge_preamble_encode("a\xc3", AZR__AZBRIDGE_MODE_STREAM, out, sizeof out, &n), AZR_E_UTF8);
  assert_int_equal(azr__azbridge_preamble_encode(NULL, AZR__AZBRIDGE_MODE_STREAM, out, sizeof out, &n),
                   AZR_E_INVALID_ARG);
  assert_int_equal(azr__azbridge_preamble_encode("a", AZR__AZBRIDGE_MODE_STREAM, NULL, 10, &n), AZR_E_INVALID_ARG);
  assert_int_equal(azr__azbridge_preamble_encode("a", AZR__AZBRIDGE_MODE_STREAM, out, sizeof out, NULL),
                   AZR_E_INVALID_ARG);
  assert_int_equal(azr__azbridge_preamble_encode("a", (enum azr__azbridge_mode)2, out, sizeof out, &n),
                   AZR_E_INVALID_ARG);
}

static void test_port_name_check(void **state) {
  (void)state;
  static const struct {
    const char *name;
    int rc;
  } cases[] = {
      {"redis", AZR_OK},
      {"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz/_-.", AZR_OK},
      {"/tmp/app.sock", AZR_OK},
      {"53U", AZR_OK},
      {"", AZR_E_PARSE},
      {" redis", AZR_E_PARSE},
      {"redis\n", AZR_E_PARSE},
      {"a=b", AZR_E_PARSE},
      {"'quoted'", AZR_E_PARSE},
      {"\xc3\xa9", AZR_E_PARSE},         /* é: valid UTF-8, outside the set */
      {"\xf0\x9f\x98\x80", AZR_E_PARSE}, /* emoji */
      {"\xc3", AZR_E_UTF8},              /* cut short */
      {"\xc0\xaf", AZR_E_UTF8},          /* overlong */
      {"\xed\xa0\x80", AZR_E_UTF8},      /* surrogate */
      {"\xf4\x90\x80\x80", AZR_E_UTF8},  /* past U+10FFFF */
      {"\x80", AZR_E_UTF8},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *why = "unset";
    int rc = azr__azbridge_port_name_check(cases[i].name, strlen(cases[i].name), &why);
    if (rc != cases[i].rc) fail_msg("case %zu (%s): got %d, want %d", i, cases[i].name, rc, cases[i].rc);
    if (rc == AZR_OK) assert_null(why);
    else assert_true(why && strstr(why, "port name"));
  }
  /* An embedded NUL is outside the set too. */
  assert_int_equal(azr__azbridge_port_name_check("a\0b", 3, NULL), AZR_E_PARSE);
  char name[256];
  memset(name, '9', sizeof name);
  assert_int_equal(azr__azbridge_port_name_check(name, 255, NULL), AZR_OK);
  assert_int_equal(azr__azbridge_port_name_check(name, 256, NULL), AZR_E_TOO_BIG);
  assert_int_equal(azr__azbridge_port_name_check(NULL, 1, NULL), AZR_E_INVALID_ARG);
  assert_int_equal(azr__azbridge_port_name_check(NULL, 0, NULL), AZR_E_PARSE);
}

static void test_decode_whole_with_payload(void **state) {
  (void)state;
  uint8_t in[64];
  memcpy(in, redis_vec, sizeof redis_vec);
  memcpy(in + sizeof redis_vec, "PING\r\n", 6);
  struct azr__azbridge_preamble p;
  struct outcome o = feed_whole(&p, in, sizeof redis_vec + 6);
  assert_int_equal(o.rc, AZR_OK);
  assert_true(o.done);
  assert_int_equal(o.consumed, 9);
  assert_string_equal(p.port_name, "redis");
  assert_int_equal(p.port_name_len, 5);
  assert_int_equal(p.mode, AZR__AZBRIDGE_MODE_STREAM);
  assert_int_equal(p.reject_reply, AZR__AZBRIDGE_REPLY_NONE);
  assert_null(p.why);
  /* Once done, feeding more is a caller error. */
  size_t used = 5;
  bool done = false;
  assert_int_equal(azr__azbridge_preamble_feed(&p, in, 3, &used, &done), AZR_E_BAD_STATE);
  assert_int_equal(used, 0);
  assert_true(done);

  o = feed_whole(&p, dns_vec, sizeof dns_vec);
  assert_int_equal(o.rc, AZR_OK);
  assert_true(o.done);
  assert_int_equal(o.consumed, sizeof dns_vec);
  assert_string_equal(p.port_name, "53U");
  assert_int_equal(p.mode, AZR__AZBRIDGE_MODE_DATAGRAM);
}

static void test_decode_every_split(void **state) {
  (void)state;
  uint8_t in[64];
  memcpy(in, redis_vec, sizeof redis_vec);
  memcpy(in + sizeof redis_vec, "\x2a\x31\r\n", 4); /* payload that could be misread as more header */
  size_t len = sizeof redis_vec + 4;
  struct azr__azbridge_preamble p;
  /* One cut anywhere, including empty first and last pieces. */
  for (size_t a = 0; a <= len; a++) {
    size_t cuts[1] = {a};
    struct outcome o = feed_cuts(&p, in, len, cuts, 1);
    assert_int_equal(o.rc, AZR_OK);
    assert_true(o.done);
    assert_int_equal(o.consumed, 9);
    assert_string_equal(p.port_name, "redis");
  }
  /* Two cuts anywhere. */
  for (size_t a = 0; a <= len; a++) {
    for (size_t b = a; b <= len; b++) {
      size_t cuts[2] = {a, b};
      struct outcome o = feed_cuts(&p, in, len, cuts, 2);
      assert_int_equal(o.rc, AZR_OK);
      assert_true(o.done);
      assert_int_equal(o.consumed, 9);
      assert_string_equal(p.port_name, "redis");
      assert_int_equal(p.mode, 0);
    }
  }
  /* Byte by byte: need-more through byte 8, done on byte 9. */
  azr__azbridge_preamble_init(&p);
  for (size_t i = 0; i < sizeof redis_vec; i++) {
    size_t used;
    bool done;
    assert_int_equal(azr__azbridge_preamble_feed(&p, in + i, 1, &used, &done), AZR_OK);
    assert_int_equal(used, 1);
    assert_int_equal(done, i == sizeof redis_vec - 1);
  }
  assert_string_equal(p.port_name, "redis");
}

static void test_decode_truncated(void **state) {
  (void)state;
  struct azr__azbridge_preamble p;
  for (size_t k = 0; k < sizeof redis_vec; k++) {
    struct outcome o = feed_whole(&p, redis_vec, k);
    assert_int_equal(o.rc, AZR_OK);
    assert_false(o.done);
    assert_int_equal(o.consumed, k);
    assert_int_equal(p.got, k);
  }
  size_t used = 1;
  bool done = true;
  azr__azbridge_preamble_init(&p);
  assert_int_equal(azr__azbridge_preamble_feed(&p, NULL, 0, &used, &done), AZR_OK);
  assert_int_equal(used, 0);
  assert_false(done);
  assert_int_equal(azr__azbridge_preamble_feed(NULL, redis_vec, 1, &used, &done), AZR_E_INVALID_ARG);
  assert_int_equal(azr__azbridge_preamble_feed(&p, NULL, 1, &used, &done), AZR_E_INVALID_ARG);
  assert_int_equal(azr__azbridge_preamble_feed(&p, redis_vec, 1, NULL, &done), AZR_E_INVALID_ARG);
  assert_int_equal(azr__azbridge_preamble_feed(&p, redis_vec, 1, &used, NULL), AZR_E_INVALID_ARG);
}

struct bad_case {
  const char *what;
  uint8_t bytes[16];
  size_t len;
  int rc;
  size_t consumed; /* through the offending byte */
  enum azr__azbridge_reply reply;
};

static const struct bad_case bad_cases[] = {
    {"major 2", {2, 0, 0, 1, 'a'}, 5, AZR_E_PROTOCOL, 1, AZR__AZBRIDGE_REPLY_BAD_VERSION},
    {"major 0", {0, 0, 0}, 3, AZR_E_PROTOCOL, 1, AZR__AZBRIDGE_REPLY_BAD_VERSION},
    {"HTTP instead", {'G', 'E', 'T', ' '}, 4, AZR_E_PROTOCOL, 1, AZR__AZBRIDGE_REPLY_BAD_VERSION},
    {"minor 1", {1, 1, 0, 1, 'a'}, 5, AZR_E_PROTOCOL, 2, AZR__AZBRIDGE_REPLY_BAD_VERSION},
    {"mode 2", {1, 0, 2, 1, 'a'}, 5, AZR_E_PROTOCOL, 3, AZR__AZBRIDGE_REPLY_BAD_VERSION},
    {"mode 255", {1, 0, 255, 1, 'a'}, 5, AZR_E_PROTOCOL, 3, AZR__AZBRIDGE_REPLY_BAD_VERSION},
    {"empty name", {1, 0, 0, 0, 'x', 'y'}, 6, AZR_E_PARSE, 4, AZR__AZBRIDGE_REPLY_NONE},
    {"space", {1, 0, 0, 6, 'r', 'e', ' ', 'd', 'i', 's'}, 10, AZR_E_PARSE, 7, AZR__AZBRIDGE_REPLY_NONE},
    {"control char", {1, 0, 0, 2, 'a', '\n'}, 6, AZR_E_PARSE, 6, AZR__AZBRIDGE_REPLY_NONE},
    {"NUL in name", {1, 0, 0, 3, 'a', 0, 'b'}, 7, AZR_E_PARSE, 6, AZR__AZBRIDGE_REPLY_NONE},
    {"e-acute", {1, 0, 0, 3, 'c', 0xc3, 0xa9}, 7, AZR_E_PARSE, 7, AZR__AZBRIDGE_REPLY_NONE},
    {"0xff", {1, 0, 0, 2, 'a', 0xff}, 6, AZR_E_UTF8, 6, AZR__AZBRIDGE_REPLY_NONE},
    {"lone continuation", {1, 0, 0, 1, 0x80}, 5, AZR_E_UTF8, 5, AZR__AZBRIDGE_REPLY_NONE},
    {"overlong", {1, 0, 0, 2, 0xc0, 0xaf}, 6, AZR_E_UTF8, 5, AZR__AZBRIDGE_REPLY_NONE},
    {"surrogate", {1, 0, 0, 3, 0xed, 0xa0, 0x80}, 7, AZR_E_UTF8, 6, AZR__AZBRIDGE_REPLY_NONE},
    {"cut sequence", {1, 0, 0, 2, 'a', 0xe2, 0x82, 0xac}, 8, AZR_E_UTF8, 6, AZR__AZBRIDGE_REPLY_NONE},
    {"bad continuation", {1, 0, 0, 3, 0xe2, 'a', 'b'}, 7, AZR_E_UTF8, 6, AZR__AZBRIDGE_REPLY_NONE},
};

static void test_decode_errors(void **state) {
  (void)state;
  struct azr__azbridge_preamble p;
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
    const struct bad_case *c = &bad_cases[i];
    struct outcome o = feed_whole(&p, c->bytes, c->len);
    if (o.rc != c->rc || o.consumed != c->consumed)
      fail_msg("%s: rc %d consumed %zu, want %d %zu", c->what, o.rc, o.consumed, c->rc, c->consumed);
    assert_false(o.done);
    assert_int_equal(p.reject_reply, c->reply);
    assert_non_null(p.why);
    /* Sticky: a later feed repeats the error and consumes nothing. */
    size_t used = 9;
    bool done = true;
    assert_int_equal(azr__azbridge_preamble_feed(&p, (const uint8_t *)"zz", 2, &used, &done), c->rc);
    assert_int_equal(used, 0);
    assert_false(done);
    /* The same verdict whatever the pieces. */
    for (size_t a = 0; a <= c->len; a++) {
      for (size_t b = a; b <= c->len; b++) {
        size_t cuts[2] = {a, b};
        o = feed_cuts(&p, c->bytes, c->len, cuts, 2);
        if (o.rc != c->rc || o.consumed != c->consumed)
          fail_msg("%s cut %zu/%zu: rc %d consumed %zu", c->what, a, b, o.rc, o.consumed);
        assert_int_equal(p.reject_reply, c->reply);
      }
    }
  }
}

static void test_round_trip(void **state) {
  (void)state;
  char longest[256];
  memset(longest, 'Z', 255);
  longest[255] = 0;
  const char *names[] = {"a", "redis", "rdp", "3389", "53U", "/var/run/app.sock", "x-y_z.v1", longest,
                         "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz/_-."};
  struct azr__azbridge_preamble p;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    for (int mode = 0; mode <= 1; mode++) {
      uint8_t buf[AZR__AZBRIDGE_MAX_PREAMBLE];
      size_t n;
      assert_int_equal(azr__azbridge_preamble_encode(names[i], (enum azr__azbridge_mode)mode, buf, sizeof buf, &n),
                       AZR_OK);
      assert_int_equal(n, 4 + strlen(names[i]));
      for (size_t cut = 0; cut <= n; cut += (n > 40 ? 37 : 1)) {
        size_t cuts[1] = {cut};
        struct outcome o = feed_cuts(&p, buf, n, cuts, 1);
        assert_int_equal(o.rc, AZR_OK);
        assert_true(o.done);
        assert_int_equal(o.consumed, n);
        assert_string_equal(p.port_name, names[i]);
        assert_int_equal(p.port_name_len, strlen(names[i]));
        assert_int_equal(p.mode, mode);
      }
    }
  }
}

static void test_reply_bytes(void **state) {
  (void)state;
  static const struct {
    enum azr__azbridge_reply reply;
    uint8_t bytes[3];
  } vec[] = {
      {AZR__AZBRIDGE_REPLY_ACCEPT_STREAM, {1, 0, 0}}, {AZR__AZBRIDGE_REPLY_ACCEPT_DATAGRAM, {1, 0, 1}},
      {AZR__AZBRIDGE_REPLY_BAD_VERSION, {0, 0, 0}},   {AZR__AZBRIDGE_REPLY_NEED_DATAGRAM, {0, 0, 1}},
      {AZR__AZBRIDGE_REPLY_NEED_STREAM, {0, 0, 0xff}},
  };
  for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
    uint8_t out[3] = {9, 9, 9};
    assert_int_equal(azr__azbridge_reply_encode(vec[i].reply, out), AZR_OK);
    assert_memory_equal(out, vec[i].bytes, 3);
    assert_int_equal(azr__azbridge_reply_parse(vec[i].bytes), vec[i].reply);
  }
  uint8_t out[3] = {9, 9, 9};
  assert_int_equal(azr__azbridge_reply_encode(AZR__AZBRIDGE_REPLY_NONE, out), AZR_E_INVALID_ARG);
  assert_int_equal(azr__azbridge_reply_encode(AZR__AZBRIDGE_REPLY_OTHER, out), AZR_E_INVALID_ARG);
  assert_int_equal(azr__azbridge_reply_encode((enum azr__azbridge_reply)99, out), AZR_E_INVALID_ARG);
  assert_int_equal(out[0], 9);
  assert_int_equal(azr__azbridge_reply_encode(AZR__AZBRIDGE_REPLY_ACCEPT_STREAM, NULL), AZR_E_INVALID_ARG);
  static const uint8_t other[][3] = {{1, 0, 2}, {2, 0, 0}, {1, 1, 0}, {0, 0, 2}, {0xff, 0xff, 0xff}};
  for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
    assert_int_equal(azr__azbridge_reply_parse(other[i]), AZR__AZBRIDGE_REPLY_OTHER);
}

static void test_reply_for(void **state) {
  (void)state;
  assert_int_equal(azr__azbridge_reply_for(0, false), AZR__AZBRIDGE_REPLY_ACCEPT_STREAM);
  assert_int_equal(azr__azbridge_reply_for(1, true), AZR__AZBRIDGE_REPLY_ACCEPT_DATAGRAM);
  assert_int_equal(azr__azbridge_reply_for(0, true), AZR__AZBRIDGE_REPLY_NEED_DATAGRAM);
  assert_int_equal(azr__azbridge_reply_for(1, false), AZR__AZBRIDGE_REPLY_NEED_STREAM);
  assert_int_equal(azr__azbridge_reply_for(2, false), AZR__AZBRIDGE_REPLY_BAD_VERSION);
  assert_int_equal(azr__azbridge_reply_for(255, true), AZR__AZBRIDGE_REPLY_BAD_VERSION);
}

static void test_reply_reader(void **state) {
  (void)state;
  struct azr__azbridge_reply_reader r;
  /* Accepted stream followed by payload in the same message, split at every point. */
  static const uint8_t in[] = {1, 0, 0, '+', 'O', 'K'};
  for (size_t a = 0; a <= sizeof in; a++) {
    azr__azbridge_reply_init(&r, AZR__AZBRIDGE_MODE_STREAM);
    size_t used, total = 0;
    bool done;
    assert_int_equal(azr__azbridge_reply_feed(&r, in, a, &used, &done), AZR_OK);
    total += used;
    assert_int_equal(done, a >= 3);
    if (!done) {
      assert_int_equal(used, a);
      assert_int_equal(azr__azbridge_reply_feed(&r, in + a, sizeof in - a, &used, &done), AZR_OK);
      total += used;
      assert_true(done);
    }
    assert_int_equal(total, 3);
    assert_int_equal(r.reply, AZR__AZBRIDGE_REPLY_ACCEPT_STREAM);
    assert_null(r.why);
  }
  size_t used;
  bool done;
  assert_int_equal(azr__azbridge_reply_feed(&r, in, 1, &used, &done), AZR_E_BAD_STATE);
  assert_int_equal(used, 0);

  azr__azbridge_reply_init(&r, AZR__AZBRIDGE_MODE_DATAGRAM);
  assert_int_equal(azr__azbridge_reply_feed(&r, (const uint8_t *)"\x01\x00\x01", 3, &used, &done), AZR_OK);
  assert_true(done);
  assert_int_equal(r.reply, AZR__AZBRIDGE_REPLY_ACCEPT_DATAGRAM);

  static const struct {
    enum azr__azbridge_mode mode;
    uint8_t bytes[3];
    enum azr__azbridge_reply reply;
  } refused[] = {
      {AZR__AZBRIDGE_MODE_STREAM, {0, 0, 0}, AZR__AZBRIDGE_REPLY_BAD_VERSION},
      {AZR__AZBRIDGE_MODE_STREAM, {0, 0, 1}, AZR__AZBRIDGE_REPLY_NEED_DATAGRAM},
      {AZR__AZBRIDGE_MODE_DATAGRAM, {0, 0, 0xff}, AZR__AZBRIDGE_REPLY_NEED_STREAM},
      {AZR__AZBRIDGE_MODE_STREAM, {1, 0, 1}, AZR__AZBRIDGE_REPLY_ACCEPT_DATAGRAM}, /* wrong mode echoed */
      {AZR__AZBRIDGE_MODE_DATAGRAM, {1, 0, 0}, AZR__AZBRIDGE_REPLY_ACCEPT_STREAM},
      {AZR__AZBRIDGE_MODE_STREAM, {'H', 'T', 'T'}, AZR__AZBRIDGE_REPLY_OTHER},
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    azr__azbridge_reply_init(&r, refused[i].mode);
    assert_int_equal(azr__azbridge_reply_feed(&r, refused[i].bytes, 2, &used, &done), AZR_OK);
    assert_false(done);
    assert_int_equal(azr__azbridge_reply_feed(&r, refused[i].bytes + 2, 1, &used, &done), AZR_E_PROTOCOL);
    assert_true(done);
    assert_int_equal(used, 1);
    assert_int_equal(r.reply, refused[i].reply);
    assert_non_null(r.why);
  }
  assert_int_equal(azr__azbridge_reply_feed(NULL, in, 1, &used, &done), AZR_E_INVALID_ARG);
  azr__azbridge_reply_init(&r, AZR__AZBRIDGE_MODE_STREAM);
  assert_int_equal(azr__azbridge_reply_feed(&r, NULL, 1, &used, &done), AZR_E_INVALID_ARG);
  assert_int_equal(azr__azbridge_reply_feed(&r, NULL, 0, &used, &done), AZR_OK);
  assert_false(done);
}

static void test_port_lookup(void **state) {
  (void)state;
  const char *three[] = {"rdp", "tds", "53U"};
  size_t idx = 99;
  assert_int_equal(azr__azbridge_port_lookup(three, 3, "tds", &idx), AZR_OK);
  assert_int_equal(idx, 1);
  assert_int_equal(azr__azbridge_port_lookup(three, 3, "53U", &idx), AZR_OK);
  assert_int_equal(idx, 2);
  assert_int_equal(azr__azbridge_port_lookup(three, 3, "TDS", &idx), AZR_E_NOT_FOUND); /* case-sensitive */
  assert_int_equal(azr__azbridge_port_lookup(three, 3, "3389", &idx), AZR_E_NOT_FOUND); /* no fallback with 3 */
  assert_int_equal(azr__azbridge_port_lookup(three, 3, "", &idx), AZR_E_NOT_FOUND);

  /* One forward: a numeric name reaches it whatever its own name (`-L 13389:r` against `-T r:3389`). */
  const char *one[] = {"rdp"};
  static const struct {
    const char *name;
    int rc;
  } single[] = {
      {"rdp", AZR_OK},          {"13389", AZR_OK},       {"0", AZR_OK},
      {"-5", AZR_OK},           {"+7", AZR_OK},          {"2147483647", AZR_OK},
      {"-2147483648", AZR_OK},  {"007", AZR_OK},         {"2147483648", AZR_E_NOT_FOUND},
      {"-2147483649", AZR_E_NOT_FOUND}, {"99999999999999999999999", AZR_E_NOT_FOUND},
      {"53U", AZR_E_NOT_FOUND}, {"-", AZR_E_NOT_FOUND},  {"", AZR_E_NOT_FOUND},
      {"1.5", AZR_E_NOT_FOUND}, {"RDP", AZR_E_NOT_FOUND},
  };
  for (size_t i = 0; i < sizeof single / sizeof single[0]; i++) {
    idx = 99;
    int rc = azr__azbridge_port_lookup(one, 1, single[i].name, &idx);
    if (rc != single[i].rc) fail_msg("'%s': got %d want %d", single[i].name, rc, single[i].rc);
    if (rc == AZR_OK) assert_int_equal(idx, 0);
  }
  /* The exact match wins over position; NULL entries are skipped. */
  const char *with_null[] = {NULL, "80"};
  assert_int_equal(azr__azbridge_port_lookup(with_null, 2, "80", &idx), AZR_OK);
  assert_int_equal(idx, 1);
  const char *only_null[] = {NULL};
  assert_int_equal(azr__azbridge_port_lookup(only_null, 1, "80", &idx), AZR_E_NOT_FOUND);
  assert_int_equal(azr__azbridge_port_lookup(NULL, 0, "80", &idx), AZR_E_NOT_FOUND);
  assert_int_equal(azr__azbridge_port_lookup(NULL, 1, "80", &idx), AZR_E_INVALID_ARG);
  assert_int_equal(azr__azbridge_port_lookup(one, 1, NULL, &idx), AZR_E_INVALID_ARG);
  assert_int_equal(azr__azbridge_port_lookup(one, 1, "rdp", NULL), AZR_E_INVALID_ARG);
}

/* The listener's whole decision for the two example streams, as the forwarder will chain it. */
static void test_listener_flow(void **state) {
  (void)state;
  const char *ports[] = {"redis", "web"};
  const bool is_datagram[] = {false, false};
  struct azr__azbridge_preamble p;
  size_t idx;
  uint8_t reply[3];

  struct outcome o = feed_whole(&p, redis_vec, sizeof redis_vec);
  assert_true(o.done);
  assert_int_equal(azr__azbridge_port_lookup(ports, 2, p.port_name, &idx), AZR_OK);
  assert_int_equal(idx, 0);
  assert_int_equal(azr__azbridge_reply_encode(azr__azbridge_reply_for(p.mode, is_datagram[idx]), reply), AZR_OK);
  assert_memory_equal(reply, "\x01\x00\x00", 3);

  o = feed_whole(&p, dns_vec, sizeof dns_vec);
  assert_true(o.done);
  assert_int_equal(azr__azbridge_port_lookup(ports, 2, p.port_name, &idx), AZR_E_NOT_FOUND);
  const char *tcp53[] = {"53U"};
  assert_int_equal(azr__azbridge_port_lookup(tcp53, 1, p.port_name, &idx), AZR_OK);
  assert_int_equal(azr__azbridge_reply_encode(azr__azbridge_reply_for(p.mode, false), reply), AZR_OK);
  assert_memory_equal(reply, "\x00\x00\xff", 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_encode_vectors),     cmocka_unit_test(test_encode_errors),
      cmocka_unit_test(test_port_name_check),    cmocka_unit_test(test_decode_whole_with_payload),
      cmocka_unit_test(test_decode_every_split), cmocka_unit_test(test_decode_truncated),
      cmocka_unit_test(test_decode_errors),      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_reply_bytes),        cmocka_unit_test(test_reply_for),
      cmocka_unit_test(test_reply_reader),       cmocka_unit_test(test_port_lookup),
      cmocka_unit_test(test_listener_flow),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
