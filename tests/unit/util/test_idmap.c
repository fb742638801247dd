/* SPDX-License-Identifier: MIT */
/* The id map against a plain array model: random puts, gets and removes across growth, with
 * sequential ids (the listener's) and colliding ones (forced by a small table). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "azrelay/common.h"
#include "util/idmap.h"

#define N 5000

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void test_against_model(void **state) {
  (void)state;
  static void *model[N + 1];
  struct azr__idmap m;
  azr__idmap_init(&m, NULL);
  size_t live = 0;
  for (int step = 0; step < 200000; step++) {
    uint64_t key = 1 + rnd() % N;
    void *value = (void *)(uintptr_t)(rnd() | 1);
    switch (rnd() % 3) {
    case 0:
      assert_int_equal(azr__idmap_put(&m, key, value), AZR_OK);
      if (!model[key]) live++;
      model[key] = value;
      break;
    case 1:
      assert_ptr_equal(azr__idmap_get(&m, key), model[key]);
      break;
    default:
      assert_ptr_equal(azr__idmap_remove(&m, key), model[key]);
      if (model[key]) live--;
      model[key] = NULL;
    }
    assert_int_equal(m.count, live);
  }
  for (uint64_t k = 1; k <= N; k++) assert_ptr_equal(azr__idmap_get(&m, k), model[k]);
  azr__idmap_free(&m);
}

/* The listener's pattern: ids only grow, old ones go away. */
static void test_sequential_ids(void **state) {
  (void)state;
  struct azr__idmap m;
  azr__idmap_init(&m, NULL);
  for (uint64_t id = 1; id <= 100000; id++) {
    assert_int_equal(azr__idmap_put(&m, id, (void *)(uintptr_t)id), AZR_OK);
    if (id > 100) assert_ptr_equal(azr__idmap_remove(&m, id - 100), (void *)(uintptr_t)(id - 100));
  }
  assert_int_equal(m.count, 100);
  assert_true(m.cap <= 256); /* removals keep the table small */
  for (uint64_t id = 99901; id <= 100000; id++) assert_ptr_equal(azr__idmap_get(&m, id), (void *)(uintptr_t)id);
  assert_null(azr__idmap_get(&m, 99900));
  assert_int_equal(azr__idmap_put(&m, 0, &m), AZR_E_INVALID_ARG);
  assert_null(azr__idmap_get(&m, 0));
  assert_null(azr__idmap_remove(&m, 0));
  azr__idmap_free(&m);
  assert_null(azr__idmap_get(&m, 5));
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_against_model), cmocka_unit_test(test_sequential_ids)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
