/* SPDX-License-Identifier: MIT */
/* A counting allocator for failure sweeps: fails the allocation numbered `countdown` and tracks how
 * many blocks are live, so a test can prove every failure path frees what it allocated. */
#ifndef AZR_TEST_FAILMEM_H
#define AZR_TEST_FAILMEM_H

#include "util/mem.h"

struct failmem {
  int countdown; /* the allocation that fails (0 = the first); negative = none */
  int live;      /* blocks allocated and not freed */
};

/* An allocator whose user data is f. */
struct azr__mem failmem_allocator(struct failmem *f);

#endif
