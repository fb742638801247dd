/* SPDX-License-Identifier: MIT */
/* azrelay connect --local-port: accepts local TCP clients and carries each over its own relayed
 * connection (bytes out as binary messages, messages back as bytes), with backpressure both ways. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "azrelay.h"
#include "azrelay/uv.h"
#include "cli.h"
#include "cli_log.h"
#include "connect_tcp.h"

#define MAX_PENDING_WRITE (1024 * 1024) /* bytes written to the local client but not yet sent */
/* A finished client is freed from a zero timer: never inside its own callbacks. */
#define REAP_DELAY_MS 0

struct bridge {
  struct bridge *prev, *next; /* srv->bridges */
  struct tcp_bridge_server *srv;
  uv_tcp_t tcp;
  azr_client *c;
  bool open;            /* relayed connection established */
  bool tcp_closing;     /* shutdown or close of the local socket started */
  bool tcp_closed;
  bool relay_closed;
  bool reading;
  size_t pending_write; /* bytes queued on the local socket */
  char *held;           /* a chunk the relay could not take yet */
  size_t held_len;
  uv_timer_t reaper;    /* frees the client outside its own callbacks */
  uv_shutdown_t shutdown;
};

static void start_reading(struct bridge *b);
static void reap(uv_timer_t *t);

static void on_tcp_closed(uv_handle_t *h) {
  struct bridge *b = h->data;
  b->tcp_closed = true;
  if (b->relay_closed) uv_timer_start(&b->reaper, reap, REAP_DELAY_MS, 0);
}

static void on_reaper_closed(uv_handle_t *h) {
  struct bridge *b = h->data;
  if (b->prev) b->prev->next = b->next;
  else b->srv->bridges = b->next;
  if (b->next) b->next->prev = b->prev;
  free(b);
}

static void reap(uv_timer_t *t) {
  struct bridge *b = t->data;
  azr_client_free(b->c);
  free(b->held);
  uv_close((uv_handle_t *)&b->reaper, on_reaper_closed);
}

static void close_tcp_now(struct bridge *b) {
  b->tcp_closing = true;
  if (!uv_is_closing((uv_handle_t *)&b->tcp)) uv_close((uv_handle_t *)&b->tcp, on_tcp_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  (void)status;
  close_tcp_now(req->data);
}

/* graceful: the local client first gets what is still queued for it, then FIN (uv_close alone
 * would drop queued writes). */
static void close_tcp(struct bridge *b, bool graceful) {
  if (b->tcp_closing) return;
  b->tcp_closing = true;
  b->shutdown.data = b;
  if (graceful && b->pending_write && uv_shutdown(&b->shutdown, (uv_stream_t *)&b->tcp, on_shutdown) == 0) return;
  close_tcp_now(b);
}

static void relay_done(struct bridge *b, bool graceful) {
  if (b->relay_closed) return;
  b->relay_closed = true;
  if (b->tcp_closed) uv_timer_start(&b->reaper, reap, REAP_DELAY_MS, 0);
  else close_tcp(b, graceful);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  buf->base = malloc(64 * 1024);
  buf->len = buf->base ? 64 * 1024 : 0;
}

static void on_tcp_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  struct bridge *b = s->data;
  if (b->relay_closed) {
    /* Only waiting for our queued writes to reach the client; what it sends now has nowhere to go. */
    if (n < 0) close_tcp_now(b);
  } else if (n > 0) {
    int rc = azr_client_send(b->c, AZR_DATA_BINARY, buf->base, (size_t)n, true);
    if (rc == AZR_E_WOULDBLOCK) {
      /* Keep this chunk, stop reading until the relay drains. */
      b->held = buf->base;
      b->held_len = (size_t)n;
      uv_read_stop(s);
      b->reading = false;
      return;
    }
    if (rc) (void)azr_client_close(b->c, 1011, "relay send failed");
  } else if (n < 0) {
    /* EOF or error from the local client: end the relayed connection after what is queued. */
    uv_read_stop(s);
    b->reading = false;
    if (azr_client_close(b->c, n == UV_EOF ? 1000 : 1011, n == UV_EOF ? "local client closed" : "local error") != AZR_OK)
      relay_done(b, false);
  }
  free(buf->base);
}

static void start_reading(struct bridge *b) {
  if (b->reading || uv_is_closing((uv_handle_t *)&b->tcp)) return;
  if (uv_read_start((uv_stream_t *)&b->tcp, alloc_cb, on_tcp_read) == 0) b->reading = true;
}

static void c_open(azr_client *c, const azr_client_open_event *ev, void *ud) {
  int status = ev->status;
  int http_status = ev->http_status;
  const char *description = ev->description;
  (void)c;
  struct bridge *b = ud;
  if (status) {
    char why[1200];
    (void)b->srv->explain(b->srv, status, http_status, description, why, sizeof why);
    cli_log(CLI_WARN, "relayed connection failed: %s", why);
    relay_done(b, false);
    return;
  }
  b->open = true;
  start_reading(b);
}

