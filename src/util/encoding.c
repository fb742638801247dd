/* SPDX-License-Identifier: MIT */
/* Base64, percent-encoding and hex. */
#include "util/encoding.h"

#include "azrelay/common.h"

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int azr__base64_encode(struct azr__buf *out, const uint8_t *data, size_t len) {
  int rc = azr__buf_reserve(out, (len + 2) / 3 * 4);
  if (rc) return rc;
  char *o = (char *)out->data + out->len;
  size_t i = 0;
  for (; i + 2 < len; i += 3) {
    uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
    *o++ = b64chars[v >> 18 & 63];
    *o++ = b64chars[v >> 12 & 63];
    *o++ = b64chars[v >> 6 & 63];
    *o++ = b64chars[v & 63];
  }
  if (i < len) {
    uint32_t v = (uint32_t)data[i] << 16;
    if (i + 1 < len) v |= (uint32_t)data[i + 1] << 8;
    *o++ = b64chars[v >> 18 & 63];
    *o++ = b64chars[v >> 12 & 63];
    *o++ = i + 1 < len ? b64chars[v >> 6 & 63] : '=';
    *o++ = '=';
  }
  out->len = (size_t)((uint8_t *)o - out->data);
  out->data[out->len] = 0;
  return AZR_OK;
}

static int b64val(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int azr__base64_decode(struct azr__buf *out, const char *text, size_t len) {
  while (len && text[len - 1] == '=') len--;
  if (len % 4 == 1) return AZR_E_PARSE;
  int rc = azr__buf_reserve(out, len / 4 * 3 + 3);
  if (rc) return rc;
  size_t start = out->len;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; i++) {
    int v = b64val(text[i]);
    if (v < 0) {
      out->len = start;
      return AZR_E_PARSE;
    }
    acc = acc << 6 | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->data[out->len++] = (uint8_t)(acc >> bits);
    }
  }
  /* Bits left over must be zero, so every byte string has exactly one spelling (RFC 4648 §3.5). */
  if (acc & ((1u << bits) - 1)) {
    out->len = start;
    return AZR_E_PARSE;
  }
  out->data[out->len] = 0;
  return AZR_OK;
}

static bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

int azr__url_encode(struct azr__buf *out, const char *s, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    int rc;
    if (unreserved(c)) {
      rc = azr__buf_append_byte(out, c);
    } else {
      char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
      rc = azr__buf_append(out, esc, 3);
    }
    if (rc) return rc;
  }
  return AZR_OK;
}

int azr__hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int azr__url_decode(struct azr__buf *out, const char *s, size_t len, bool plus_is_space) {
  int rc = azr__buf_reserve(out, len);
  if (rc) return rc;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= len) return AZR_E_PARSE;
      int hi = azr__hex_digit(s[i + 1]), lo = azr__hex_digit(s[i + 2]);
      if (hi < 0 || lo < 0) return AZR_E_PARSE;
      out->data[out->len++] = (uint8_t)(hi << 4 | lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->data[out->len++] = ' ';
    } else {
      out->data[out->len++] = (uint8_t)c;
    }
  }
  out->data[out->len] = 0;
  return AZR_OK;
}

int azr__hex_encode(struct azr__buf *out, const uint8_t *data, size_t len) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    char h[2] = {hex[data[i] >> 4], hex[data[i] & 15]};
    int rc = azr__buf_append(out, h, 2);
    if (rc) return rc;
  }
  return AZR_OK;
}
