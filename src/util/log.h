/* SPDX-License-Identifier: MIT */
/* Per-handle logging: the level is checked before any formatting, and every message is redacted
 * before it reaches the application's sink, so secrets cannot leak through any log call. */
#ifndef AZR_UTIL_LOG_H
#define AZR_UTIL_LOG_H

#include <stdarg.h>

#include "azrelay/common.h"
#include "util/buf.h"
#include "util/redact.h"

struct azr__log {
  azr_log_fn fn;
  void *ud;
  int level; /* messages above this level are dropped */
};

#define azr__log_enabled(lg, lvl) ((lg) && (lg)->fn && (lvl) <= (lg)->level)

void azr__log_write(const struct azr__log *lg, int level, const char *category, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Logs only when enabled; arguments are not evaluated otherwise. */
#define AZR_LOG(lg, lvl, cat, ...)                                                                       \
  do {                                                                                                    \
    if (azr__log_enabled((lg), (lvl))) azr__log_write((lg), (lvl), (cat), __VA_ARGS__);                   \
  } while (0)

#endif
