/* SPDX-License-Identifier: MIT */
/* The load balancer in front of the service (§5.8, §9, §13.2 "Idle flows"): a TCP connection that
 * carries no byte either way for IdleTimeoutMs is cut. By default it is black-holed, as Azure's load
 * balancers do: nothing more reaches the peer (no close frame, no FIN, no reset) and what the peer
 * sends goes nowhere; with IdleTimeoutAction=reset both ends get a reset instead. The emulator's own
 * side of a black-holed flow reacts as the service does to a dead connection (docs/EMULATOR.md). */
#include <string.h>

#include "emulator/emulator_internal.h"
#include "util/clock.h"

/* A black-holed socket is held (read and discarded) until its peer gives up on it, or this long:
 * about when a Linux sender retransmitting into a black hole gives up (tcp_retries2 = 15). */
#define BLACK_HOLE_HOLD_MS (15u * 60u * 1000u)

struct emu_black_hole {
  struct emu_black_hole *prev, *next;
  azr_emulator *em;
  struct azr__stream *s;
  uv_timer_t hold;
};

/* ---- flows ---- */

void emu_flow_add(azr_emulator *em, struct emu_flow *f, struct azr__stream *s, struct azr__ws *ws,
                  void (*on_idle)(struct emu_flow *f, bool reset)) {
  if (f->listed) emu_flow_remove(em, f);
  f->s = s;
  f->ws = ws;
  f->on_idle = on_idle;
  f->seen_bytes = 0;
  f->active_ms = azr__now_ms();
  f->prev = NULL;
  f->next = em->flows;
  if (f->next) f->next->prev = f;
  em->flows = f;
  f->listed = true;
}

void emu_flow_remove(azr_emulator *em, struct emu_flow *f) {
  if (!f->listed) return;
  if (f->prev) f->prev->next = f->next;
  else em->flows = f->next;
  if (f->next) f->next->prev = f->prev;
  f->prev = f->next = NULL;
  f->listed = false;
}

/* Only bytes that crossed the socket count (frames of any opcode included, as a load balancer sees
 * packets); bytes waiting in our queue mean the peer's window is shut, which TCP keeps probing. */
static bool idle_for(struct emu_flow *f, uint64_t now, uint64_t limit_ms) {
  struct azr__stream *s = f->ws ? azr__ws_stream(f->ws) : f->s;
  if (!s) return false;
  uint64_t bytes = s->bytes_read + s->bytes_written;
  if (bytes != f->seen_bytes || azr__stream_queued(s) > 0) {
    f->seen_bytes = bytes;
    f->active_ms = now;
    return false;
  }
  return now - f->active_ms >= limit_ms;
}

static void on_sweep(uv_timer_t *t) {
  azr_emulator *em = t->data;
  uint64_t limit = em->settings.idle_timeout_ms;
  if (!limit) return;
  bool reset = em->settings.idle_timeout_action == EMU_IDLE_RESET;
  /* Cutting one flow may end others (a listener's pending HTTP requests): rescan after each cut. */
  for (;;) {
    uint64_t now = azr__now_ms();
    struct emu_flow *victim = NULL;
    for (struct emu_flow *f = em->flows; f && !victim; f = f->next)
      if (idle_for(f, now, limit)) victim = f;
    if (!victim) break;
    emu_flow_remove(em, victim);
    victim->on_idle(victim, reset);
  }
  emu_idle_start(em);
}

void emu_idle_start(azr_emulator *em) {
  uint64_t limit = em->settings.idle_timeout_ms;
  if (!em->started || !limit) {
    uv_timer_stop(&em->idle_sweep);
    return;
  }
  /* Cut within an eighth of the limit of the moment it passed; at least every second. */
  uint64_t every = limit / 8;
  if (every < 10) every = 10;
  if (every > 1000) every = 1000;
  uv_timer_start(&em->idle_sweep, on_sweep, every, 0);
}

/* ---- black holes ---- */

static void on_hold_closed(uv_handle_t *h) {
  struct emu_black_hole *b = h->data;
  azr__free(b->em->mem, b);
}

static void release(struct emu_black_hole *b) {
  azr_emulator *em = b->em;
  if (b->s) azr__stream_close(b->s, AZR__CLOSE_ABORT);
  b->s = NULL;
  if (b->prev) b->prev->next = b->next;
  else em->black_holes = b->next;
  if (b->next) b->next->prev = b->prev;
  emu_relay_connections_changed(em, -1);
  uv_timer_stop(&b->hold);
  uv_close((uv_handle_t *)&b->hold, on_hold_closed);
}

static void bh_read(struct azr__stream *s, uint8_t *data, size_t len) {
  (void)s;
  (void)data;
  (void)len; /* goes nowhere */
}

/* The peer gave up (FIN or reset): nothing was told to it, and now nothing needs to be. */
static void bh_end(struct azr__stream *s, int status) {
  (void)status;
  release(s->owner);
}

static const struct azr__stream_callbacks black_hole_cb = {NULL, bh_read, bh_end, NULL};

static void on_hold(uv_timer_t *t) { release(t->data); }

void emu_black_hole_take(azr_emulator *em, struct azr__stream *s) {
  struct emu_black_hole *b = azr__calloc(em->mem, 1, sizeof *b);
  if (!b) {
    azr__stream_close(s, AZR__CLOSE_ABORT);
    return;
  }
  b->em = em;
  b->s = s;
  azr__stream_set_owner(s, &black_hole_cb, b);
  azr__stream_resume(s); /* read and discard, so the peer's writes are taken and lost */
  uv_timer_init(&em->loop, &b->hold);
  b->hold.data = b;
  uv_timer_start(&b->hold, on_hold, BLACK_HOLE_HOLD_MS, 0);
  b->next = em->black_holes;
  if (b->next) b->next->prev = b;
  em->black_holes = b;
  emu_relay_connections_changed(em, +1); /* it still holds a descriptor */
}

void emu_idle_cut_stream(azr_emulator *em, struct azr__stream *s, bool reset) {
  if (!s) return;
  if (reset) azr__stream_close(s, AZR__CLOSE_ABORT);
  else emu_black_hole_take(em, s);
}

void emu_idle_close_all(azr_emulator *em) {
  uv_timer_stop(&em->idle_sweep);
  while (em->black_holes) release(em->black_holes);
  while (em->flows) emu_flow_remove(em, em->flows);
}
