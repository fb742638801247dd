/* SPDX-License-Identifier: MIT */
/* WebSocket frame headers, masking and Close payloads (RFC 6455 §5.2, §5.3, §5.5.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/ws_frame.h"

static void naive_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset) {
  for (size_t i = 0; i < len; i++) data[i] ^= mask[(offset + i) % 4];
}

static size_t expected_header_len(uint64_t plen, bool masked) {
  size_t n = plen < 126 ? 2 : plen <= 0xffff ? 4 : 10;
  return n + (masked ? 4 : 0);
}

static void test_header_round_trip_all_length_classes(void **state) {
  (void)state;
  static const uint64_t lengths[] = {0, 1, 125, 126, 127, 65535, 65536, 1ull << 32, (1ull << 63) - 1};
  static const uint8_t opcodes[] = {AZR__WS_CONTINUATION, AZR__WS_TEXT, AZR__WS_BINARY};
  for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
    for (int masked = 0; masked <= 1; masked++) {
      for (size_t oi = 0; oi < sizeof opcodes / sizeof opcodes[0]; oi++) {
        for (int fin = 0; fin <= 1; fin++) {
          struct azr__ws_frame_header h = {.fin = fin, .rsv = (uint8_t)(li % 8), .opcode = opcodes[oi],
                                           .masked = masked, .mask = {0x11, 0x22, 0x33, (uint8_t)li},
                                           .payload_len = lengths[li]};
          uint8_t buf[AZR__WS_MAX_HEADER + 4];
          memset(buf, 0xee, sizeof buf);
          size_t n = azr__ws_frame_write_header(buf, &h);
          assert_int_equal(n, expected_header_len(lengths[li], masked));
          assert_int_equal(buf[n], 0xee); /* nothing written past the header */
          /* Every proper prefix asks for more bytes; the whole header parses back. */
          for (size_t cut = 0; cut < n; cut++) {
            struct azr__ws_frame_header g;
            assert_int_equal(azr__ws_frame_parse_header(buf, cut, 7, &g), 0);
          }
          struct azr__ws_frame_header g;
          assert_int_equal(azr__ws_frame_parse_header(buf, n + 4, 7, &g), (int)n);
          assert_int_equal(g.fin, h.fin);
          assert_int_equal(g.rsv, h.rsv);
          assert_int_equal(g.opcode, h.opcode);
          assert_int_equal(g.masked, h.masked);
          assert_true(g.payload_len == h.payload_len);
          if (masked) assert_memory_equal(g.mask, h.mask, 4);
        }
      }
    }
  }
}

