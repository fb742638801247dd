/* SPDX-License-Identifier: MIT */
/* Validity of HTTP field names and values an application hands us (RFC 9110 section 5): what goes
 * into a response head must not be able to end the head early or start a new one. */
#ifndef AZR_PROTO_HTTP_FIELD_H
#define AZR_PROTO_HTTP_FIELD_H

#include <stdbool.h>
#include <stddef.h>

/* A field name: one or more token characters (letters, digits and !#$%&'*+-.^_`|~). */
bool azr__http_field_name_ok(const char *name, size_t len);
/* A field value or reason phrase: no control characters except horizontal tab (no CR, LF or NUL);
 * bytes 0x80 and up (obs-text, UTF-8) are allowed. */
bool azr__http_field_value_ok(const char *value, size_t len);

#endif
