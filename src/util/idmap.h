/* SPDX-License-Identifier: MIT */
/* Map from 64-bit ids (never 0) to objects owned elsewhere: open addressing with linear probing and
 * backward-shift deletion, so a lookup on the data path is a multiply, a mask and usually one
 * comparison (no formatting of the id, no string hashing). */
#ifndef AZR_UTIL_IDMAP_H
#define AZR_UTIL_IDMAP_H

#include <stddef.h>
#include <stdint.h>

#include "util/mem.h"

struct azr__idmap_slot {
  uint64_t key; /* 0 = empty */
  void *value;
};

struct azr__idmap {
  const struct azr__mem *mem;
  struct azr__idmap_slot *slots;
  size_t cap; /* a power of two, or 0 before the first put */
  size_t count;
};

void azr__idmap_init(struct azr__idmap *m, const struct azr__mem *mem);
void azr__idmap_free(struct azr__idmap *m);
/* Inserts or replaces. AZR_E_INVALID_ARG for key 0, AZR_E_NOMEM. */
int azr__idmap_put(struct azr__idmap *m, uint64_t key, void *value);
void *azr__idmap_get(const struct azr__idmap *m, uint64_t key);
/* Removes and returns the value (NULL if absent). */
void *azr__idmap_remove(struct azr__idmap *m, uint64_t key);

#endif
