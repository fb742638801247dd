/* SPDX-License-Identifier: MIT */
/* Counting, failing allocator for tests. */
#include "failmem.h"

#include <stdlib.h>

static void *fm_malloc(size_t n, void *ud) {
  struct failmem *f = ud;
  if (f->countdown-- == 0) return NULL;
  f->live++;
  return malloc(n);
}

static void *fm_realloc(void *p, size_t n, void *ud) {
  struct failmem *f = ud;
  if (f->countdown-- == 0) return NULL;
  if (!p) f->live++;
  return realloc(p, n);
}

static void fm_free(void *p, void *ud) {
  struct failmem *f = ud;
  if (p) f->live--;
  free(p);
}

struct azr__mem failmem_allocator(struct failmem *f) {
  struct azr__mem m = {fm_malloc, fm_realloc, fm_free, f};
  return m;
}
