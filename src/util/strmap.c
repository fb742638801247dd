/* SPDX-License-Identifier: MIT */
/* Chained string hash map. */
#include "util/strmap.h"

#include <stdint.h>
#include <string.h>

#include "azrelay/common.h"

struct azr__strmap_entry {
  struct azr__strmap_entry *next;
  uint64_t hash;
  void *value;
  char key[];
};

static uint64_t hash_key(const char *k) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *k; k++) h = (h ^ (uint8_t)*k) * 1099511628211ull;
  return h;
}

void azr__strmap_init(struct azr__strmap *m, const struct azr__mem *mem) {
  memset(m, 0, sizeof *m);
  m->mem = mem ? mem : azr__mem_default();
}

void azr__strmap_free(struct azr__strmap *m) {
  for (size_t i = 0; i < m->bucket_count; i++) {
    struct azr__strmap_entry *e = m->buckets[i];
    while (e) {
      struct azr__strmap_entry *n = e->next;
      azr__free(m->mem, e);
      e = n;
    }
  }
  azr__free(m->mem, m->buckets);
  m->buckets = NULL;
  m->bucket_count = m->count = 0;
}

static int grow(struct azr__strmap *m) {
  size_t n = m->bucket_count ? m->bucket_count * 2 : 64;
  struct azr__strmap_entry **b = azr__calloc(m->mem, n, sizeof *b);
  if (!b) return AZR_E_NOMEM;
  for (size_t i = 0; i < m->bucket_count; i++) {
    struct azr__strmap_entry *e = m->buckets[i];
    while (e) {
      struct azr__strmap_entry *next = e->next;
      size_t j = (size_t)(e->hash & (n - 1));
      e->next = b[j];
      b[j] = e;
      e = next;
    }
  }
  azr__free(m->mem, m->buckets);
  m->buckets = b;
  m->bucket_count = n;
  return AZR_OK;
}

int azr__strmap_put(struct azr__strmap *m, const char *key, void *value) {
  if (m->count + 1 > m->bucket_count * 3 / 4) {
    int rc = grow(m);
    if (rc) return rc;
  }
  uint64_t h = hash_key(key);
  size_t i = (size_t)(h & (m->bucket_count - 1));
  for (struct azr__strmap_entry *e = m->buckets[i]; e; e = e->next)
    if (e->hash == h && strcmp(e->key, key) == 0) {
      e->value = value;
      return AZR_OK;
    }
  size_t klen = strlen(key);
  struct azr__strmap_entry *e = azr__malloc(m->mem, sizeof *e + klen + 1);
  if (!e) return AZR_E_NOMEM;
  e->hash = h;
  e->value = value;
  memcpy(e->key, key, klen + 1);
  e->next = m->buckets[i];
  m->buckets[i] = e;
  m->count++;
  return AZR_OK;
}

void *azr__strmap_get(const struct azr__strmap *m, const char *key) {
  if (!m->bucket_count) return NULL;
  uint64_t h = hash_key(key);
  for (struct azr__strmap_entry *e = m->buckets[h & (m->bucket_count - 1)]; e; e = e->next)
    if (e->hash == h && strcmp(e->key, key) == 0) return e->value;
  return NULL;
}

void *azr__strmap_remove(struct azr__strmap *m, const char *key) {
  if (!m->bucket_count) return NULL;
  uint64_t h = hash_key(key);
  struct azr__strmap_entry **pp = &m->buckets[h & (m->bucket_count - 1)];
  for (; *pp; pp = &(*pp)->next) {
    struct azr__strmap_entry *e = *pp;
    if (e->hash == h && strcmp(e->key, key) == 0) {
      void *v = e->value;
      *pp = e->next;
      azr__free(m->mem, e);
      m->count--;
      return v;
    }
  }
  return NULL;
}
