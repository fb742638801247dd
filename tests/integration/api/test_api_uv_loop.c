/* SPDX-License-Identifier: MIT */
/* Listeners and clients on the application's own libuv loop (azrelay/uv.h): they run, and freeing
 * them leaves nothing behind on that loop, also while connections are open or still closing. Run
 * under valgrind (the _valgrind variant) and ASan, which see the memory errors these guard. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "azrelay/uv.h"
#include "harness.h"

static int teardown(void **state) {
  h_world_free(*state);
  *state = NULL;
  return 0;
}

/* A listener on the application's loop goes online and echoes; freed, it leaves no handle behind:
 * the application's loop ends and closes (a listener freed while its timers were still closing
 * once made the next uv_run write to freed memory; valgrind shows it, ASan does not). */
static void test_application_loop(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  static uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  w->uv = &loop;
  struct h_listener *hl = h_listener_new_on_uv(w, true);
  hl->echo = true;
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  h_connect_pair(hl, hc);
  assert_int_equal(azr_client_send(hc->c, AZR_DATA_TEXT, "on uv", 5, true), AZR_OK);
  H_WAIT(w, hc->in.msgs == 1, 3000);
  assert_memory_equal(hc->in.bytes, "on uv", 5);
  /* With the connection closed first (else see the next test). */
  assert_int_equal(azr_client_close(hc->c, 1000, "done"), AZR_OK);
  H_WAIT(w, hl->n_conn_disc == 1 && hc->n_close == 1, 3000);
  h_client_free(hc);
  h_listener_free(hl); /* runs the application loop until the handles are closed */
  w->uv = NULL;
  assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&loop), 0);
}

/* uv.h: "After azr_listener_free() the application keeps running the loop until the listener's
 * handles have closed", also with a connection open: its last callbacks must not read the freed
 * listener (they once did: ASan heap-use-after-free, SIGSEGV without it). */
static void test_free_on_application_loop_with_open_connection(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  static uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  w->uv = &loop;
  struct h_listener *hl = h_listener_new_on_uv(w, true);
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new(w);
  h_connect_pair(hl, hc);
  h_listener_free(hl); /* runs the application loop until the handles are closed */
  w->uv = NULL;
  assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&loop), 0);
}

/* A client freed on the application's loop right after its close, while its connection is still
 * finishing (our FIN sent, waiting for the peer's): releasing the connection later must not use
 * the freed client's libcurl state (it once did: ASan heap-use-after-free). */
static void test_client_free_while_its_connection_closes(void **state) {
  struct h_world *w = *state = h_world_new(false, NULL);
  static uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  w->uv = &loop;
  struct h_listener *hl = h_listener_new(w, true);
  hl->echo = true;
  h_listener_start_online(hl);
  struct h_client *hc = h_client_new_on_uv(w);
  azr_conn_id id = h_connect_pair(hl, hc);
  assert_int_equal(azr_client_send(hc->c, AZR_DATA_TEXT, "bye", 3, true), AZR_OK);
  H_WAIT(w, hc->in.msgs == 1, 3000);
  /* The listener closes; the client answers the Close, reports it, and then waits for the relay
   * to end the TCP connection, which the paused relay does not do yet. */
  assert_int_equal(azr_conn_close(hl->l, id, 1000, "done"), AZR_OK);
  H_WAIT(w, hc->n_close == 1, 3000);
  w->em_paused = true;
  h_client_free(hc); /* the connection is still closing */
  h_pump_for(w, 300);
  w->em_paused = false; /* now the close completes and the connection is released */
  h_pump_for(w, 1500);
  h_listener_free(hl);
  w->uv = NULL;
  for (int i = 0; i < 100 && uv_loop_alive(&loop); i++) uv_run(&loop, UV_RUN_NOWAIT), usleep(20000);
  assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_application_loop, teardown),
      cmocka_unit_test_teardown(test_free_on_application_loop_with_open_connection, teardown),
      cmocka_unit_test_teardown(test_client_free_while_its_connection_closes, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
