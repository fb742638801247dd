/* SPDX-License-Identifier: MIT */
/* Relayed connections (§6.6): frames from each leg are unmasked and passed on frame by frame with
 * opcode, FIN and RSV preserved and without buffering whole messages. Pings are answered per leg,
 * Close frames are forwarded, and an abortive loss of one leg aborts the other. A leg whose peer
 * stops reading pauses the opposite leg (whose data it would carry), so memory stays bounded; the
 * two directions are otherwise independent. */
#include <stdio.h>
#include <string.h>

#include "emulator/emulator_internal.h"
#include "proto/ws_frame.h"

struct splice_leg {
  struct azr__stream *s;
  struct emu_splice *sp;
  int index;
  /* frames arriving from this leg */
  uint8_t hdr[AZR__WS_MAX_HEADER];
  size_t hdr_len;
  bool in_payload;
  struct azr__ws_frame_header fh;
  uint64_t off;
  uint8_t ctrl[125];
  size_t ctrl_len;
  bool close_received;
  /* frames going to this leg */
  bool out_open;        /* a relayed data frame is only partly written */
  struct azr__buf held; /* control frames waiting for that frame to end */
  struct emu_flow flow;  /* IdleTimeoutMs: each leg is a connection of its own */
};

struct emu_splice {
  struct emu_splice *prev, *next;
  azr_emulator *em;
  struct splice_leg leg[2]; /* 0 = sender, 1 = listener */
  bool done;
  int busy; /* > 0 while relaying: finishing then waits to free */
};

/* Each leg's read batch gathers what it relays to the other into one write (stream cork_partner). */
static void link_legs(struct emu_splice *sp) {
  if (!sp->leg[0].s || !sp->leg[1].s) return;
  sp->leg[0].s->cork_partner = sp->leg[1].s;
  sp->leg[1].s->cork_partner = sp->leg[0].s;
}

static void unlink_legs(struct emu_splice *sp) {
  for (int i = 0; i < 2; i++)
    if (sp->leg[i].s) sp->leg[i].s->cork_partner = NULL;
}

static void splice_finish(struct emu_splice *sp, enum azr__stream_close_mode mode0, enum azr__stream_close_mode mode1) {
  if (sp->done) return;
  sp->done = true;
  azr_emulator *em = sp->em;
  unlink_legs(sp);
  for (int i = 0; i < 2; i++) {
    azr__emu_flow_remove(em, &sp->leg[i].flow);
    if (sp->leg[i].s) azr__stream_close(sp->leg[i].s, i == 0 ? mode0 : mode1);
    sp->leg[i].s = NULL;
    azr__buf_free(&sp->leg[i].held);
  }
  if (sp->prev) sp->prev->next = sp->next;
  else em->splices = sp->next;
  if (sp->next) sp->next->prev = sp->prev;
  azr__emu_relay_connections_changed(em, -1);
  if (!sp->busy) azr__free(em->mem, sp);
}

static void protocol_error(struct emu_splice *sp, int from, const char *what) {
  EMU_LOG(sp->em, AZR_LOG_INFO, "relayed connection: %s leg %s; closing both", from == 0 ? "sender" : "listener", what);
  splice_finish(sp, AZR__CLOSE_ABORT, AZR__CLOSE_ABORT);
}

static void leg_lost(struct splice_leg *leg, const char *how);

/* A write fails when the leg's peer is gone (the stream would report that from the loop) or when its
 * queue cannot grow (out of memory; its 64 MiB cap is far above the high-water mark at which
 * update_reading stops feeding it). Either way the bytes are lost mid-stream, so the leg ends now,
 * as its loss would end it (leg_lost), rather than carry on with a hole in its frames. A leg without
 * a stream was black-holed (leg_idle): what is sent for it is lost on purpose. Callers run inside
 * relay_bytes (sp->busy), so the splice outlives this call even when it finishes. */
