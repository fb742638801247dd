/* SPDX-License-Identifier: MIT */
/* Base64 and URL percent-encoding, as the SAS token and URL rules of the protocol need them. */
#ifndef AZR_UTIL_ENCODING_H
#define AZR_UTIL_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Standard base64 with padding. */
int azr__base64_encode(struct azr__buf *out, const uint8_t *data, size_t len);
/* Decodes standard base64 (padding optional); AZR_E_PARSE on any other character. */
int azr__base64_decode(struct azr__buf *out, const char *text, size_t len);

/* Percent-encodes every byte outside RFC 3986 "unreserved" (A-Z a-z 0-9 - _ . ~) with upper-case
 * hex; space becomes %20 (encodeURIComponent style, minus its extra safe set). */
int azr__url_encode(struct azr__buf *out, const char *s, size_t len);
/* Decodes %XX escapes (either hex case). With `plus_is_space`, '+' becomes ' ' (form encoding).
 * AZR_E_PARSE on a truncated or non-hex escape. */
int azr__url_decode(struct azr__buf *out, const char *s, size_t len, bool plus_is_space);

/* Lower-case hex of data. */
int azr__hex_encode(struct azr__buf *out, const uint8_t *data, size_t len);
/* The value of one hex digit (either case), or -1. */
int azr__hex_digit(char c);

#endif
