/* SPDX-License-Identifier: MIT */
/* Forwarding (ForwardingHost/ForwardingPort): each accepted connection gets its own TCP connection
 * to the forwarding host; relayed binary messages become the TCP byte stream and TCP bytes become
 * binary messages. Each direction pauses its source when its destination backs up, so memory stays
 * bounded whichever side is slow; a close or failure on one side closes the other.
 *
 * ForwardingMode=1 speaks azbridge's per-stream preamble (docs/internals/azbridge.md): the first
 * relayed bytes name a logical port (ForwardingPorts, or the single ForwardingHost/ForwardingPort),
 * the target is connected, and only then the three-byte accept goes back; the bytes after the
 * preamble are payload. */
#include <stdio.h>
#include <string.h>

#include "listener/listener_internal.h"
#include "proto/azbridge.h"

/* Most logical ports one listener serves in azbridge mode. */
#define MAX_PORTS 64

enum fwd_phase {
  FWD_PREAMBLE,   /* azbridge: reading the sender's preamble */
  FWD_CONNECTING, /* connecting the target; the relayed side is paused */
  FWD_OPEN,       /* bytes flow both ways */
  FWD_DONE        /* closing (refused, failed or the target ended): later bytes are dropped */
};

struct azr__forward {
  struct azr__conn *c;
  struct azr__stream *tcp;
  enum fwd_phase phase;
  bool azbridge;
  bool sender_done; /* the sender's Close arrived: everything it sent is in hand */
  char host[256]; /* the target, for messages */
  uint16_t port;
  struct azr__azbridge_preamble preamble;
  uint8_t *early;  /* azbridge: payload that came with the preamble, written once the target is open */
  size_t early_len;
};

static void tcp_connect(struct azr__stream *s, int status, const char *detail);
static void tcp_read(struct azr__stream *s, uint8_t *data, size_t len);
static void tcp_end(struct azr__stream *s, int status);
static void tcp_drain(struct azr__stream *s);
static const struct azr__stream_callbacks tcp_cb = {tcp_connect, tcp_read, tcp_end, tcp_drain};

static bool has_single_target(const azr_listener *l) {
  return l->set.forwarding_host && *l->set.forwarding_host && l->set.forwarding_port > 0;
}

static bool has_ports(const azr_listener *l) { return l->set.forwarding_ports && *l->set.forwarding_ports; }

bool azr__forward_enabled(const azr_listener *l) {
  if (l->set.forwarding_mode == AZR__FORWARDING_AZBRIDGE) return has_ports(l) || has_single_target(l);
  return has_single_target(l);
}

static void report(struct azr__forward *f, int status, const char *desc) {
  struct azr__conn *c = f->c;
  AZR__LLOG(c->l, AZR_LOG_INFO, "forward", "connection %llu: %s", (unsigned long long)c->id, desc);
  azr_connection_error_event ev = {c->id, status, desc};
  AZR__FIRE(c->l, on_connection_error, &ev);
}

static void fail(struct azr__forward *f, int status, const char *what) {
  char desc[600];
  snprintf(desc, sizeof desc, "forwarding to %s:%u: %s", f->host, f->port, what);
  report(f, status, desc);
  f->phase = FWD_DONE;
  if (f->c->ws) (void)azr__ws_close(f->c->ws, 1011, "forwarding target failed");
}

/* azbridge: turns the sender away, with its three-byte reply when there is one (never an empty
 * message: azbridge reads that as the end of the stream). */
static void refuse(struct azr__forward *f, enum azr__azbridge_reply reply, int status, uint16_t code,
                   const char *reason, const char *desc) {
  report(f, status, desc);
  f->phase = FWD_DONE;
  struct azr__ws *ws = f->c->ws;
  if (!ws) return;
  uint8_t bytes[AZR__AZBRIDGE_REPLY_LEN];
  if (reply != AZR__AZBRIDGE_REPLY_NONE && azr__azbridge_reply_encode(reply, bytes) == AZR_OK)
    (void)azr__ws_send(ws, AZR__WS_BINARY, bytes, sizeof bytes);
  (void)azr__ws_close(ws, code, reason);
}

static void connect_target(struct azr__forward *f) {
  struct azr__conn *c = f->c;
  azr_listener *l = c->l;
  f->phase = FWD_CONNECTING;
  /* Nothing may flow until the target answers. */
  if (c->ws) azr__ws_pause(c->ws);
  struct azr__connect_options o;
  azr__listener_connect_options(l, &o);
  o.tls = false;
  o.host = f->host;
  o.port = f->port;
  o.proxy_kind = AZR__PROXY_NONE; /* the proxy is for reaching the relay, not the local service */
  o.proxy_from_environment = false;
  int rc = azr__connect(l->curl, &o, &tcp_cb, f, &f->tcp);
  if (rc) {
    f->tcp = NULL;
    fail(f, rc, azr_strerror(rc));
  }
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
  f->azbridge = l->set.forwarding_mode == AZR__FORWARDING_AZBRIDGE;
  if (f->azbridge) {
    /* The port is named by the first relayed bytes: read them before connecting anything. */
    f->phase = FWD_PREAMBLE;
    azr__azbridge_preamble_init(&f->preamble);
    snprintf(f->host, sizeof f->host, "?");
    return;
  }
  snprintf(f->host, sizeof f->host, "%s", l->set.forwarding_host);
  f->port = (uint16_t)l->set.forwarding_port;
  connect_target(f);
}

