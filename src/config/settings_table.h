/* SPDX-License-Identifier: MIT */
/* Read-only view of the listener settings table (settings.c): one descriptor per property and
 * config setting of the reference plus azrelay's own, for help texts, docs and tests. */
#ifndef AZR_CONFIG_SETTINGS_TABLE_H
#define AZR_CONFIG_SETTINGS_TABLE_H

#include <stddef.h>
#include <stdint.h>

enum azr__setting_type {
  AZR__SETTING_BOOL,   /* true/false/1/0/yes/no (any case); reads back "true" or "false" */
  AZR__SETTING_INT,    /* decimal within [min, max] */
  AZR__SETTING_INT64,  /* decimal within [min, max] */
  AZR__SETTING_ENUM,   /* one of the numbers listed in `values` */
  AZR__SETTING_FLAGS,  /* 32-bit mask, decimal or 0x-hex; reads back in decimal */
  AZR__SETTING_STRING  /* UTF-8 text of at most `max` bytes */
};

enum {
  AZR__SETTING_PROPERTY = 1u << 0,            /* a property of the reference (else a config setting) */
  AZR__SETTING_OURS = 1u << 1,                /* azrelay's own, not in the reference */
  AZR__SETTING_SECRET = 1u << 2,              /* reads back ""; wiped when freed */
  AZR__SETTING_READ_ONLY = 1u << 3,           /* a result, not settable */
  AZR__SETTING_NO_CHANGE_LISTENING = 1u << 4, /* AZR_E_BAD_STATE (108 for MaxConnections) while listening */
  AZR__SETTING_NOT_APPLICABLE = 1u << 5,      /* AZR_E_UNSUPPORTED; `description` says why */
  AZR__SETTING_HANDLED_BY_LISTENER = 1u << 6, /* live state the listener answers itself: the
                                                 table functions return AZR_E_NOT_FOUND */
  AZR__SETTING_INDEXED = 1u << 7,             /* per connection: "Name[ConnectionId]" */
  AZR__SETTING_MULTILINE = 1u << 8            /* text may contain line breaks (PEM) */
};

struct azr__setting_desc {
  const char *name;          /* as the reference spells it; matched case-insensitively */
  enum azr__setting_type type;
  unsigned flags;            /* AZR__SETTING_* bits */
  size_t offset;             /* field in struct azr__listener_settings, SIZE_MAX when none */
  int64_t min, max;          /* numbers: bounds; strings: max = longest value in bytes */
  /* What azr__settings_get reports before any change. For a not-applicable setting: the value
   * describing what azrelay does anyway, which setting accepts as a no-op (NULL: none). */
  const char *default_text;
  const char *values;        /* enums: "0 none, 1 tunnel, ..."; NULL otherwise */
  const char *description;   /* one line; for a not-applicable setting, the reason */
};

size_t azr__settings_count(void);
/* The i-th descriptor (i < azr__settings_count()), in the reference's order then ours; NULL past the end. */
const struct azr__setting_desc *azr__settings_at(size_t i);
/* Case-insensitive lookup of a name (surrounding blanks ignored); NULL when unknown. */
const struct azr__setting_desc *azr__settings_find(const char *name, size_t name_len);

#endif
