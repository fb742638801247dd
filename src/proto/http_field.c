/* SPDX-License-Identifier: MIT */
#include "proto/http_field.h"

#include <string.h>

bool azr__http_field_name_ok(const char *name, size_t len) {
  if (!name || len == 0) return false;
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)name[i];
    bool alnum = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
    if (!alnum && (ch == 0 || !strchr("!#$%&'*+-.^_`|~", ch))) return false;
  }
  return true;
}

bool azr__http_field_value_ok(const char *value, size_t len) {
  if (!value) return len == 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)value[i];
    if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return false;
  }
  return true;
}