static void write_to(struct splice_leg *to, const void *a, size_t alen, const void *b, size_t blen) {
  if (!to->s) return;
  int rc = azr__stream_write2(to->s, a, alen, b, blen);
  if (rc == AZR_OK) return;
  char how[80];
  snprintf(how, sizeof how, "could not be written to: %s", azr_status_name(rc));
  leg_lost(to, how);
}

/* A control frame for a leg that has a relayed data frame open waits in `held` until that frame
 * ends (frame_closed_on). Only pongs ever wait: a leg's Close is read after its own frames ended, so
 * none is open towards the other leg then. `held` is capped (64 KiB) against a peer that keeps
 * pinging while the other leg's frame stays open; past the cap its newest pongs are dropped. */
static void write_control(struct splice_leg *to, uint8_t opcode, const uint8_t *payload, size_t len) {
  uint8_t frame[AZR__WS_MAX_HEADER + 125];
  struct azr__ws_frame_header h = {.fin = true, .opcode = opcode, .payload_len = len};
  size_t hl = azr__ws_frame_write_header(frame, &h);
  memcpy(frame + hl, payload, len);
  if (to->out_open) (void)azr__buf_append(&to->held, frame, hl + len);
  else write_to(to, frame, hl + len, NULL, 0);
}

static void frame_closed_on(struct splice_leg *to) {
  to->out_open = false;
  if (to->held.len) {
    write_to(to, to->held.data, to->held.len, NULL, 0);
    azr__buf_reset(&to->held);
  }
}

static void handle_control(struct emu_splice *sp, struct splice_leg *from, struct splice_leg *to) {
  switch (from->fh.opcode) {
  case AZR__WS_PING:
    /* A peer that pings without reading gets no more pongs once its queue is full: they could only
     * pile up, and reading it must not stop (update_reading). */
    if (from->s && azr__stream_queued(from->s) < from->s->high_water)
      write_control(from, AZR__WS_PONG, from->ctrl, from->ctrl_len);
    break;
  case AZR__WS_CLOSE:
    from->close_received = true;
    write_control(to, AZR__WS_CLOSE, from->ctrl, from->ctrl_len);
    if (to->close_received) splice_finish(sp, AZR__CLOSE_FLUSH, AZR__CLOSE_FLUSH);
    break;
  default: /* Pong: per-leg keep-alive, not forwarded */
    break;
  }
}

/* A leg is read only while the other leg's queue, which its data feeds, is below its high-water
 * mark; on_drain reads again. Its own queue does not pause it: a peer that echoes stops reading
 * while its own output is held up, and a relay that then stopped reading that peer too would
 * deadlock both directions (a listener echoing 16 MiB did, one run in 25 under load). Its pongs are
 * dropped instead when its queue is full (handle_control). */
static void update_reading(struct splice_leg *leg) {
  struct splice_leg *other = &leg->sp->leg[1 - leg->index];
  if (!leg->s) return;
  bool full = other->s && azr__stream_queued(other->s) >= other->s->high_water;
  if (full) azr__stream_pause(leg->s);
  else azr__stream_resume(leg->s);
}

