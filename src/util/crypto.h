/* SPDX-License-Identifier: MIT */
/* The one util file that uses OpenSSL: hashes, HMAC and secure random bytes, declared without any
 * OpenSSL type so that proto/ can call them and still compile without OpenSSL's headers (checked by
 * test_layering). sas.c alone takes its HMAC as a function pointer, so token signing and checking can
 * be driven by the fuzzer and the emulator alike. */
#ifndef AZR_UTIL_CRYPTO_H
#define AZR_UTIL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* HMAC-SHA256 of msg under key; 0 on success. Matches azr__hmac_sha256_fn in proto/sas.h. */
int azr__hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len, uint8_t out[32]);
void azr__sha1(const uint8_t *data, size_t len, uint8_t out[20]);
void azr__sha256(const uint8_t *data, size_t len, uint8_t out[32]);
/* Cryptographically secure random bytes; 0 on success. */
int azr__random_bytes(uint8_t *out, size_t len);
/* A random RFC 4122 version-4 GUID, lower-case, 36 characters + NUL. */
int azr__guid(char out[37]);
/* Constant-time comparison; 1 when equal. */
int azr__secure_equal(const void *a, const void *b, size_t len);

#endif