/* azbridge: the preamble named a port; find its target (the single ForwardingHost/ForwardingPort is
 * named by its port number, as azbridge names a binding without a name). */
static void preamble_done(struct azr__forward *f, const uint8_t *rest, size_t rest_len) {
  azr_listener *l = f->c->l;
  const char *name = f->preamble.port_name;
  char desc[600];
  struct azr__forwarding_port *ports = NULL;
  size_t count = 0;
  if (has_ports(l)) {
    ports = azr__calloc(l->mem, MAX_PORTS, sizeof *ports);
    char err[300];
    int rc = ports ? azr__settings_forwarding_ports_parse(l->set.forwarding_ports, ports, MAX_PORTS, &count, err,
                                                          sizeof err)
                   : AZR_E_NOMEM;
    if (rc) {
      snprintf(desc, sizeof desc, "ForwardingPorts: %s", rc == AZR_E_NOMEM ? "out of memory" : err);
      azr__free(l->mem, ports);
      refuse(f, AZR__AZBRIDGE_REPLY_NONE, rc, 1011, "forwarding misconfigured", desc);
      return;
    }
  } else {
    ports = azr__calloc(l->mem, 1, sizeof *ports);
    if (!ports) {
      refuse(f, AZR__AZBRIDGE_REPLY_NONE, AZR_E_NOMEM, 1011, "out of memory", "out of memory");
      return;
    }
    snprintf(ports[0].name, sizeof ports[0].name, "%d", l->set.forwarding_port);
    snprintf(ports[0].host, sizeof ports[0].host, "%s", l->set.forwarding_host);
    ports[0].port = (uint16_t)l->set.forwarding_port;
    count = 1;
  }
  const char *names[MAX_PORTS];
  for (size_t i = 0; i < count; i++) names[i] = ports[i].name;
  size_t at;
  int rc = azr__azbridge_port_lookup(names, count, name, &at);
  if (rc == AZR_OK) {
    snprintf(f->host, sizeof f->host, "%s", ports[at].host);
    f->port = ports[at].port;
  }
  azr__free(l->mem, ports);
  if (rc) {
    /* As azbridge: no reply, just the close. */
    snprintf(desc, sizeof desc, "azbridge port '%s' is not configured", name);
    refuse(f, AZR__AZBRIDGE_REPLY_NONE, AZR_E_NOT_FOUND, 1008, "unknown port", desc);
    return;
  }
  enum azr__azbridge_reply reply = azr__azbridge_reply_for(f->preamble.mode, false);
  if (reply != AZR__AZBRIDGE_REPLY_ACCEPT_STREAM) {
    snprintf(desc, sizeof desc, "azbridge port '%s' is TCP; the sender asked for datagrams", name);
    refuse(f, reply, AZR_E_UNSUPPORTED, 1008, "port is TCP (stream) only", desc);
    return;
  }
  if (rest_len) {
    f->early = azr__malloc(l->mem, rest_len);
    if (!f->early) {
      refuse(f, AZR__AZBRIDGE_REPLY_NONE, AZR_E_NOMEM, 1011, "out of memory", "out of memory");
      return;
    }
    memcpy(f->early, rest, rest_len);
    f->early_len = rest_len;
  }
  AZR__LLOG(l, AZR_LOG_VERBOSE, "forward", "connection %llu: azbridge port '%s' -> %s:%u",
            (unsigned long long)f->c->id, name, f->host, f->port);
  connect_target(f);
}

static void feed_preamble(struct azr__forward *f, const uint8_t *data, size_t len) {
  size_t used = 0;
  bool done = false;
  int rc = azr__azbridge_preamble_feed(&f->preamble, data, len, &used, &done);
  if (rc) {
    char desc[300];
    snprintf(desc, sizeof desc, "bad azbridge preamble: %s", f->preamble.why ? f->preamble.why : azr_strerror(rc));
    if (rc == AZR_E_PROTOCOL) refuse(f, f->preamble.reject_reply, rc, 1002, "unsupported azbridge preamble", desc);
    else refuse(f, AZR__AZBRIDGE_REPLY_NONE, rc, 1008, "unknown port", desc);
    return;
  }
  if (done) preamble_done(f, data + used, len - used);
}

