/* SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 8
#define HEAD_MAX 2048
#define HEAD_DEADLINE_MS 2000

struct metrics_client {
  int fd; /* -1 = free slot */
  char head[HEAD_MAX];
  size_t len;
  uint64_t deadline_ms;
};

struct metrics_server {
  int fd;
  unsigned port;
  struct metrics_client c[MAX_CLIENTS];
};

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL, 0);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

/* "host:port", "[v6]:port" -> host and port strings in buffers. */
static bool split_host_port(const char *in, char *host, size_t host_len, char *port, size_t port_len) {
  const char *colon;
  const char *h = in;
  size_t hl;
  if (in[0] == '[') {
    const char *rb = strchr(in, ']');
    if (!rb || rb[1] != ':') return false;
    h = in + 1;
    hl = (size_t)(rb - h);
    colon = rb + 1;
  } else {
    colon = strrchr(in, ':');
    if (!colon || strchr(in, ':') != colon) return false;
    hl = (size_t)(colon - in);
  }
  if (hl == 0 || hl >= host_len || strlen(colon + 1) == 0 || strlen(colon + 1) >= port_len) return false;
  memcpy(host, h, hl);
  host[hl] = 0;
  snprintf(port, port_len, "%s", colon + 1);
  return true;
}

struct metrics_server *metrics_open(const char *host_port, char *err, size_t err_len) {
  char host[256], port[16];
  if (!split_host_port(host_port, host, sizeof host, port, sizeof port)) {
    snprintf(err, err_len, "--metrics wants HOST:PORT (e.g. 127.0.0.1:9464), got '%s'", host_port);
    return NULL;
  }
  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  int gai = getaddrinfo(host, port, &hints, &res);
  if (gai) {
    snprintf(err, err_len, "--metrics %s: %s", host_port, gai_strerror(gai));
    return NULL;
  }
  int fd = -1;
  char why[128] = "no address";
  for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 16) != 0 || !set_nonblocking(fd)) {
      snprintf(why, sizeof why, "%s", strerror(errno));
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    snprintf(err, err_len, "--metrics %s: %s", host_port, why);
    return NULL;
  }
  struct metrics_server *m = calloc(1, sizeof *m);
  if (!m) {
    close(fd);
    snprintf(err, err_len, "out of memory");
    return NULL;
  }
  m->fd = fd;
  for (int i = 0; i < MAX_CLIENTS; i++) m->c[i].fd = -1;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
    m->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
  return m;
}

unsigned metrics_port(const struct metrics_server *m) { return m ? m->port : 0; }

static void drop(struct metrics_client *c) {
  close(c->fd);
  c->fd = -1;
  c->len = 0;
}

struct family {
  const char *name, *type, *help;
  uint64_t value;
};

size_t metrics_format(const azr_listener_stats *s, char *out, size_t cap) {
  const struct family fams[] = {
      {"azrelay_listener_online", "gauge", "1 while the control channel is open", s->online},
      {"azrelay_control_channel_opens", "counter", "Control channel handshakes that succeeded", s->control_opens},
      {"azrelay_control_channel_losses", "counter", "Control channel losses and refused attempts", s->control_losses},
      {"azrelay_token_renewals", "counter", "renewToken commands sent", s->token_renewals},
      {"azrelay_connection_requests", "counter", "Senders offered to the listener", s->connection_requests},
      {"azrelay_connections_accepted", "counter", "Rendezvous connections opened", s->connections_accepted},
      {"azrelay_connections_rejected", "counter", "Senders turned away", s->connections_rejected},
      {"azrelay_connections_failed", "counter", "Rendezvous connections that could not be opened",
       s->connections_failed},
      {"azrelay_connections_closed", "counter", "Accepted connections that ended", s->connections_closed},
      {"azrelay_connections_open", "gauge", "Accepted connections open now", s->connections_open},
      {"azrelay_received_bytes", "counter", "Payload bytes received on accepted connections", s->bytes_received},
      {"azrelay_sent_bytes", "counter", "Payload bytes sent on accepted connections", s->bytes_sent},
      {"azrelay_http_requests", "counter", "HTTP requests delivered to the application", s->http_requests},
      {"azrelay_http_responses", "counter", "HTTP responses started", s->http_responses},
  };
  size_t n = 0;
  out[0] = 0;
  for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++) {
    const struct family *f = &fams[i];
    bool counter = f->type[0] == 'c';
    int w = snprintf(out + n, cap - n, "# TYPE %s %s\n# HELP %s %s.\n%s%s %llu\n", f->name, f->type, f->name, f->help,
                     f->name, counter ? "_total" : "", (unsigned long long)f->value);
    if (w < 0 || (size_t)w >= cap - n) return n;
    n += (size_t)w;
  }
  int w = snprintf(out + n, cap - n, "# EOF\n");
  if (w > 0 && (size_t)w < cap - n) n += (size_t)w;
  return n;
}

