/* SPDX-License-Identifier: MIT */
/* Lazy keep-alive timer (see keepalive.h). */
#include "io/keepalive.h"

static void on_tick(uv_timer_t *t);

void azr__keepalive_init(uv_loop_t *loop, struct azr__keepalive *ka, const struct azr__keepalive_callbacks *cb,
                         void *owner) {
  *ka = (struct azr__keepalive){0};
  uv_timer_init(loop, &ka->timer);
  ka->timer.data = ka;
  ka->cb = *cb;
  ka->owner = owner;
}

/* Next wake-up: the moment a frame is due, or a probe's deadline, whichever comes first. */
static void arm(struct azr__keepalive *ka, uint64_t now) {
  uint64_t due = ka->last_tx_ms + ka->interval_ms;
  if (ka->probe_sent_ms && ka->reply_timeout_ms && !ka->suspended) {
    uint64_t deadline = ka->probe_sent_ms + ka->reply_timeout_ms;
    if (deadline < due) due = deadline;
  }
  uv_timer_start(&ka->timer, on_tick, due > now ? due - now : 0, 0);
}

void azr__keepalive_start(struct azr__keepalive *ka, uint32_t interval_ms, uint32_t reply_timeout_ms) {
  ka->interval_ms = interval_ms;
  ka->reply_timeout_ms = reply_timeout_ms;
  ka->probe_sent_ms = 0;
  ka->running = interval_ms > 0;
  if (!ka->running) {
    uv_timer_stop(&ka->timer);
    return;
  }
  uint64_t now = uv_now(ka->timer.loop);
  ka->last_tx_ms = ka->last_rx_ms = now;
  arm(ka, now);
}

void azr__keepalive_stop(struct azr__keepalive *ka) {
  ka->running = false;
  uv_timer_stop(&ka->timer);
}

void azr__keepalive_suspend_replies(struct azr__keepalive *ka, bool suspended) {
  if (ka->suspended == suspended) return;
  ka->suspended = suspended;
  /* A deadline restarts after a pause: bytes the peer sent meanwhile wait unread in our buffers. */
  if (!suspended && ka->probe_sent_ms) ka->probe_sent_ms = uv_now(ka->timer.loop);
  if (ka->running) arm(ka, uv_now(ka->timer.loop));
}

void azr__keepalive_close(struct azr__keepalive *ka, uv_close_cb done) {
  ka->running = false;
  uv_timer_stop(&ka->timer);
  ka->timer.data = ka->owner; /* owners share one close callback for all their timers */
  uv_close((uv_handle_t *)&ka->timer, done);
}

static void on_tick(uv_timer_t *t) {
  struct azr__keepalive *ka = t->data;
  if (!ka->running) return;
  uint64_t now = uv_now(t->loop);
  if (ka->probe_sent_ms && ka->reply_timeout_ms && !ka->suspended &&
      now - ka->probe_sent_ms >= ka->reply_timeout_ms) {
    ka->running = false;
    ka->cb.expired(ka);
    return;
  }
  if (now - ka->last_tx_ms >= ka->interval_ms) {
    bool probe = ka->reply_timeout_ms > 0;
    /* One probe at a time: its deadline, not a newer probe, decides. */
    if (probe && !ka->probe_sent_ms) ka->probe_sent_ms = now;
    ka->last_tx_ms = now; /* the owner's send normally notes this too; a failed send must not spin */
    ka->cb.send(ka, probe);
    if (!ka->running) return;
  }
  arm(ka, now);
}
