/* SPDX-License-Identifier: MIT */
/* The front door: every accepted connection reads one request head here, then is handed to the
 * part that serves it (control channel, sender, rendezvous, HTTP mode) or refused. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "emulator/emulator_internal.h"
#include "proto/ws_handshake.h"

struct emu_front {
  struct emu_front *prev, *next;
  azr_emulator *em;
  struct azr__stream *stream;
  struct azr__http1 *http; /* heap: http-parser keeps pointers into it, so it never moves */
  struct azr__http_head head;
  bool have_head;
  bool peer_handed_over; /* the pending slot went to an HTTP connection */
  struct azr__buf held;  /* bytes after a rendezvous head held back by RendezvousDelayMs */
  char peer[64];         /* the peer's address: its pending slot (azr__emu_peer_acquire) */
  uv_timer_t timer;
  struct emu_flow flow;  /* IdleTimeoutMs */
};

static void unlink_front(struct emu_front *f) {
  azr_emulator *em = f->em;
  if (f->prev) f->prev->next = f->next;
  else em->fronts = f->next;
  if (f->next) f->next->prev = f->prev;
  f->prev = f->next = NULL;
}

static void on_front_timer_closed(uv_handle_t *h) {
  struct emu_front *f = h->data;
  azr__free(f->em->mem, f);
}

/* Releases the front object; the stream must have been handed over or closed. */
static void front_done(struct emu_front *f) {
  unlink_front(f);
  azr__emu_flow_remove(f->em, &f->flow);
  azr__emu_relay_connections_changed(f->em, -1);
  if (!f->peer_handed_over) azr__emu_peer_release(f->em, f->peer);
  if (f->http) {
    azr__http1_free(f->http);
    azr__free(f->em->mem, f->http);
  }
  azr__http_head_free(&f->head);
  azr__buf_free(&f->held);
  uv_timer_stop(&f->timer);
  uv_close((uv_handle_t *)&f->timer, on_front_timer_closed);
}

static void front_refuse(struct emu_front *f, int status, const char *text) {
  azr__emu_reply_ws_error(f->em, f->stream, status, text, NULL, NULL);
  f->stream = NULL;
  front_done(f);
}

static int on_head(void *ud, struct azr__http_head *head) {
  struct emu_front *f = ud;
  f->head = *head;
  memset(head, 0, sizeof *head);
  f->have_head = true;
  return 1;
}

