/* SPDX-License-Identifier: MIT */
/* Secret redaction for log lines. */
#ifndef AZR_UTIL_REDACT_H
#define AZR_UTIL_REDACT_H

#include "util/buf.h"

/* Copies text to out (reset first) with every secret value replaced by "***". A secret is the value
 * of one of these names, matched case-insensitively at a word start:
 *   Authorization, Proxy-Authorization, ServiceBusAuthorization, Cookie, Set-Cookie, sb-hc-token,
 *   sig, SharedAccessKey, SharedAccessSignature, token, key, password
 * in each of the forms a log line can carry it:
 *   header        Name: value             (to the end of the line, or to "; Other-Name:" when a
 *                                          trace joined a head's lines with "; ")
 *   JSON member   "Name" : "value"        (also with escaped quotes, \"Name\":\"value\")
 *   query, connection string   Name=value (to & ; , ' " blank or the end; %3D counts as =)
 * SAS tokens keep their sr=, se= and skn= parts; only sig= is hidden. */
int azr__redact(struct azr__buf *out, const char *text);

#endif
