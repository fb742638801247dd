/* SPDX-License-Identifier: MIT */
/* Plain TCP transport, and wrapping accepted sockets into streams. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "azrelay/common.h"
#include "io/transports.h"

int azr__status_from_errno(int err) {
  switch (err) {
  case ECONNRESET:
  case EPIPE:
  case ECONNABORTED:
    return AZR_E_CONN_RESET;
  case ECONNREFUSED:
    return AZR_E_CONN_REFUSED;
  case ETIMEDOUT:
    return AZR_E_TIMEOUT;
  case ENOMEM:
  case ENOBUFS:
    return AZR_E_NOMEM;
  default:
    return AZR_E_IO;
  }
}

static ssize_t tcp_read(struct azr__stream *s, uint8_t *buf, size_t len) {
  for (;;) {
    ssize_t n = recv(s->fd, buf, len, 0);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return AZR__IO_WANT_READ;
    azr__stream_fail(s, azr__status_from_errno(errno), "recv: %s", strerror(errno));
    return AZR__IO_ERROR;
  }
}

static ssize_t tcp_write(struct azr__stream *s, const uint8_t *buf, size_t len) {
  for (;;) {
    ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return AZR__IO_WANT_WRITE;
    azr__stream_fail(s, azr__status_from_errno(errno), "send: %s", strerror(errno));
    return AZR__IO_ERROR;
  }
}

static void tcp_release(struct azr__stream *s) {
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
}

const struct azr__stream_transport azr__transport_tcp = {
    .name = "tcp", .read = tcp_read, .write = tcp_write, .release = tcp_release};

int azr__stream_accept(uv_loop_t *loop, const struct azr__mem *mem, const struct azr__log *log, int fd,
                       struct azr__tls_server *tls, const struct azr__stream_callbacks *cb, void *owner,
                       struct azr__stream **out) {
  struct azr__stream *s;
  int rc = azr__stream_new(loop, mem, log, cb, owner, &s);
  if (rc) {
    close(fd);
    return rc;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  s->transport = &azr__transport_tcp;
  if (tls) {
    rc = azr__transport_tls_server_attach(s, tls, fd);
    if (rc) {
      s->fd = fd;
      s->transport = &azr__transport_tcp;
      s->state = AZR__STREAM_FAILED;
      azr__stream_close(s, AZR__CLOSE_ABORT);
      return rc;
    }
  }
  azr__stream_connected(s, fd, AZR_OK, NULL);
  *out = s;
  return AZR_OK;
}
