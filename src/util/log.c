/* SPDX-License-Identifier: MIT */
/* Log formatting and secret redaction. */
#include "util/log.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Markers after which a secret value starts, and how it ends. */
struct secret_marker {
  const char *prefix;  /* matched case-insensitively */
  const char *stop;    /* characters that end the secret */
};

static const struct secret_marker markers[] = {
    {"sig=", "&\"' \r\n;,"},
    {"sig%3d", "&\"' \r\n;,"},
    {"sharedaccesskey=", ";\"' \r\n"},
    {"sharedaccesssignature=", ";\"\r\n"},
    {"sb-hc-token=", "&\"' \r\n"},
    {"servicebusauthorization: ", "\r\n\""},
    {"servicebusauthorization\":\"", "\""},
    {"proxy-authorization: ", "\r\n\""},
    {"authorization: ", "\r\n\""},
    {"\"token\":\"", "\""},
    {"\"key\":\"", "\""},
};

int azr__redact(struct azr__buf *out, const char *text) {
  azr__buf_reset(out);
  const char *p = text;
  while (*p) {
    const struct secret_marker *hit = NULL;
    size_t plen = 0;
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
      size_t n = strlen(markers[i].prefix);
      if (strncasecmp(p, markers[i].prefix, n) == 0) {
        hit = &markers[i];
        plen = n;
        break;
      }
    }
    if (!hit) {
      int rc = azr__buf_append_byte(out, (uint8_t)*p++);
      if (rc) return rc;
      continue;
    }
    int rc = azr__buf_append(out, p, plen);
    if (rc) return rc;
    p += plen;
    size_t secret = strcspn(p, hit->stop);
    if (secret) {
      rc = azr__buf_append_str(out, "***");
      if (rc) return rc;
    }
    p += secret;
  }
  return AZR_OK;
}

void azr__log_write(const struct azr__log *lg, int level, const char *category, const char *fmt, ...) {
  if (!azr__log_enabled(lg, level)) return;
  char raw[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(raw, sizeof raw, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof raw) memcpy(raw + sizeof raw - 4, "...", 4);
  /* Control characters from peers would garble a terminal or a log file. */
  for (char *c = raw; *c; c++)
    if ((unsigned char)*c < 0x20 && *c != '\t') *c = ' ';
  struct azr__buf red;
  azr__buf_init(&red, NULL, 0);
  if (azr__redact(&red, raw) == AZR_OK) lg->fn(level, category, azr__buf_cstr(&red), lg->ud);
  azr__buf_free(&red);
}