static void relay_bytes(struct emu_splice *sp, int i, uint8_t *data, size_t len) {
  struct splice_leg *from = &sp->leg[i], *to = &sp->leg[1 - i];
  while (len > 0 && !sp->done) {
    if (from->close_received) return; /* nothing may follow a Close */
    if (!from->in_payload) {
      size_t prev = from->hdr_len;
      size_t take = AZR__WS_MAX_HEADER - prev < len ? AZR__WS_MAX_HEADER - prev : len;
      memcpy(from->hdr + prev, data, take);
      from->hdr_len = prev + take;
      int r = azr__ws_frame_parse_header(from->hdr, from->hdr_len, 7, &from->fh);
      if (r < 0) {
        protocol_error(sp, i, "sent an invalid frame header");
        return;
      }
      if (r == 0) return; /* all of data went into hdr */
      size_t used = (size_t)r - prev;
      data += used;
      len -= used;
      from->hdr_len = 0;
      if (!from->fh.masked) {
        protocol_error(sp, i, "sent an unmasked frame");
        return;
      }
      from->in_payload = true;
      from->off = 0;
      from->ctrl_len = 0;
      if (!azr__ws_is_control(from->fh.opcode)) {
        struct azr__ws_frame_header out = from->fh;
        out.masked = false;
        uint8_t oh[AZR__WS_MAX_HEADER];
        size_t ohl = azr__ws_frame_write_header(oh, &out);
        if (to->out_open) {
          protocol_error(sp, i, "interleaved frames"); /* cannot happen: frames are sequential per leg */
          return;
        }
        write_to(to, oh, ohl, NULL, 0);
        to->out_open = from->fh.payload_len > 0;
      }
    } else {
      uint64_t left = from->fh.payload_len - from->off;
      size_t chunk = left < len ? (size_t)left : len;
      if (!azr__ws_is_control(from->fh.opcode)) {
        azr__ws_mask(data, chunk, from->fh.mask, from->off);
        write_to(to, data, chunk, NULL, 0);
      } else {
        azr__ws_mask_copy(from->ctrl + from->ctrl_len, data, chunk, from->fh.mask, from->off);
        from->ctrl_len += chunk;
      }
      from->off += chunk;
      data += chunk;
      len -= chunk;
    }
    if (from->in_payload && from->off == from->fh.payload_len) {
      from->in_payload = false;
      if (azr__ws_is_control(from->fh.opcode)) handle_control(sp, from, to);
      else frame_closed_on(to);
    }
  }
}

static struct splice_leg *leg_of(struct azr__stream *s) { return s->owner; }

static void relay_guarded(struct emu_splice *sp, int i, uint8_t *data, size_t len) {
  sp->busy++;
  /* Everything this read produces for the other leg goes out in one write. Inside a read batch
   * both legs are corked already (the stream corks itself and its cork_partner) until it ends. */
  struct azr__stream *to = sp->leg[1 - i].s, *from = sp->leg[i].s;
  bool cork_to = to && !to->corked, cork_from = from && !from->corked;
  if (cork_to) azr__stream_cork(to);
  if (cork_from) azr__stream_cork(from); /* pongs answered on the same leg */
  relay_bytes(sp, i, data, len);
  if (!sp->done) {
    if (cork_to && sp->leg[1 - i].s) azr__stream_uncork(sp->leg[1 - i].s);
    if (cork_from && sp->leg[i].s) azr__stream_uncork(sp->leg[i].s);
    update_reading(&sp->leg[i]);
    update_reading(&sp->leg[1 - i]);
  }
  if (--sp->busy == 0 && sp->done) azr__free(sp->em->mem, sp);
}

static void leg_read(struct azr__stream *s, uint8_t *data, size_t len) {
  struct splice_leg *leg = leg_of(s);
  relay_guarded(leg->sp, leg->index, data, len);
}

/* The leg is gone (its peer went away, or a write to it failed). A leg that said Close before
 * going away ended cleanly: let the other finish its handshake by flushing; otherwise the loss is
 * abortive and the other leg is reset (§6.6). */
static void leg_lost(struct splice_leg *leg, const char *how) {
  struct emu_splice *sp = leg->sp;
  if (sp->done) return;
  enum azr__stream_close_mode other_mode = leg->close_received ? AZR__CLOSE_FLUSH : AZR__CLOSE_ABORT;
  EMU_LOG(sp->em, AZR_LOG_VERBOSE, "relayed connection: %s leg %s (%s)", leg->index == 0 ? "sender" : "listener", how,
          leg->close_received ? "after close" : "abortive");
  if (leg->index == 0) splice_finish(sp, AZR__CLOSE_ABORT, other_mode);
  else splice_finish(sp, other_mode, AZR__CLOSE_ABORT);
}

