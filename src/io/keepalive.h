/* SPDX-License-Identifier: MIT */
/* Keep-alive for one connection: after `interval_ms` without sending, ask the owner to send a frame
 * (so no middlebox between us and the relay ever sees the flow idle), and, when `reply_timeout_ms` is
 * set, report the peer dead if nothing at all arrives within that long after such a frame. One timer
 * per connection, re-armed lazily: noting traffic costs a store, not a timer update.
 *
 * Times come from the loop's cached clock (uv_now), which is what the timer runs on. */
#ifndef AZR_IO_KEEPALIVE_H
#define AZR_IO_KEEPALIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct azr__keepalive;

struct azr__keepalive_callbacks {
  /* Send the keep-alive frame now (probe: a reply is expected). */
  void (*send)(struct azr__keepalive *ka, bool probe);
  /* reply_timeout_ms passed after a probe without any input: the peer is gone. */
  void (*expired)(struct azr__keepalive *ka);
};

struct azr__keepalive {
  uv_timer_t timer;
  uint32_t interval_ms;      /* 0 = off */
  uint32_t reply_timeout_ms; /* 0 = do not expect replies */
  uint64_t last_tx_ms, last_rx_ms;
  uint64_t probe_sent_ms;    /* 0 = no probe outstanding */
  bool running, suspended;
  struct azr__keepalive_callbacks cb;
  void *owner;
};

/* Initializes the timer handle (close it with azr__keepalive_close). */
void azr__keepalive_init(uv_loop_t *loop, struct azr__keepalive *ka, const struct azr__keepalive_callbacks *cb,
                         void *owner);
/* Starts (or restarts) with the given periods; interval_ms 0 leaves it stopped. */
void azr__keepalive_start(struct azr__keepalive *ka, uint32_t interval_ms, uint32_t reply_timeout_ms);
void azr__keepalive_stop(struct azr__keepalive *ka);
/* Reading is paused by the owner: no input can arrive, so no reply deadline runs meanwhile. */
void azr__keepalive_suspend_replies(struct azr__keepalive *ka, bool suspended);
/* Closes the timer; `done` receives it with handle->data set to the owner. */
void azr__keepalive_close(struct azr__keepalive *ka, uv_close_cb done);

static inline void azr__keepalive_sent(struct azr__keepalive *ka) {
  if (ka->running) ka->last_tx_ms = uv_now(ka->timer.loop);
}
static inline void azr__keepalive_received(struct azr__keepalive *ka) {
  if (ka->running) {
    ka->last_rx_ms = uv_now(ka->timer.loop);
    ka->probe_sent_ms = 0;
  }
}

#endif