/* Relay -> target. */
void azr__forward_data(struct azr__conn *c, const uint8_t *data, size_t len) {
  struct azr__forward *f = c->fwd;
  if (!f || !len) return;
  if (f->phase == FWD_PREAMBLE) {
    feed_preamble(f, data, len);
    return;
  }
  if (f->phase != FWD_OPEN || !f->tcp) return;
  int rc = azr__stream_write(f->tcp, data, len);
  if (rc && rc != AZR_E_CLOSED) {
    fail(f, rc, "the target's send queue is full");
    return;
  }
  if (azr__stream_queued(f->tcp) >= f->tcp->high_water && c->ws) azr__ws_pause(c->ws);
}

static void tcp_connect(struct azr__stream *s, int status, const char *detail) {
  struct azr__forward *f = s->owner;
  if (status != AZR_OK) {
    azr__stream_close(s, AZR__CLOSE_ABORT);
    f->tcp = NULL;
    fail(f, status, detail); /* azbridge: no reply; the sender sees the close */
    return;
  }
  struct azr__conn *c = f->c;
  f->phase = FWD_OPEN;
  AZR__LLOG(c->l, AZR_LOG_VERBOSE, "forward", "connection %llu forwarded to %s:%u", (unsigned long long)c->id,
            s->peer_addr, s->peer_port);
  if (f->azbridge && c->ws) {
    uint8_t accept[AZR__AZBRIDGE_REPLY_LEN];
    (void)azr__azbridge_reply_encode(AZR__AZBRIDGE_REPLY_ACCEPT_STREAM, accept);
    int rc = azr__ws_send(c->ws, AZR__WS_BINARY, accept, sizeof accept);
    if (rc) {
      fail(f, rc, "cannot send the azbridge accept");
      return;
    }
  }
  if (f->early) {
    uint8_t *early = f->early;
    size_t n = f->early_len;
    f->early = NULL;
    f->early_len = 0;
    int rc = azr__stream_write(s, early, n);
    azr__free(c->l->mem, early);
    if (rc) {
      fail(f, rc, "cannot write to the target");
      return;
    }
  }
  if (c->ws) azr__ws_resume(c->ws);
}

static void tcp_drain(struct azr__stream *s) {
  struct azr__forward *f = s->owner;
  if (f->c && f->c->ws && !f->c->paused && f->phase == FWD_OPEN) azr__ws_resume(f->c->ws);
}

/* Target -> relay. */
static void tcp_read(struct azr__stream *s, uint8_t *data, size_t len) {
  struct azr__forward *f = s->owner;
  struct azr__conn *c = f->c;
  if (!c || !c->ws || f->phase != FWD_OPEN) return;
  int rc = azr__ws_send(c->ws, AZR__WS_BINARY, data, len); /* len > 0: never an empty message */
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
  if (f && f->tcp && f->phase == FWD_OPEN) azr__stream_resume(f->tcp);
}

static void tcp_end(struct azr__stream *s, int status) {
  struct azr__forward *f = s->owner;
  struct azr__conn *c = f->c;
  azr__stream_close(s, status ? AZR__CLOSE_ABORT : AZR__CLOSE_FLUSH);
  f->tcp = NULL;
  if (!c || !c->ws) return;
  if (status) {
    fail(f, status, azr__stream_error(s));
    return;
  }
  f->phase = FWD_DONE;
  AZR__LLOG(c->l, AZR_LOG_VERBOSE, "forward", "connection %llu: the target closed", (unsigned long long)c->id);
  (void)azr__ws_close(c->ws, 1000, "forwarded connection closed");
}

void azr__forward_peer_closed(struct azr__conn *c) {
  struct azr__forward *f = c->fwd;
  if (f) f->sender_done = true;
  if (f && f->phase == FWD_OPEN && f->tcp) {
    AZR__LLOG(c->l, AZR_LOG_VERBOSE, "forward", "connection %llu: the sender ended its side; waiting for the target's",
              (unsigned long long)c->id);
    azr__stream_shutdown_write(f->tcp);
    return;
  }
  if (c->ws) (void)azr__ws_close(c->ws, 1000, "forwarded connection closed");
}

/* The relayed side ended: end the target side too, then forget the pair. */
void azr__forward_closed(struct azr__conn *c, bool clean) {
  struct azr__forward *f = c->fwd;
  if (!f) return;
  c->fwd = NULL;
  if (f->tcp) {
    f->tcp->owner = NULL;
    azr__stream_set_owner(f->tcp, &(struct azr__stream_callbacks){0}, NULL);
    /* After the sender's Close its data is complete, even when the close handshake then failed
     * (the sender stopped waiting for our answer while the target was still taking its bytes):
     * deliver it rather than reset the target. */
    azr__stream_close(f->tcp, clean || f->sender_done ? AZR__CLOSE_FLUSH : AZR__CLOSE_ABORT);
  }
  azr__free(c->l->mem, f->early);
  azr__free(c->l->mem, f);
}
