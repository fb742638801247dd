/* SPDX-License-Identifier: MIT */
/* io/stream: a stream closed with AZR__CLOSE_FLUSH delivers everything still queued to a peer that
 * reads slowly but steadily, however long that takes (the linger deadline restarts on progress),
 * and gives up on a peer that stops reading. Real loopback TCP sockets, small kernel buffers so
 * that the bytes wait in the stream's own queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "io/stream.h"

#define TOTAL (1536u * 1024u) /* queued before the close */
#define SMALL_BUF 16384

struct peer {
  int fd;
  size_t received;
  bool eof, reset;
  int reads_per_tick; /* 0: the peer has stopped reading */
  uv_timer_t tick;
};

static void peer_tick(uv_timer_t *t) {
  struct peer *p = t->data;
  char buf[8192];
  for (int i = 0; i < p->reads_per_tick && !p->eof; i++) {
    ssize_t n = recv(p->fd, buf, sizeof buf, 0);
    if (n > 0) p->received += (size_t)n;
    else if (n == 0) p->eof = true;
    else if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    else {
      p->eof = p->reset = true; /* ECONNRESET: the stream gave up */
    }
  }
  if (p->eof) uv_timer_stop(t);
}

static void on_connect(struct azr__stream *s, int status, const char *detail) {
  (void)s, (void)detail;
  assert_int_equal(status, AZR_OK);
}

/* A connected pair of loopback sockets: *ours (small send buffer), *theirs (small receive buffer). */
static void tcp_pair(int *ours, int *theirs) {
  int lfd = socket(AF_INET, SOCK_STREAM, 0), small = SMALL_BUF;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof a;
  assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(lfd, 1), 0);
  assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
  *theirs = socket(AF_INET, SOCK_STREAM, 0);
  assert_int_equal(setsockopt(*theirs, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  assert_int_equal(connect(*theirs, (struct sockaddr *)&a, sizeof a), 0);
  *ours = accept(lfd, NULL, NULL);
  assert_true(*ours >= 0);
  assert_int_equal(setsockopt(*ours, SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  close(lfd);
  fcntl(*theirs, F_SETFL, fcntl(*theirs, F_GETFL) | O_NONBLOCK);
}

/* Queues TOTAL bytes, closes with FLUSH, lets the peer read at `reads_per_tick` x 8 KiB every 100 ms
 * and runs the loop until the peer saw EOF or `limit_ms` passed, then until the stream released its
 * socket (the peer's fd stays open). */
static void run_close(struct peer *p, uint64_t limit_ms) {
  uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  int ours;
  tcp_pair(&ours, &p->fd);
  struct azr__stream *s = NULL;
  static const struct azr__stream_callbacks cb = {.on_connect = on_connect};
  assert_int_equal(azr__stream_accept(&loop, NULL, NULL, ours, NULL, &cb, NULL, &s), AZR_OK);
  uv_run(&loop, UV_RUN_NOWAIT); /* on_connect */
  static uint8_t data[TOTAL];
  memset(data, 'x', sizeof data);
  assert_int_equal(azr__stream_write(s, data, sizeof data), AZR_OK);
  assert_true(azr__stream_queued(s) > TOTAL / 2); /* the kernel took little: the queue holds it */
  azr__stream_close(s, AZR__CLOSE_FLUSH);
  uv_timer_init(&loop, &p->tick);
  p->tick.data = p;
  uv_timer_start(&p->tick, peer_tick, 100, 100);
  uint64_t start = uv_now(&loop);
  while (!p->eof && uv_now(&loop) - start < limit_ms) uv_run(&loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&p->tick, NULL);
  while (uv_run(&loop, UV_RUN_DEFAULT)) {
  }
  assert_int_equal(uv_loop_close(&loop), 0);
}

/* ~160 KiB/s: the 1.5 MiB queue takes about 9 s, well past the 5 s linger, but every tick is
 * progress. Before the fix the stream reset the connection 5 s after the close. */
static void test_slow_reader_gets_everything(void **state) {
  (void)state;
  struct peer p = {.reads_per_tick = 2};
  run_close(&p, 30000);
  assert_true(p.eof);
  assert_false(p.reset);
  assert_int_equal(p.received, TOTAL);
  close(p.fd);
}

/* A peer that stops reading: the close gives up CLOSE_LINGER_MS (5 s) after the last progress and
 * resets the connection, so a dead peer cannot hold the queue forever. */
static void test_stopped_reader_is_cut(void **state) {
  (void)state;
  struct peer p = {.reads_per_tick = 0};
  uint64_t t0 = uv_hrtime();
  run_close(&p, 200); /* returns once the stream released its socket */
  double waited_s = (double)(uv_hrtime() - t0) / 1e9;
  assert_true(waited_s > 4.0 && waited_s < 9.0);
  int flags = fcntl(p.fd, F_GETFL);
  fcntl(p.fd, F_SETFL, flags & ~O_NONBLOCK);
  char buf[8192];
  ssize_t n;
  while ((n = recv(p.fd, buf, sizeof buf, 0)) > 0) p.received += (size_t)n;
  assert_true(n < 0); /* a reset, not an orderly end */
  assert_true(p.received < TOTAL);
  close(p.fd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_slow_reader_gets_everything),
    cmocka_unit_test(test_stopped_reader_is_cut),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
