/* SPDX-License-Identifier: MIT */
/* Id map (see idmap.h). Kept at most 3/4 full, so probe runs stay short. */
#include "util/idmap.h"

#include <stdbool.h>
#include <string.h>

#include "azrelay/common.h"

/* Fibonacci hashing: ids are sequential, the multiply spreads them over the table. */
static size_t home(const struct azr__idmap *m, uint64_t key) {
  return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (m->cap - 1);
}

void azr__idmap_init(struct azr__idmap *m, const struct azr__mem *mem) {
  memset(m, 0, sizeof *m);
  m->mem = mem;
}

void azr__idmap_free(struct azr__idmap *m) {
  azr__free(m->mem, m->slots);
  m->slots = NULL;
  m->cap = m->count = 0;
}

static int grow(struct azr__idmap *m) {
  size_t cap = m->cap ? m->cap * 2 : 16;
  struct azr__idmap_slot *slots = azr__calloc(m->mem, cap, sizeof *slots);
  if (!slots) return AZR_E_NOMEM;
  struct azr__idmap old = *m;
  m->slots = slots;
  m->cap = cap;
  for (size_t i = 0; i < old.cap; i++) {
    if (!old.slots[i].key) continue;
    size_t j = home(m, old.slots[i].key);
    while (m->slots[j].key) j = (j + 1) & (cap - 1);
    m->slots[j] = old.slots[i];
  }
  azr__free(m->mem, old.slots);
  return AZR_OK;
}

int azr__idmap_put(struct azr__idmap *m, uint64_t key, void *value) {
  if (!key) return AZR_E_INVALID_ARG;
  if ((m->count + 1) * 4 > m->cap * 3) {
    int rc = grow(m);
    if (rc) return rc;
  }
  size_t i = home(m, key);
  while (m->slots[i].key && m->slots[i].key != key) i = (i + 1) & (m->cap - 1);
  if (!m->slots[i].key) m->count++;
  m->slots[i].key = key;
  m->slots[i].value = value;
  return AZR_OK;
}

void *azr__idmap_get(const struct azr__idmap *m, uint64_t key) {
  if (!key || !m->cap) return NULL;
  for (size_t i = home(m, key); m->slots[i].key; i = (i + 1) & (m->cap - 1))
    if (m->slots[i].key == key) return m->slots[i].value;
  return NULL;
}

void *azr__idmap_remove(struct azr__idmap *m, uint64_t key) {
  if (!key || !m->cap) return NULL;
  size_t i = home(m, key);
  while (m->slots[i].key != key) {
    if (!m->slots[i].key) return NULL;
    i = (i + 1) & (m->cap - 1);
  }
  void *value = m->slots[i].value;
  m->count--;
  /* Backward shift: move later entries of the run into the hole when their home allows it. */
  size_t hole = i;
  for (size_t j = (i + 1) & (m->cap - 1); m->slots[j].key; j = (j + 1) & (m->cap - 1)) {
    size_t h = home(m, m->slots[j].key);
    /* j's entry may fill the hole unless its home lies cyclically in (hole, j]. */
    bool stays = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
    if (stays) continue;
    m->slots[hole] = m->slots[j];
    hole = j;
  }
  m->slots[hole].key = 0;
  m->slots[hole].value = NULL;
  return value;
}