static void answer(struct metrics_client *c, azr_listener *l) {
  char body[4096], resp[4608];
  const char *status = "404 Not Found", *type = "text/plain; charset=utf-8";
  size_t blen;
  bool get = strncmp(c->head, "GET ", 4) == 0, head = strncmp(c->head, "HEAD ", 5) == 0;
  const char *target = c->head + (get ? 4 : head ? 5 : 0);
  if ((get || head) && (strncmp(target, "/metrics ", 9) == 0 || strncmp(target, "/metrics?", 9) == 0)) {
    azr_listener_stats s;
    if (azr_listener_get_stats(l, &s, sizeof s) != AZR_OK) memset(&s, 0, sizeof s);
    blen = metrics_format(&s, body, sizeof body);
    status = "200 OK";
    type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
  } else if (!get && !head) {
    status = "405 Method Not Allowed";
    blen = (size_t)snprintf(body, sizeof body, "only GET /metrics\n");
  } else {
    blen = (size_t)snprintf(body, sizeof body, "try /metrics\n");
  }
  int n = snprintf(resp, sizeof resp, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                   status, type, blen);
  if (n > 0 && (size_t)n + blen <= sizeof resp) {
    if (!head) memcpy(resp + n, body, blen);
    size_t total = (size_t)n + (head ? 0 : blen);
    /* A fresh socket's send buffer takes a few KiB at once; a peer that cannot is not waited for. */
    (void)send(c->fd, resp, total, MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  drop(c);
}

void metrics_tick(struct metrics_server *m, azr_listener *l) {
  if (!m) return;
  for (;;) {
    int fd = accept4(m->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) break;
    struct metrics_client *slot = NULL;
    for (int i = 0; i < MAX_CLIENTS && !slot; i++)
      if (m->c[i].fd < 0) slot = &m->c[i];
    if (!slot) {
      close(fd); /* busy: scrapers retry */
      continue;
    }
    slot->fd = fd;
    slot->len = 0;
    slot->deadline_ms = now_ms() + HEAD_DEADLINE_MS;
  }
  uint64_t now = now_ms();
  for (int i = 0; i < MAX_CLIENTS; i++) {
    struct metrics_client *c = &m->c[i];
    if (c->fd < 0) continue;
    ssize_t r = recv(c->fd, c->head + c->len, sizeof c->head - 1 - c->len, MSG_DONTWAIT);
    if (r > 0) {
      c->len += (size_t)r;
      c->head[c->len] = 0;
      if (strstr(c->head, "\r\n\r\n") || strstr(c->head, "\n\n")) {
        answer(c, l);
        continue;
      }
      if (c->len == sizeof c->head - 1) { /* a head this long is not a scrape */
        drop(c);
        continue;
      }
    } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      drop(c);
      continue;
    }
    if (now > c->deadline_ms) drop(c);
  }
}

void metrics_close(struct metrics_server *m) {
  if (!m) return;
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (m->c[i].fd >= 0) close(m->c[i].fd);
  close(m->fd);
  free(m);
}
