/* SPDX-License-Identifier: MIT */
/* Log formatting; every line goes through the redactor (util/redact.c). */
#include "util/log.h"

#include <stdio.h>
#include <string.h>

#include "util/redact.h"

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
