/* SPDX-License-Identifier: MIT */
/* The emulator's JSON config file (namespace, rules, hybrid connections, settings) parsed into plain
 * structs; applying them to an emulator is the emulator's job. Format: docs/EMULATOR.md. */
#ifndef AZR_EMULATOR_CONFIG_FILE_H
#define AZR_EMULATOR_CONFIG_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/mem.h"

/* A config file is read whole; anything larger is refused (AZR_E_TOO_BIG). */
#define AZR__EMU_CONFIG_MAX (1024u * 1024u)

/* One SAS authorization rule. Keys are wiped when freed. */
struct azr__emu_rule_cfg {
  char *name;
  char *primary_key;
  char *secondary_key; /* NULL when absent */
  unsigned rights;     /* AZR_RIGHT_* bits (azrelay/emulator.h), at least one */
};

/* One hybrid connection and its own rules. */
struct azr__emu_hc_cfg {
  char *path; /* without leading or trailing '/' */
  bool requires_client_authorization; /* default true, as the service's */
  struct azr__emu_rule_cfg *rules;
  size_t rule_count;
};

struct azr__emu_config {
  char *namespace_host; /* NULL when absent */
  struct azr__emu_rule_cfg *rules; /* namespace-wide rules */
  size_t rule_count;
  struct azr__emu_hc_cfg *hcs;
  size_t hc_count;
  char **settings; /* "Name=Value", in file order; booleans as true/false */
  size_t setting_count;
};

/* Parses json[0..len) (UTF-8, an optional BOM) into *out, allocating through mem (NULL = libc).
 * On failure *out is left empty (nothing to free) and err receives "<where>: <what>", e.g.
 * "hybridConnections[1].rules[0]: missing 'primaryKey'".
 * Returns AZR_OK, AZR_E_PARSE (bad JSON or a member that breaks the format), AZR_E_TOO_BIG (input
 * over AZR__EMU_CONFIG_MAX, a key or name over its limit), AZR_E_NOMEM, AZR_E_INVALID_ARG (NULL out). */
int azr__emu_config_parse(const struct azr__mem *mem, const char *json, size_t len, struct azr__emu_config *out,
                          char *err, size_t err_len);

/* Reads and parses the file at path. AZR_E_FILE when it cannot be opened or read, else as
 * azr__emu_config_parse(). */
int azr__emu_config_load_file(const struct azr__mem *mem, const char *path, struct azr__emu_config *out, char *err,
                              size_t err_len);

/* Frees everything *c owns and empties it; NULL and an empty config are fine. */
void azr__emu_config_free(const struct azr__mem *mem, struct azr__emu_config *c);

#endif
