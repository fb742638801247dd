/* SPDX-License-Identifier: MIT */
/* Forwarding (ForwardingHost/ForwardingPort): each accepted connection gets its own TCP connection
 * to the forwarding host; relayed binary messages become the TCP byte stream and TCP bytes become
 * binary messages. Each direction pauses its source when its destination backs up, so memory stays
 * bounded whichever side is slow; a close or failure on one side closes the other. */
#include <stdio.h>
#include <string.h>

#include "listener/listener_internal.h"

struct azr__forward {
  struct azr__conn *c;
  struct azr__stream *tcp;
  bool tcp_open;
  bool ws_closed;
};

static void tcp_connect(struct azr__stream *s, int status, const char *detail);
static void tcp_read(struct azr__stream *s, uint8_t *data, size_t len);
static void tcp_end(struct azr__stream *s, int status);
static void tcp_drain(struct azr__stream *s);
static const struct azr__stream_callbacks tcp_cb = {tcp_connect, tcp_read, tcp_end, tcp_drain};

bool azr__forward_enabled(const azr_listener *l) {
  return l->set.forwarding_host && *l->set.forwarding_host && l->set.forwarding_port > 0;
}

static void fail(struct azr__forward *f, int status, const char *what) {
  struct azr__conn *c = f->c;
  azr_listener *l = c->l;
  char desc[300];
  snprintf(desc, sizeof desc, "forwarding to %s:%d: %s", l->set.forwarding_host, l->set.forwarding_port, what);
  AZR__LLOG(l, AZR_LOG_INFO, "forward", "connection %llu: %s", (unsigned long long)c->id, desc);
  azr_connection_error_event ev = {c->id, status, desc};
  AZR__FIRE(l, on_connection_error, &ev);
  if (c->ws) (void)azr__ws_close(c->ws, 1011, "forwarding target failed");
}

void azr__forward_start(struct azr__conn *c) {
  azr_listener *l = c->l;
  struct azr__forward *f = azr__calloc(l->mem, 1, sizeof *f);
  if (!f) {
    if (c->ws) (void)azr__ws_close(c->ws, 1011, "out of memory");
    return;
  }
  f->c = c;
  c->fwd = f;
  /* Nothing may flow until the target answers. */
  azr__ws_pause(c->ws);
  struct azr__connect_options o;
  azr__listener_connect_options(l, &o);
  o.tls = false;
  o.host = l->set.forwarding_host;
  o.port = (uint16_t)l->set.forwarding_port;
  o.proxy_kind = AZR__PROXY_NONE; /* the proxy is for reaching the relay, not the local service */
  o.proxy_from_environment = false;
  int rc = azr__connect(l->curl, &o, &tcp_cb, f, &f->tcp);
  if (rc) {
    f->tcp = NULL;
    fail(f, rc, azr_strerror(rc));
  }
}

static void tcp_connect(struct azr__stream *s, int status, const char *detail) {
  struct azr__forward *f = s->owner;
  if (status != AZR_OK) {
    azr__stream_close(s, AZR__CLOSE_ABORT);
    f->tcp = NULL;
    fail(f, status, detail);
    return;
  }
  f->tcp_open = true;
  AZR__LLOG(f->c->l, AZR_LOG_VERBOSE, "forward", "connection %llu forwarded to %s:%u", (unsigned long long)f->c->id,
            s->peer_addr, s->peer_port);
  if (f->c->ws) azr__ws_resume(f->c->ws);
}

/* Relay -> target. */
void azr__forward_data(struct azr__conn *c, const uint8_t *data, size_t len) {
  struct azr__forward *f = c->fwd;
  if (!f || !f->tcp_open || !len) return;
  int rc = azr__stream_write(f->tcp, data, len);
  if (rc && rc != AZR_E_CLOSED) {
    fail(f, rc, "the target's send queue is full");
    return;
  }
  if (azr__stream_queued(f->tcp) >= f->tcp->high_water && c->ws) azr__ws_pause(c->ws);
}

static void tcp_drain(struct azr__stream *s) {
  struct azr__forward *f = s->owner;
  if (f->c && f->c->ws && !f->c->paused) azr__ws_resume(f->c->ws);
}

/* Target -> relay. */
static void tcp_read(struct azr__stream *s, uint8_t *data, size_t len) {
  struct azr__forward *f = s->owner;
  struct azr__conn *c = f->c;
  if (!c || !c->ws) return;
  int rc = azr__ws_send(c->ws, AZR__WS_BINARY, data, len);
  if (rc) {
    fail(f, rc, "cannot relay the target's data");
    return;
  }
  c->total_sent += len;
  /* One read is at most 64 KiB, so pausing at half the cap keeps every send accepted. */
  if (azr__ws_queued(c->ws) >= (size_t)c->l->set.send_queue_size / 2) {
    azr__stream_pause(s);
    azr__ws_notify_writable(c->ws);
  }
}

void azr__forward_writable(struct azr__conn *c) {
  struct azr__forward *f = c->fwd;
  if (f && f->tcp && f->tcp_open) azr__stream_resume(f->tcp);
}

static void tcp_end(struct azr__stream *s, int status) {
  struct azr__forward *f = s->owner;
  struct azr__conn *c = f->c;
  azr__stream_close(s, status ? AZR__CLOSE_ABORT : AZR__CLOSE_FLUSH);
  f->tcp = NULL;
  f->tcp_open = false;
  if (!c || !c->ws) return;
  if (status) {
    fail(f, status, azr__stream_error(s));
    return;
  }
  AZR__LLOG(c->l, AZR_LOG_VERBOSE, "forward", "connection %llu: the target closed", (unsigned long long)c->id);
  (void)azr__ws_close(c->ws, 1000, "forwarded connection closed");
}

/* The relayed side ended: end the target side too, then forget the pair. */
void azr__forward_closed(struct azr__conn *c, bool clean) {
  struct azr__forward *f = c->fwd;
  if (!f) return;
  c->fwd = NULL;
  if (f->tcp) {
    f->tcp->owner = NULL;
    azr__stream_set_owner(f->tcp, &(struct azr__stream_callbacks){0}, NULL);
    azr__stream_close(f->tcp, clean ? AZR__CLOSE_FLUSH : AZR__CLOSE_ABORT);
  }
  azr__free(c->l->mem, f);
}