struct write_req {
  uv_write_t req;
  struct bridge *b;
  size_t len;
  char data[];
};

static void on_written(uv_write_t *req, int status) {
  struct write_req *w = (struct write_req *)req;
  struct bridge *b = w->b;
  b->pending_write -= w->len;
  free(w);
  if (status == 0 && b->pending_write < MAX_PENDING_WRITE / 2 && !b->relay_closed)
    (void)azr_client_resume(b->c);
}

static void c_data(azr_client *c, const azr_data_in_event *ev, void *ud) {
  struct bridge *b = ud;
  if (!ev->len || uv_is_closing((uv_handle_t *)&b->tcp)) return;
  struct write_req *w = malloc(sizeof *w + ev->len);
  if (!w) {
    (void)azr_client_close(c, 1011, "out of memory");
    return;
  }
  w->b = b;
  w->len = ev->len;
  memcpy(w->data, ev->data, ev->len);
  uv_buf_t buf = uv_buf_init(w->data, (unsigned)ev->len);
  if (uv_write(&w->req, (uv_stream_t *)&b->tcp, &buf, 1, on_written) != 0) {
    free(w);
    return;
  }
  b->pending_write += ev->len;
  /* The local client reads slowly: stop reading the relay (TCP flow control reaches the listener). */
  if (b->pending_write >= MAX_PENDING_WRITE) (void)azr_client_pause(c);
}

static void c_ready(azr_client *c, const azr_client_ready_event *ev, void *ud) {
  (void)ev;
  struct bridge *b = ud;
  if (b->held) {
    int rc = azr_client_send(c, AZR_DATA_BINARY, b->held, b->held_len, true);
    if (rc == AZR_E_WOULDBLOCK) return;
    free(b->held);
    b->held = NULL;
  }
  start_reading(b);
}

static void c_close(azr_client *c, const azr_client_close_event *ev, void *ud) {
  int code = ev->close_code;
  const char *reason = ev->reason;
  int error = ev->status;
  (void)c;
  struct bridge *b = ud;
  if (error) cli_log(CLI_INFO, "relayed connection ended: %d %s (%s)", code, reason, azr_status_name(error));
  b->open = false;
  /* Let the local client get what is already written, then close it. */
  relay_done(b, !error);
}

static void on_local_client(uv_stream_t *server, int status) {
  struct tcp_bridge_server *srv = server->data;
  if (status < 0) return;
  struct bridge *b = calloc(1, sizeof *b);
  if (!b) return;
  b->srv = srv;
  b->next = srv->bridges;
  if (b->next) b->next->prev = b;
  srv->bridges = b;
  uv_tcp_init(srv->loop, &b->tcp);
  uv_timer_init(srv->loop, &b->reaper);
  b->tcp.data = b->reaper.data = b;
  if (uv_accept(server, (uv_stream_t *)&b->tcp) != 0 || srv->make_client(srv, &b->c) != AZR_OK) {
    b->relay_closed = true;
    close_tcp_now(b);
    return;
  }
  uv_tcp_nodelay(&b->tcp, 1);
  azr_client_callbacks cb = {c_open, c_data, c_ready, c_close};
  (void)azr_client_set_callbacks(b->c, &cb, sizeof cb, b);
  if (azr_client_connect(b->c, srv->path, NULL) != AZR_OK) {
    cli_log(CLI_WARN, "%s", azr_client_get_last_error(b->c));
    b->relay_closed = true;
    close_tcp_now(b);
  }
}

int tcp_bridge_listen(struct tcp_bridge_server *srv, const char *bind_addr, int port) {
  struct sockaddr_storage addr;
  if (uv_ip4_addr(bind_addr, port, (struct sockaddr_in *)&addr) != 0 &&
      uv_ip6_addr(bind_addr, port, (struct sockaddr_in6 *)&addr) != 0) {
    return cli_usage_error("connect", "--bind '%s' is not an IPv4 or IPv6 address", bind_addr);
  }
  uv_tcp_init(srv->loop, &srv->server);
  srv->server.data = srv;
  int rc = uv_tcp_bind(&srv->server, (const struct sockaddr *)&addr, 0);
  if (!rc) rc = uv_listen((uv_stream_t *)&srv->server, 128, on_local_client);
  if (rc) {
    cli_log(CLI_ERROR, "cannot listen on %s:%d: %s", bind_addr, port, uv_strerror(rc));
    return rc == UV_EADDRINUSE || rc == UV_EACCES || rc == UV_EADDRNOTAVAIL ? CLI_USAGE : CLI_FAIL;
  }
  cli_log(CLI_INFO, "accepting local connections on %s:%d", bind_addr, port);
  return CLI_OK;
}

void tcp_bridge_stop(struct tcp_bridge_server *srv) {
  if (!uv_is_closing((uv_handle_t *)&srv->server)) uv_close((uv_handle_t *)&srv->server, NULL);
  for (struct bridge *b = srv->bridges; b; b = b->next) {
    if (!b->relay_closed && b->c) (void)azr_client_close(b->c, 1001, "bridge stopping");
    close_tcp(b, false);
  }
}
