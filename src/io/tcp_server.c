/* SPDX-License-Identifier: MIT */
/* Listening socket driven by a uv_poll handle; accept4() gives non-blocking sockets directly. */
#define _GNU_SOURCE 1 /* accept4 */
#include "io/tcp_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "azrelay/common.h"
#include "util/clock.h"

/* Out of descriptors: the pending connection stays in the backlog and the socket stays readable,
 * so polling on would spin. Accepting pauses for BACKOFF_FIRST_MS, doubling up to BACKOFF_MAX_MS
 * while the shortage lasts; waiting connections are taken as soon as a retry succeeds. */
#define BACKOFF_FIRST_MS 50u
#define BACKOFF_MAX_MS 1000u
#define LOG_EVERY_MS 60000u

struct azr__tcp_server {
  uv_loop_t *loop;
  const struct azr__mem *mem;
  const struct azr__log *log;
  uv_poll_t poll;
  uv_timer_t retry;
  int handles_open;
  int fd;
  azr__tcp_accept_fn on_accept;
  void *ud;
  int paused;
  bool backing_off;
  uint32_t backoff_ms;
  uint64_t logged_at_ms;  /* the last "out of descriptors" line (0 = never) */
  unsigned pauses_unlogged;
  char address[64];
};

static void on_readable(uv_poll_t *h, int status, int events);

static void watch(struct azr__tcp_server *srv) {
  if (!srv->paused && !srv->backing_off) uv_poll_start(&srv->poll, UV_READABLE, on_readable);
}

static void on_retry(uv_timer_t *t) {
  struct azr__tcp_server *srv = t->data;
  srv->backing_off = false;
  watch(srv);
}

static void back_off(struct azr__tcp_server *srv, int err) {
  srv->backing_off = true;
  uv_poll_stop(&srv->poll);
  srv->backoff_ms = srv->backoff_ms ? srv->backoff_ms * 2 : BACKOFF_FIRST_MS;
  if (srv->backoff_ms > BACKOFF_MAX_MS) srv->backoff_ms = BACKOFF_MAX_MS;
  uv_timer_start(&srv->retry, on_retry, srv->backoff_ms, 0);
  uint64_t now = azr__now_ms();
  if (srv->logged_at_ms && now - srv->logged_at_ms < LOG_EVERY_MS) {
    srv->pauses_unlogged++;
    return;
  }
  AZR_LOG(srv->log, AZR_LOG_INFO, "server",
          "cannot accept connections on %s: %s; pausing accepts until descriptors are free (%u more pauses since "
          "the last report)",
          srv->address, strerror(err), srv->pauses_unlogged);
  srv->logged_at_ms = now;
  srv->pauses_unlogged = 0;
}

static void on_readable(uv_poll_t *h, int status, int events) {
  struct azr__tcp_server *srv = h->data;
  (void)events;
  if (status < 0) return;
  /* Bounded batch so one busy listener cannot starve the loop. */
  for (int i = 0; i < 64 && !srv->paused && !srv->backing_off; i++) {
    int fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      if (e == EINTR || e == ECONNABORTED) continue;
      if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) back_off(srv, e);
      break; /* EAGAIN: wait for the next readiness */
    }
    srv->backoff_ms = 0;
    srv->on_accept(srv->ud, fd);
  }
}

static void address_text(const struct sockaddr_storage *ss, char *out, size_t len) {
  char ip[INET6_ADDRSTRLEN] = "";
  if (ss->ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, ip, sizeof ip);
    snprintf(out, len, "[%s]", ip);
  } else {
    inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, ip, sizeof ip);
    snprintf(out, len, "%s", ip);
  }
}

int azr__tcp_server_open(uv_loop_t *loop, const struct azr__mem *mem, const struct azr__log *log, const char *host,
                         uint16_t port, azr__tcp_accept_fn on_accept, void *ud, struct azr__tcp_server **out,
                         uint16_t *out_port, char *err, size_t err_len) {
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  char portstr[8];
  snprintf(portstr, sizeof portstr, "%u", port);
  int gai = getaddrinfo(host, portstr, &hints, &ai);
  if (gai != 0 || !ai) {
    snprintf(err, err_len, "cannot resolve %s: %s", host, gai_strerror(gai));
    return AZR_E_HOST_NOT_FOUND;
  }
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf(err, err_len, "socket: %s", strerror(errno));
    freeaddrinfo(ai);
    return AZR_E_IO;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
    int e = errno;
    snprintf(err, err_len, "cannot listen on %s:%u: %s", host, port, strerror(e));
    close(fd);
    freeaddrinfo(ai);
    return AZR_E_IO;
  }
  freeaddrinfo(ai);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  getsockname(fd, (struct sockaddr *)&ss, &len);
  uint16_t bound = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                            : ntohs(((struct sockaddr_in *)&ss)->sin_port);
  struct azr__tcp_server *srv = azr__calloc(mem, 1, sizeof *srv);
  if (!srv) {
    close(fd);
    return AZR_E_NOMEM;
  }
  srv->loop = loop;
  srv->mem = mem;
  srv->log = log;
  srv->fd = fd;
  srv->on_accept = on_accept;
  srv->ud = ud;
  address_text(&ss, srv->address, sizeof srv->address);
  uv_poll_init_socket(loop, &srv->poll, fd);
  uv_timer_init(loop, &srv->retry);
  srv->poll.data = srv->retry.data = srv;
  srv->handles_open = 2;
  watch(srv);
  if (out_port) *out_port = bound;
  *out = srv;
  return AZR_OK;
}

const char *azr__tcp_server_address(const struct azr__tcp_server *srv) { return srv ? srv->address : ""; }

void azr__tcp_server_pause(struct azr__tcp_server *srv, int paused) {
  if (srv->paused == paused) return;
  srv->paused = paused;
  if (paused) uv_poll_stop(&srv->poll);
  else watch(srv);
}

static void on_closed(uv_handle_t *h) {
  struct azr__tcp_server *srv = h->data;
  if (--srv->handles_open == 0) azr__free(srv->mem, srv);
}

void azr__tcp_server_close(struct azr__tcp_server *srv) {
  if (!srv) return;
  uv_poll_stop(&srv->poll);
  uv_timer_stop(&srv->retry);
  close(srv->fd);
  uv_close((uv_handle_t *)&srv->poll, on_closed);
  uv_close((uv_handle_t *)&srv->retry, on_closed);
}