static void dispatch(struct emu_front *f, uint8_t *leftover, size_t leftover_len) {
  azr_emulator *em = f->em;
  struct azr__http_head *head = &f->head;
  struct azr__hc_target target;
  if (azr__hc_target_parse(head->target, &target) != AZR_OK) {
    front_refuse(f, 400, "The request target is malformed.");
    return;
  }
  struct azr__stream *s = f->stream;
  EMU_LOG(em, AZR_LOG_DEBUG, "%s:%u %.*s %.*s", s->peer_addr, s->peer_port, (int)head->method.len, head->method.ptr,
          (int)head->target.len, head->target.ptr);
  if (target.is_hc) {
    char err[160];
    if (azr__ws_server_check_request(head, err, sizeof err) != 0) {
      char text[200];
      snprintf(text, sizeof text, "Bad WebSocket upgrade request: %s.", err);
      front_refuse(f, 400, text);
      return;
    }
    /* The handler owns the stream and a copy of the head from here on. */
    struct azr__http_head h = *head;
    memset(head, 0, sizeof *head);
    f->stream = NULL;
    front_done(f);
    switch (target.action) {
    case AZR__HC_ACTION_LISTEN:
      if (azr__emu_is_gateway(em))
        azr__emu_reply_ws_error(em, s, 404, "This is a gateway: listeners connect to the home (HomeAddress).", NULL,
                                NULL);
      else
        azr__emu_control_listen(em, s, &h, &target, leftover, leftover_len);
      break;
    case AZR__HC_ACTION_NONE:
    case AZR__HC_ACTION_CONNECT: {
      struct azr__span suffix;
      struct emu_entity *e = azr__emu_entity_match(em, target.path, &suffix);
      if (!e) azr__emu_reply_ws_error(em, s, 404, "Endpoint does not exist.", NULL, NULL);
      else azr__emu_sender_connect(em, s, &h, &target, e, suffix);
      break;
    }
    case AZR__HC_ACTION_ACCEPT:
      azr__emu_sender_rendezvous(em, s, &h, &target, leftover, leftover_len);
      break;
    case AZR__HC_ACTION_REQUEST:
      azr__emu_http_rendezvous(em, s, &h, &target, leftover, leftover_len);
      break;
    default:
      azr__emu_reply_ws_error(em, s, 400, "The sb-hc-action value is not recognized.", NULL, NULL);
      break;
    }
    azr__http_head_free(&h);
    return;
  }
  /* HTTP mode: https://ns/{hc}[/suffix][?query] */
  struct azr__span suffix;
  struct emu_entity *e = azr__emu_entity_match(em, target.path, &suffix);
  if (!e) {
    azr__emu_reply_http_error(em, s, 404, "EndpointNotFound", "Endpoint does not exist.", NULL, NULL, false);
    f->stream = NULL;
    front_done(f);
    return;
  }
  if (azr__emu_is_gateway(em)) {
    /* HTTP requests travel on the listener's control channel, which only the home holds. */
    azr__emu_reply_http_error(em, s, 404, "EndpointNotFound", "This is a gateway: HTTP requests go to the home.", NULL,
                              e->path, false);
    f->stream = NULL;
    front_done(f);
    return;
  }
  if (head->upgrade) {
    azr__emu_reply_http_error(em, s, 400, "BadRequest", "WebSocket upgrades must use the $hc path.", NULL, e->path, false);
    f->stream = NULL;
    front_done(f);
    return;
  }
  struct azr__http1 *parser = f->http;
  struct azr__http_head h = *head;
  memset(head, 0, sizeof *head);
  f->http = NULL;
  f->stream = NULL;
  f->peer_handed_over = true;
  front_done(f);
  azr__emu_relay_connections_changed(em, +1); /* the HTTP connection keeps the front's place */
  azr__emu_http_request(em, s, parser, &h, e, suffix, leftover, leftover_len);
}

static bool is_rendezvous(const struct azr__http_head *head) {
  struct azr__hc_target t;
  return azr__hc_target_parse(head->target, &t) == AZR_OK && t.is_hc &&
         (t.action == AZR__HC_ACTION_ACCEPT || t.action == AZR__HC_ACTION_REQUEST);
}

static void on_rendezvous_due(uv_timer_t *t) {
  struct emu_front *f = t->data;
  struct azr__buf held = f->held; /* dispatch frees the front; the handlers copy what they keep */
  azr__buf_init(&f->held, f->em->mem, 0);
  azr__stream_resume(f->stream); /* reading goes on (from the loop) under the new owner */
  dispatch(f, held.data, held.len);
  azr__buf_free(&held);
}

static void st_read(struct azr__stream *s, uint8_t *data, size_t len) {
  struct emu_front *f = s->owner;
  long used = azr__http1_feed(f->http, data, len);
  if (used < 0) {
    bool too_big = strstr(f->http->error, "too large") != NULL;
    front_refuse(f, too_big ? 431 : 400, too_big ? "Request header fields too large." : "Malformed HTTP request.");
    return;
  }
  if (!f->have_head) return;
  if (f->em->settings.rendezvous_delay_ms && is_rendezvous(&f->head)) {
    /* RendezvousDelayMs (fault injection): the listener's rendezvous is answered that much later. */
    azr__stream_pause(s);
    if (azr__buf_append(&f->held, data + used, len - (size_t)used) != AZR_OK) {
      front_refuse(f, 400, "Too much data before the handshake completed.");
      return;
    }
    uv_timer_start(&f->timer, on_rendezvous_due, f->em->settings.rendezvous_delay_ms, 0);
    return;
  }
  dispatch(f, data + used, len - (size_t)used);
}

static void st_end(struct azr__stream *s, int status) {
  (void)status;
  struct emu_front *f = s->owner;
  azr__stream_close(s, AZR__CLOSE_ABORT);
  f->stream = NULL;
  front_done(f);
}