static void leg_end(struct azr__stream *s, int status) {
  (void)status;
  leg_lost(leg_of(s), "ended");
}

static void leg_drain(struct azr__stream *s) {
  struct splice_leg *leg = leg_of(s);
  update_reading(leg);
  update_reading(&leg->sp->leg[1 - leg->index]);
}

static const struct azr__stream_callbacks leg_cb = {NULL, leg_read, leg_end, leg_drain};

/* The load balancer cut one leg (idle.c). Reset: an abortive loss, the other leg is reset too
 * (§6.6). Black hole: the service does not notice; what the other leg sends for it is lost (write_to
 * drops it: the leg has no stream), and the other leg lives on until its own peer or its own idle cut
 * ends it. If the cut leg was in the middle of a data frame for the other, that frame never ends:
 * the other leg's pongs wait behind it in `held` (a control frame cannot go inside a data frame) and
 * are never sent, the newest dropped once `held` is full. */
static void leg_idle(struct emu_flow *flow, bool reset) {
  struct splice_leg *leg = EMU_CONTAINER(flow, struct splice_leg, flow);
  struct emu_splice *sp = leg->sp;
  EMU_LOG(sp->em, AZR_LOG_VERBOSE, "relayed connection: %s leg idle for %u ms: %s", leg->index == 0 ? "sender" : "listener",
          (unsigned)sp->em->settings.idle_timeout_ms, reset ? "reset" : "black-holed");
  if (reset || !leg->s) {
    splice_finish(sp, AZR__CLOSE_ABORT, AZR__CLOSE_ABORT);
    return;
  }
  unlink_legs(sp);
  azr__emu_black_hole_take(sp->em, leg->s);
  leg->s = NULL;
  struct splice_leg *other = &sp->leg[1 - leg->index];
  if (!other->s) splice_finish(sp, AZR__CLOSE_ABORT, AZR__CLOSE_ABORT);
  else update_reading(other);
}

int azr__emu_splice_start(azr_emulator *em, struct azr__stream *sender, struct azr__stream *listener,
                     const uint8_t *sender_early, size_t sender_early_len, const uint8_t *listener_early,
                     size_t listener_early_len) {
  struct emu_splice *sp = azr__calloc(em->mem, 1, sizeof *sp);
  if (!sp) return AZR_E_NOMEM;
  sp->em = em;
  struct azr__stream *streams[2] = {sender, listener};
  for (int i = 0; i < 2; i++) {
    sp->leg[i].s = streams[i];
    sp->leg[i].sp = sp;
    sp->leg[i].index = i;
    azr__buf_init(&sp->leg[i].held, em->mem, 64 * 1024);
    azr__stream_set_owner(streams[i], &leg_cb, &sp->leg[i]);
    azr__emu_flow_add(em, &sp->leg[i].flow, streams[i], NULL, leg_idle);
  }
  link_legs(sp);
  sp->next = em->splices;
  if (sp->next) sp->next->prev = sp;
  em->splices = sp;
  /* Early bytes are copies we own here, so relaying them in place is safe. */
  const uint8_t *early[2] = {sender_early, listener_early};
  size_t early_len[2] = {sender_early_len, listener_early_len};
  sp->busy++;
  for (int i = 0; i < 2 && !sp->done; i++) {
    if (!early_len[i]) continue;
    uint8_t *copy = azr__malloc(em->mem, early_len[i]);
    if (!copy) continue;
    memcpy(copy, early[i], early_len[i]);
    relay_bytes(sp, i, copy, early_len[i]);
    azr__free(em->mem, copy);
  }
  if (--sp->busy == 0 && sp->done) azr__free(em->mem, sp);
  return AZR_OK;
}

void azr__emu_splices_close_all(azr_emulator *em) {
  while (em->splices) splice_finish(em->splices, AZR__CLOSE_ABORT, AZR__CLOSE_ABORT);
}
