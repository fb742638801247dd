/* SPDX-License-Identifier: MIT */
/* Listening socket driven by a uv_poll handle; accept4() gives non-blocking sockets directly. */
#define _GNU_SOURCE 1 /* accept4 */
#include "io/tcp_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "azrelay/common.h"

struct azr__tcp_server {
  uv_loop_t *loop;
  const struct azr__mem *mem;
  uv_poll_t poll;
  int fd;
  azr__tcp_accept_fn on_accept;
  void *ud;
  int paused;
};

static void on_readable(uv_poll_t *h, int status, int events) {
  struct azr__tcp_server *srv = h->data;
  (void)events;
  if (status < 0) return;
  /* Bounded batch so one busy listener cannot starve the loop. */
  for (int i = 0; i < 64 && !srv->paused; i++) {
    int fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      break; /* EAGAIN, or EMFILE and friends: try again on the next readiness */
    }
    srv->on_accept(srv->ud, fd);
  }
}

int azr__tcp_server_open(uv_loop_t *loop, const struct azr__mem *mem, const char *host, uint16_t port,
                         azr__tcp_accept_fn on_accept, void *ud, struct azr__tcp_server **out,
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
    return e == EADDRINUSE ? AZR_E_IO : AZR_E_IO;
  }
  freeaddrinfo(ai);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
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
  srv->fd = fd;
  srv->on_accept = on_accept;
  srv->ud = ud;
  uv_poll_init_socket(loop, &srv->poll, fd);
  srv->poll.data = srv;
  uv_poll_start(&srv->poll, UV_READABLE, on_readable);
  if (out_port) *out_port = bound;
  *out = srv;
  return AZR_OK;
}

void azr__tcp_server_pause(struct azr__tcp_server *srv, int paused) {
  if (srv->paused == paused) return;
  srv->paused = paused;
  if (paused) uv_poll_stop(&srv->poll);
  else uv_poll_start(&srv->poll, UV_READABLE, on_readable);
}

static void on_closed(uv_handle_t *h) {
  struct azr__tcp_server *srv = h->data;
  azr__free(srv->mem, srv);
}

void azr__tcp_server_close(struct azr__tcp_server *srv) {
  if (!srv) return;
  uv_poll_stop(&srv->poll);
  close(srv->fd);
  uv_close((uv_handle_t *)&srv->poll, on_closed);
}
