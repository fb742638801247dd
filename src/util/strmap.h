/* SPDX-License-Identifier: MIT */
/* String-keyed hash map (chained, grows by doubling) mapping ids to objects owned elsewhere. */
#ifndef AZR_UTIL_STRMAP_H
#define AZR_UTIL_STRMAP_H

#include <stddef.h>

#include "util/mem.h"

struct azr__strmap_entry;

struct azr__strmap {
  const struct azr__mem *mem;
  struct azr__strmap_entry **buckets;
  size_t bucket_count;
  size_t count;
};

void azr__strmap_init(struct azr__strmap *m, const struct azr__mem *mem);
void azr__strmap_free(struct azr__strmap *m);
/* Inserts or replaces; the key is copied. AZR_E_NOMEM. */
int azr__strmap_put(struct azr__strmap *m, const char *key, void *value);
void *azr__strmap_get(const struct azr__strmap *m, const char *key);
/* Removes and returns the value (NULL if absent). */
void *azr__strmap_remove(struct azr__strmap *m, const char *key);

#endif
