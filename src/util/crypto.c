/* SPDX-License-Identifier: MIT */
/* Hashes, HMAC and random bytes over OpenSSL 3. */
#include "util/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>

int azr__hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len, uint8_t out[32]) {
  unsigned int out_len = 0;
  if (key_len > 0x7fffffff) return -1;
  if (!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &out_len) || out_len != 32) return -1;
  return 0;
}

void azr__sha1(const uint8_t *data, size_t len, uint8_t out[20]) { SHA1(data, len, out); }

void azr__sha256(const uint8_t *data, size_t len, uint8_t out[32]) { SHA256(data, len, out); }

int azr__random_bytes(uint8_t *out, size_t len) {
  if (len > 0x7fffffff) return -1;
  return RAND_bytes(out, (int)len) == 1 ? 0 : -1;
}

int azr__guid(char out[37]) {
  uint8_t b[16];
  if (azr__random_bytes(b, sizeof b)) return -1;
  b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
  b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
           b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return 0;
}

int azr__secure_equal(const void *a, const void *b, size_t len) { return CRYPTO_memcmp(a, b, len) == 0; }
