/* SPDX-License-Identifier: MIT */
/* Bounded loop runs and loop teardown. */
#include "io/loop.h"

static void on_deadline(uv_timer_t *t) { uv_stop(t->loop); }

void azr__loop_run(uv_loop_t *loop, int timeout_ms, const bool *stop) {
  if (timeout_ms == 0) {
    uv_run(loop, UV_RUN_NOWAIT);
    return;
  }
  uv_timer_t deadline;
  if (timeout_ms > 0) {
    uv_timer_init(loop, &deadline);
    uv_timer_start(&deadline, on_deadline, (uint64_t)timeout_ms, 0);
  }
  while (!*stop) {
    int alive = uv_run(loop, UV_RUN_DEFAULT);
    if (timeout_ms > 0 || !alive) break;
  }
  if (timeout_ms > 0) {
    uv_timer_stop(&deadline);
    uv_close((uv_handle_t *)&deadline, NULL);
    uv_run(loop, UV_RUN_NOWAIT); /* the stack timer's close callback must run before we return */
  }
}

static void close_one(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

void azr__loop_close_all(uv_loop_t *loop) {
  uv_run(loop, UV_RUN_NOWAIT);
  uv_walk(loop, close_one, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
}