static void st_connect(struct azr__stream *s, int status, const char *detail) {
  struct emu_front *f = s->owner;
  if (status != AZR_OK) {
    EMU_LOG(f->em, AZR_LOG_VERBOSE, "connection from %s:%u failed: %s", s->peer_addr, s->peer_port, detail);
    azr__stream_close(s, AZR__CLOSE_ABORT);
    f->stream = NULL;
    front_done(f);
  }
}

static const struct azr__stream_callbacks front_cb = {st_connect, st_read, st_end, NULL};

static void on_head_timeout(uv_timer_t *t) {
  struct emu_front *f = t->data;
  if (f->stream) azr__stream_close(f->stream, AZR__CLOSE_ABORT);
  f->stream = NULL;
  front_done(f);
}

/* The peer's address as the stream names it (uv_ip4_name / uv_ip6_name). */
static void peer_address(int fd, char out[64]) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  out[0] = 0;
  if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0) return;
  if (ss.ss_family == AF_INET) uv_ip4_name((struct sockaddr_in *)&ss, out, 64);
  else if (ss.ss_family == AF_INET6) uv_ip6_name((struct sockaddr_in6 *)&ss, out, 64);
}

/* Drops a connection before it costs anything: a reset, so the peer knows at once. */
static void refuse_at_accept(azr_emulator *em, int fd, const char *peer, const char *why) {
  struct linger lg = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(fd);
  unsigned left_out;
  if (azr__emu_log_gate_open(&em->refusal_log, &left_out))
    EMU_LOG(em, AZR_LOG_INFO, "refused a connection from %s: %s (%u more refusals since the last report)", peer, why,
            left_out);
}

static void on_idle(struct emu_flow *flow, bool reset) {
  struct emu_front *f = EMU_CONTAINER(flow, struct emu_front, flow);
  azr__emu_idle_cut_stream(f->em, f->stream, reset);
  f->stream = NULL;
  front_done(f);
}

void azr__emu_front_accept(void *ud, int fd) {
  azr_emulator *em = ud;
  char peer[64];
  peer_address(fd, peer);
  /* A connection that has not said anything yet still holds a descriptor and buffers: it counts
   * against MaxConnections, and one address may hold only so many of them. */
  if (em->relay_connections >= em->settings.max_connections) {
    refuse_at_accept(em, fd, peer, "MaxConnections reached");
    return;
  }
  if (!azr__emu_peer_acquire(em, peer)) {
    refuse_at_accept(em, fd, peer, "MaxPendingConnectionsPerAddress reached");
    return;
  }
  struct emu_front *f = azr__calloc(em->mem, 1, sizeof *f);
  if (!f) {
    azr__emu_peer_release(em, peer);
    close(fd);
    return;
  }
  azr__emu_relay_connections_changed(em, +1);
  f->em = em;
  snprintf(f->peer, sizeof f->peer, "%s", peer);
  azr__buf_init(&f->held, em->mem, 64u * 1024u);
  uv_timer_init(&em->loop, &f->timer);
  f->timer.data = f;
  static const struct azr__http1_callbacks hcb = {on_head, NULL, NULL};
  f->http = azr__calloc(em->mem, 1, sizeof *f->http);
  if (!f->http || azr__http1_init(f->http, AZR__HTTP1_REQUEST, em->mem, &hcb, f) != AZR_OK) {
    azr__free(em->mem, f->http);
    close(fd);
    azr__emu_relay_connections_changed(em, -1);
    azr__emu_peer_release(em, peer);
    uv_close((uv_handle_t *)&f->timer, on_front_timer_closed);
    return;
  }
  f->next = em->fronts;
  if (f->next) ((struct emu_front *)f->next)->prev = f;
  em->fronts = f;
  if (azr__stream_accept(&em->loop, em->mem, &em->log, fd, em->plain ? NULL : em->tls, &front_cb, f, &f->stream) !=
      AZR_OK) {
    f->stream = NULL;
    front_done(f);
    return;
  }
  uv_timer_start(&f->timer, on_head_timeout, em->settings.head_timeout_ms, 0);
  azr__emu_flow_add(em, &f->flow, f->stream, NULL, on_idle);
}

void azr__emu_fronts_close_all(azr_emulator *em) {
  while (em->fronts) {
    struct emu_front *f = em->fronts;
    if (f->stream) azr__stream_close(f->stream, AZR__CLOSE_ABORT);
    f->stream = NULL;
    front_done(f);
  }
}