static void test_header_wire_bytes(void **state) {
  (void)state;
  /* RFC 6455 §5.7 examples: unmasked "Hello", masked "Hello", 256-byte and 64 KiB binary. */
  uint8_t buf[AZR__WS_MAX_HEADER];
  struct azr__ws_frame_header h = {.fin = true, .opcode = AZR__WS_TEXT, .payload_len = 5};
  assert_int_equal(azr__ws_frame_write_header(buf, &h), 2);
  assert_memory_equal(buf, "\x81\x05", 2);
  h.masked = true;
  memcpy(h.mask, "\x37\xfa\x21\x3d", 4);
  assert_int_equal(azr__ws_frame_write_header(buf, &h), 6);
  assert_memory_equal(buf, "\x81\x85\x37\xfa\x21\x3d", 6);
  uint8_t hello[] = "Hello";
  azr__ws_mask(hello, 5, h.mask, 0);
  assert_memory_equal(hello, "\x7f\x9f\x4d\x51\x58", 5);
  struct azr__ws_frame_header b = {.fin = true, .opcode = AZR__WS_BINARY, .payload_len = 256};
  assert_int_equal(azr__ws_frame_write_header(buf, &b), 4);
  assert_memory_equal(buf, "\x82\x7e\x01\x00", 4);
  b.payload_len = 65536;
  assert_int_equal(azr__ws_frame_write_header(buf, &b), 10);
  assert_memory_equal(buf, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
  struct azr__ws_frame_header g;
  assert_int_equal(azr__ws_frame_parse_header((const uint8_t *)"\x89\x05Hello", 7, 0, &g), 2);
  assert_int_equal(g.opcode, AZR__WS_PING);
  assert_true(g.fin && !g.masked && g.payload_len == 5);
}

static void test_control_frames_parse(void **state) {
  (void)state;
  static const uint8_t ops[] = {AZR__WS_CLOSE, AZR__WS_PING, AZR__WS_PONG};
  for (size_t i = 0; i < 3; i++) {
    for (uint64_t len = 0; len <= 125; len += 25) {
      struct azr__ws_frame_header h = {.fin = true, .opcode = ops[i], .masked = true, .payload_len = len};
      uint8_t buf[AZR__WS_MAX_HEADER];
      size_t n = azr__ws_frame_write_header(buf, &h);
      struct azr__ws_frame_header g;
      assert_int_equal(azr__ws_frame_parse_header(buf, n, 0, &g), (int)n);
      assert_int_equal(g.opcode, ops[i]);
    }
  }
}

static void expect_invalid(const char *bytes, size_t len, uint8_t allowed_rsv) {
  struct azr__ws_frame_header g;
  assert_int_equal(azr__ws_frame_parse_header((const uint8_t *)bytes, len, allowed_rsv, &g), -1);
}

static void test_invalid_headers(void **state) {
  (void)state;
  /* Reserved opcodes, refused as soon as the first two bytes are there. */
  static const uint8_t reserved[] = {3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf};
  for (size_t i = 0; i < sizeof reserved; i++) {
    char b[2] = {(char)(0x80 | reserved[i]), 0x00};
    expect_invalid(b, 2, 7);
  }
  /* Control frames: payload over 125 (both extended forms) or FIN clear. */
  expect_invalid("\x89\x7e\x00\x7e", 4, 0);
  expect_invalid("\x89\x7e", 2, 0);
  expect_invalid("\x88\x7f", 2, 0);
  expect_invalid("\x09\x00", 2, 0);
  expect_invalid("\x08\x02\x03\xe8", 4, 0);
  expect_invalid("\x0a\x00", 2, 0);
  /* Non-minimal lengths. */
  expect_invalid("\x82\x7e\x00\x00", 4, 0);
  expect_invalid("\x82\x7e\x00\x7d", 4, 0);
  expect_invalid("\x82\x7f\x00\x00\x00\x00\x00\x00\x00\x7d", 10, 0);
  expect_invalid("\x82\x7f\x00\x00\x00\x00\x00\x00\xff\xff", 10, 0);
  /* 64-bit length with the most significant bit set. */
  expect_invalid("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10, 0);
  expect_invalid("\x82\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x02\x03\x04", 14, 0);
  /* RSV bits outside the allowed set. */
  expect_invalid("\xc2\x00", 2, 0);
  expect_invalid("\xa2\x00", 2, 0);
  expect_invalid("\x92\x00", 2, 0);
  expect_invalid("\xf2\x00", 2, 6);
  struct azr__ws_frame_header g;
  assert_int_equal(azr__ws_frame_parse_header((const uint8_t *)"\xc2\x00", 2, 4, &g), 2);
  assert_int_equal(g.rsv, 4);
  /* Minimal boundaries are fine. */
  assert_int_equal(azr__ws_frame_parse_header((const uint8_t *)"\x82\x7e\x00\x7e", 4, 0, &g), 4);
  assert_true(g.payload_len == 126);
  assert_int_equal(
      azr__ws_frame_parse_header((const uint8_t *)"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10, 0, &g), 10);
  assert_true(g.payload_len == 65536);
  assert_int_equal(azr__ws_frame_parse_header((const uint8_t *)"\x82", 1, 0, &g), 0);
  assert_int_equal(azr__ws_frame_parse_header(NULL, 0, 0, &g), 0);
}

static void test_mask_matches_byte_loop(void **state) {
  (void)state;
  static const uint8_t mask[4] = {0xa5, 0x5a, 0x01, 0xfe};
  uint8_t src[128], a[140], b[140], c[140];
  for (size_t i = 0; i < sizeof src; i++) src[i] = (uint8_t)(i * 37 + 11);
  for (size_t align = 0; align < 8; align++) {
    for (uint64_t offset = 0; offset < 8; offset++) {
      for (size_t len = 0; len <= 100; len++) {
        memcpy(a + align, src, len);
        memcpy(b, src, len);
        naive_mask(b, len, mask, offset);
        azr__ws_mask(a + align, len, mask, offset);
        assert_memory_equal(a + align, b, len);
        memset(c, 0, sizeof c);
        azr__ws_mask_copy(c + (7 - align), src, len, mask, offset);
        assert_memory_equal(c + (7 - align), b, len);
        /* Masking twice restores the input. */
        azr__ws_mask(a + align, len, mask, offset);
        assert_memory_equal(a + align, src, len);
      }
    }
  }
}

static void test_mask_large_and_in_pieces(void **state) {
  (void)state;
  const size_t n = 300007;
  uint8_t *src = malloc(n), *a = malloc(n + 8), *b = malloc(n);
  assert_non_null(src);
  assert_non_null(a);
  assert_non_null(b);
  for (size_t i = 0; i < n; i++) src[i] = (uint8_t)(i ^ (i >> 8));
  static const uint8_t mask[4] = {1, 2, 4, 8};
  memcpy(b, src, n);
  naive_mask(b, n, mask, 0);
  for (size_t align = 0; align < 8; align += 3) {
    memcpy(a + align, src, n);
    azr__ws_mask(a + align, n, mask, 0);
    assert_memory_equal(a + align, b, n);
  }
  /* The same payload unmasked in uneven pieces, each with its offset in the frame. */
  memcpy(a, src, n);
  size_t off = 0, step = 1;
  while (off < n) {
    size_t len = step < n - off ? step : n - off;
    azr__ws_mask(a + off, len, mask, off);
    off += len;
    step = step * 3 + 1;
  }
  assert_memory_equal(a, b, n);
  /* Offsets beyond 32 bits keep the phase. */
  memcpy(a, src, 64);
  memcpy(b, src, 64);
  azr__ws_mask(a, 64, mask, (1ull << 40) + 3);
  naive_mask(b, 64, mask, 3);
  assert_memory_equal(a, b, 64);
  free(src);
  free(a);
  free(b);
}

static void test_close_payload_parse(void **state) {
  (void)state;
  uint16_t code = 0;
  const uint8_t *reason;
  size_t rlen = 99;
  assert_true(azr__ws_close_payload_parse(NULL, 0, &code, &reason, &rlen));
  assert_int_equal(code, 1005);
  assert_int_equal(rlen, 0);
  assert_false(azr__ws_close_payload_parse((const uint8_t *)"\x03", 1, &code, &reason, &rlen));
  assert_true(azr__ws_close_payload_parse((const uint8_t *)"\x03\xe8" "bye", 5, &code, &reason, &rlen));
  assert_int_equal(code, 1000);
  assert_int_equal(rlen, 3);
  assert_memory_equal(reason, "bye", 3);
  assert_true(azr__ws_close_payload_parse((const uint8_t *)"\x0f\xa0\xc3\xa9", 4, &code, &reason, &rlen));
  assert_int_equal(code, 4000);
  /* Not UTF-8, or cut inside a character. */
  assert_false(azr__ws_close_payload_parse((const uint8_t *)"\x03\xe8\xff", 3, &code, &reason, &rlen));
  assert_false(azr__ws_close_payload_parse((const uint8_t *)"\x03\xe8\xc3", 3, &code, &reason, &rlen));
  static const uint16_t good[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000,
                                  3999, 4000, 4999};
  static const uint16_t bad[] = {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    uint8_t p[2] = {(uint8_t)(good[i] >> 8), (uint8_t)good[i]};
    assert_true(azr__ws_close_payload_parse(p, 2, &code, &reason, &rlen));
    assert_int_equal(code, good[i]);
    assert_true(azr__ws_close_code_valid(good[i]));
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t p[2] = {(uint8_t)(bad[i] >> 8), (uint8_t)bad[i]};
    assert_false(azr__ws_close_payload_parse(p, 2, &code, &reason, &rlen));
    assert_false(azr__ws_close_code_valid(bad[i]));
  }
}

static void test_close_payload_write(void **state) {
  (void)state;
  uint8_t out[125];
  assert_int_equal(azr__ws_close_payload_write(out, 0, "ignored"), 0);
  assert_int_equal(azr__ws_close_payload_write(out, 1005, "ignored"), 0);
  assert_int_equal(azr__ws_close_payload_write(out, 1000, NULL), 2);
  assert_memory_equal(out, "\x03\xe8", 2);
  assert_int_equal(azr__ws_close_payload_write(out, 1001, "going away"), 12);
  assert_memory_equal(out, "\x03\xe9going away", 12);
  /* 122 ASCII bytes and a two-byte character: 124 bytes do not fit in 123, the character goes. */
  char reason[200];
  memset(reason, 'a', 122);
  memcpy(reason + 122, "\xc3\xa9", 3);
  size_t n = azr__ws_close_payload_write(out, 1000, reason);
  assert_int_equal(n, 124);
  uint16_t code;
  const uint8_t *r;
  size_t rlen;
  assert_true(azr__ws_close_payload_parse(out, n, &code, &r, &rlen));
  assert_int_equal(rlen, 122);
  /* Long ASCII is cut at exactly 123 bytes. */
  memset(reason, 'b', 199);
  reason[199] = 0;
  assert_int_equal(azr__ws_close_payload_write(out, 3000, reason), 125);
  /* A reason that is not UTF-8 is dropped. */
  assert_int_equal(azr__ws_close_payload_write(out, 1011, "bad \xff"), 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_header_round_trip_all_length_classes),
      cmocka_unit_test(test_header_wire_bytes),
      cmocka_unit_test(test_control_frames_parse),
      cmocka_unit_test(test_invalid_headers),
      cmocka_unit_test(test_mask_matches_byte_loop),
      cmocka_unit_test(test_mask_large_and_in_pieces),
      cmocka_unit_test(test_close_payload_parse),
      cmocka_unit_test(test_close_payload_write),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
