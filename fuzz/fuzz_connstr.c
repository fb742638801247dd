/* SPDX-License-Identifier: MIT */
/* Fuzzes connection-string parsing: errors never echo the key, and what parses formats and re-parses to
 * the same values; the public wrapper agrees with the internal parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "azrelay/token.h"
#include "proto/connstr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The value after the last "SharedAccessKey=", if it is long and not letters-only (a letters-only value
 * may legitimately be quoted as an unknown key name elsewhere in the text). */
static bool key_value(const char *text, char *out, size_t cap) {
  const char *p = NULL;
  for (const char *q = strstr(text, "SharedAccessKey="); q; q = strstr(q + 1, "SharedAccessKey=")) p = q;
  if (!p) return false;
  p += strlen("SharedAccessKey=");
  size_t n = strcspn(p, "; \t\r\n\v\f");
  if (n < 12 || n >= cap) return false;
  bool letters_only = true;
  for (size_t i = 0; i < n; i++)
    if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z'))) letters_only = false;
  memcpy(out, p, n);
  out[n] = 0;
  return !letters_only;
}

static bool same(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;

  struct azr__connstr c;
  char err[256];
  int rc = azr__connstr_parse(NULL, text, &c, err, sizeof err);
  azr_connection_string *pub = NULL;
  int prc = azr_connection_string_parse(text, &pub, NULL, 0);
  if (prc != rc || (rc == AZR_OK) != (pub != NULL)) abort();
  azr_connection_string_free(pub);

  if (rc != AZR_OK) {
    if (rc != AZR_E_BAD_CONNSTR || !err[0] || c.host || c.key) abort();
    char key[300];
    if (key_value(text, key, sizeof key) && strstr(err, key)) abort(); /* a secret in the message */
  } else {
    if (!c.host || !*c.host || !c.endpoint) abort();
    if ((c.key != NULL) != (c.key_name != NULL) || (c.key != NULL) == (c.sas != NULL)) abort();
    if (c.key) {
      struct azr__buf b;
      azr__buf_init(&b, NULL, 0);
      if (azr__connstr_format(&b, c.host, c.port, c.key_name, c.key, c.entity_path, c.use_development_emulator))
        abort();
      struct azr__connstr d;
      if (azr__connstr_parse(NULL, azr__buf_cstr(&b), &d, err, sizeof err) != AZR_OK) abort();
      if (!same(c.host, d.host) || c.port != d.port || !same(c.key_name, d.key_name) || !same(c.key, d.key) ||
          !same(c.entity_path, d.entity_path) || c.use_development_emulator != d.use_development_emulator)
        abort();
      azr__connstr_free(NULL, &d);
      azr__buf_free(&b);
    }
    azr__connstr_free(NULL, &c);
  }
  free(text);
  return 0;
}
