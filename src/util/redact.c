/* SPDX-License-Identifier: MIT */
/* Secret redaction (see redact.h): find a secret's name, recognise which form follows it, and hide
 * the value up to where that form ends it. */
#include "util/redact.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "azrelay/common.h"

static const char *const secret_names[] = {
    "proxy-authorization", "servicebusauthorization", "authorization", "set-cookie", "cookie", "sb-hc-token",
    "sharedaccesssignature", "sharedaccesskey", "password", "token", "sig", "key",
};

static bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Length of the secret name starting at p (at a word start), or 0. Longer names come first in the
 * table, and the name must end at a non-name character. */
static size_t match_name(const char *text, const char *p) {
  if (p > text && name_char(p[-1])) return 0;
  for (size_t i = 0; i < sizeof secret_names / sizeof *secret_names; i++) {
    size_t n = strlen(secret_names[i]);
    if (strncasecmp(p, secret_names[i], n) == 0 && !name_char(p[n])) return n;
  }
  return 0;
}

static const char *skip_blanks(const char *p) {
  while (*p == ' ' || *p == '\t') p++;
  return p;
}

/* "; Next-Header:" ends a header value in a joined head; a cookie's "; name=value" does not. */
static bool joined_header_starts(const char *p) {
  if (p[0] != ';' || p[1] != ' ') return false;
  const char *q = p + 2;
  while (name_char(*q)) q++;
  return q > p + 2 && q[0] == ':' && q[1] == ' ';
}

/* Where the value starting at v ends, for each form; *quoted says the value was a JSON string. */
static const char *value_end(const char *v, char form, bool escaped_quote) {
  const char *p = v;
  switch (form) {
  case '"': /* JSON string: up to the closing (possibly escaped) quote */
    while (*p) {
      if (escaped_quote ? (p[0] == '\\' && p[1] == '"') : (p[0] == '"')) break;
      if (!escaped_quote && p[0] == '\\' && p[1]) p++;
      p++;
    }
    return p;
  case ':': /* header */
    while (*p && *p != '\r' && *p != '\n' && *p != '"' && !joined_header_starts(p)) p++;
    return p;
  default: /* = */
    return p + strcspn(p, "&;,'\" \t\r\n");
  }
}

int azr__redact(struct azr__buf *out, const char *text) {
  azr__buf_reset(out);
  const char *p = text;
  while (*p) {
    size_t n = name_char(*p) ? match_name(text, p) : 0;
    if (!n) {
      /* Copy up to the next word start in one go. */
      const char *q = p + 1;
      while (*q && !(name_char(*q) && !name_char(q[-1]))) q++;
      int rc = azr__buf_append(out, p, (size_t)(q - p));
      if (rc) return rc;
      p = q;
      continue;
    }
    /* name [closing quote] [blanks] separator [blanks] [opening quote] value */
    const char *q = p + n;
    bool escaped = false, json = false;
    if (q[0] == '\\' && q[1] == '"') {
      escaped = json = true;
      q += 2;
    } else if (q[0] == '"') {
      json = true;
      q++;
    }
    q = skip_blanks(q);
    char form = 0;
    if (*q == ':') {
      form = ':';
      q = skip_blanks(q + 1);
    } else if (*q == '=') {
      form = '=';
      q++;
    } else if (strncasecmp(q, "%3d", 3) == 0) {
      form = '=';
      q += 3;
    }
    if (form && json) {
      /* A JSON member only when its value is a string. */
      if (escaped && q[0] == '\\' && q[1] == '"') q += 2;
      else if (!escaped && q[0] == '"') q++;
      else form = 0;
      if (form) form = '"';
    }
    if (!form) {
      int rc = azr__buf_append(out, p, n);
      if (rc) return rc;
      p += n;
      continue;
    }
    int rc = azr__buf_append(out, p, (size_t)(q - p));
    if (rc) return rc;
    const char *end = value_end(q, form, escaped);
    if (end > q && (rc = azr__buf_append_str(out, "***")) != AZR_OK) return rc;
    p = end;
  }
  return AZR_OK;
}
