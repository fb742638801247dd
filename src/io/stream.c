/* SPDX-License-Identifier: MIT */
/* Stream core: poll interest, read pump, write queue, close and release. */
#include "io/stream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "azrelay/common.h"
#include "io/transports.h"

#define DEFAULT_READ_SIZE (64u * 1024u)
#define DEFAULT_LOW_WATER (64u * 1024u)
#define DEFAULT_HIGH_WATER (256u * 1024u)
#define DEFAULT_QUEUE_CAP (64u * 1024u * 1024u)
/* Reads per readiness event before yielding to other streams. */
#define READS_PER_EVENT 16
/* How long a closing stream waits for the peer to take a byte of what is still queued: the timer
 * restarts whenever a write makes progress, so a slow but live peer (a forwarding target on a loaded
 * machine) still gets everything a cleanly closed sender sent, while one that stopped reading is cut
 * after this long. The queue cannot grow while closing, so the memory held is bounded. */
#define CLOSE_LINGER_MS 5000
#define CLOSE_DRAIN_MS 2000

static void update_poll(struct azr__stream *s);
static void on_defer(uv_timer_t *t);
static void on_close_deadline(uv_timer_t *t);
static void finish_close(struct azr__stream *s);

static void on_handle_closed(uv_handle_t *h) {
  struct azr__stream *s = h->data;
  if (--s->handles_open == 0) {
    azr__free(s->mem, s->rbuf);
    azr__buf_free(&s->wq);
    azr__free(s->mem, s);
  }
}

static void schedule_defer(struct azr__stream *s) {
  if (!s->released && !uv_is_active((uv_handle_t *)&s->defer)) uv_timer_start(&s->defer, on_defer, 0, 0);
}

void azr__stream_fail(struct azr__stream *s, int status, const char *fmt, ...) {
  s->error = status;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->error_text, sizeof s->error_text, fmt, ap);
  va_end(ap);
}

const char *azr__stream_error(const struct azr__stream *s) { return s->error_text[0] ? s->error_text : ""; }

static size_t wq_len(const struct azr__stream *s) { return s->wq.len - s->wq_head; }

size_t azr__stream_queued(const struct azr__stream *s) {
  size_t n = wq_len(s);
  if (s->transport && s->transport->pending_output && s->transport_data && !s->released)
    n += s->transport->pending_output((struct azr__stream *)s);
  return n;
}


static void report_end(struct azr__stream *s, int status) {
  if (s->end_reported) return;
  s->end_reported = true;
  s->read_ended = true;
  if (s->state == AZR__STREAM_OPEN && s->cb.on_end) s->cb.on_end(s, status);
}

static void read_pump(struct azr__stream *s) {
  if (s->in_read_pump) return;
  s->in_read_pump = true;
  s->read_wants_write = false;
  /* What the owner writes back while handling this batch (echoes, pongs, acknowledgements) leaves
   * together after it: one TLS write and one system call instead of one per message. */
  bool cork_here = !s->corked && s->state == AZR__STREAM_OPEN;
  if (cork_here) s->corked = true;
  /* A relay's other leg gathers what this batch produces for it the same way. */
  struct azr__stream *partner = s->cork_partner;
  bool cork_partner = cork_here && partner && partner->state == AZR__STREAM_OPEN && !partner->corked;
  if (cork_partner) partner->corked = true;
  for (int i = 0; i < READS_PER_EVENT && !s->released; i++) {
    bool discard = s->state == AZR__STREAM_CLOSING;
    if (!discard && (s->state != AZR__STREAM_OPEN || s->read_paused || s->read_ended)) break;
    if (discard && !s->draining) break;
    /* The read buffer exists while bytes flow; an idle stream gives it back (below). */
    if (!s->rbuf && !(s->rbuf = azr__malloc(s->mem, s->rbuf_size))) {
      azr__stream_fail(s, AZR_E_NOMEM, "out of memory for the read buffer");
      report_end(s, AZR_E_NOMEM);
      break;
    }
    ssize_t n = s->transport->read(s, s->rbuf, s->rbuf_size);
    if (n > 0) {
      s->bytes_read += (uint64_t)n;
      if (!discard && s->cb.on_read) s->cb.on_read(s, s->rbuf, (size_t)n);
      continue;
    }
    if (n == AZR__IO_WANT_READ) {
      /* Drained: no callback holds the buffer now, and an idle connection should not keep 64 KiB. */
      if (!(s->transport->has_pending && s->transport->has_pending(s))) {
        azr__free(s->mem, s->rbuf);
        s->rbuf = NULL;
      }
      break;
    }
    if (n == AZR__IO_WANT_WRITE) {
      s->read_wants_write = true;
      break;
    }
    /* EOF or error */
    if (discard) {
      s->in_read_pump = false;
      finish_close(s);
      return;
    }
    report_end(s, n == 0 ? AZR_OK : (s->error ? s->error : AZR_E_IO));
    break;
  }
  s->in_read_pump = false;
  /* A partner closed meanwhile was uncorked by its close and is still allocated (freed from the
   * loop's close callbacks), so this is safe. */
  if (cork_partner) azr__stream_uncork(partner);
  if (cork_here) azr__stream_uncork(s);
  if (s->released) return;
  if (s->state == AZR__STREAM_OPEN && !s->read_paused && !s->read_ended && s->transport->has_pending &&
      s->transport->has_pending(s)) {
    s->pending_read = true;
    schedule_defer(s);
  }
  if (s->state != AZR__STREAM_FAILED) update_poll(s);
}

/* Writes queued bytes until the socket stops taking them. Returns false after a write error. */
static bool flush_queue(struct azr__stream *s) {
  size_t queued_before = azr__stream_queued(s);
  s->write_wants_read = false;
  if (s->transport->flush) {
    int f = s->transport->flush(s);
    if (f == AZR__IO_ERROR) {
      s->wq_head = s->wq.len = 0;
      return false;
    }
    if (f == AZR__IO_WANT_WRITE) return true;
  }
  while (wq_len(s) > 0) {
    ssize_t n = s->transport->write(s, s->wq.data + s->wq_head, wq_len(s));
    if (n > 0) {
      s->wq_head += (size_t)n;
      s->bytes_written += (uint64_t)n;
      continue;
    }
    if (n == AZR__IO_WANT_READ) s->write_wants_read = true;
    if (n == AZR__IO_WANT_READ || n == AZR__IO_WANT_WRITE) break;
    /* Write error: nothing more can be sent. */
    s->wq_head = s->wq.len = 0;
    return false;
  }
  if (s->state == AZR__STREAM_CLOSING && !s->draining && azr__stream_queued(s) < queued_before)
    uv_timer_start(&s->deadline, on_close_deadline, CLOSE_LINGER_MS, 0);
  if (s->wq_head == s->wq.len) {
    s->wq_head = 0;
    azr__buf_reset(&s->wq);
  } else if (s->wq_head > (1u << 20) && s->wq_head > s->wq.len / 2) {
    azr__buf_consume(&s->wq, s->wq_head);
    s->wq_head = 0;
  }
  return true;
}

static void maybe_shut_write(struct azr__stream *s) {
  if (!s->shut_write_wanted || s->write_shut || s->fd < 0 || s->state != AZR__STREAM_OPEN) return;
  if (azr__stream_queued(s)) return;
  s->write_shut = true;
  if (s->transport->shutdown) s->transport->shutdown(s);
  shutdown(s->fd, SHUT_WR);
}

void azr__stream_shutdown_write(struct azr__stream *s) {
  s->shut_write_wanted = true;
  maybe_shut_write(s);
}

static void after_flush(struct azr__stream *s) {
  if (s->state == AZR__STREAM_CLOSING) {
    if (azr__stream_queued(s) == 0 && !s->draining) finish_close(s);
    return;
  }
  if (s->above_high && azr__stream_queued(s) < s->low_water) {
    s->above_high = false;
    if (s->state == AZR__STREAM_OPEN && s->cb.on_drain) s->cb.on_drain(s);
  }
  if (!s->released) maybe_shut_write(s);
}

/* A queue that drained inside a write or an uncork (not in on_poll) must still report on_drain,
 * or an owner that paused its other side on our high water would wait forever. Reported from the
 * loop, never inside the caller. */
static void drain_later(struct azr__stream *s) {
  if (s->above_high && azr__stream_queued(s) < s->low_water && !s->pending_drain) {
    s->pending_drain = true;
    schedule_defer(s);
  }
}

static void do_handshake(struct azr__stream *s) {
  int r = s->transport->handshake(s);
  if (r == 0) {
    s->state = AZR__STREAM_OPEN;
    uv_timer_stop(&s->deadline);
    if (s->cb.on_connect) s->cb.on_connect(s, AZR_OK, "");
    if (s->state == AZR__STREAM_OPEN) {
      if (azr__stream_queued(s) && !flush_queue(s)) report_end(s, s->error ? s->error : AZR_E_IO);
      read_pump(s);
    }
    return;
  }
  if (r == AZR__IO_WANT_READ || r == AZR__IO_WANT_WRITE) {
    s->read_wants_write = r == AZR__IO_WANT_WRITE;
    update_poll(s);
    return;
  }
  s->state = AZR__STREAM_FAILED;
  if (s->poll_active) uv_poll_stop(&s->poll);
  s->poll_active = false;
  if (s->cb.on_connect) s->cb.on_connect(s, s->error ? s->error : AZR_E_TLS_HANDSHAKE, azr__stream_error(s));
}

static void on_poll(uv_poll_t *h, int status, int events) {
  struct azr__stream *s = h->data;
  /* A socket error during a TLS handshake: the handshake reads what arrived before it (the peer's
   * alert says more than the reset that followed) and fails with that. */
  if (status < 0 && s->state == AZR__STREAM_CONNECTING && s->transport->handshake) {
    do_handshake(s);
    return;
  }
  if (status < 0) {
    /* libuv reports a socket error (POLLERR) as UV_EBADF; the socket knows the real cause. */
    int err = 0;
    socklen_t len = sizeof err;
    if (s->fd >= 0 && getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err)
      azr__stream_fail(s, azr__status_from_errno(err), "%s", strerror(err));
    else
      azr__stream_fail(s, AZR_E_IO, "poll: %s", uv_strerror(status));
    if (s->state == AZR__STREAM_CLOSING) {
      finish_close(s);
      return;
    }
    report_end(s, AZR_E_IO);
    update_poll(s);
    return;
  }
  if (s->state == AZR__STREAM_CONNECTING) {
    if (s->transport->handshake) do_handshake(s);
    return;
  }
  bool readable = events & UV_READABLE, writable = events & UV_WRITABLE;
  if ((writable && !s->write_wants_read) || (readable && s->write_wants_read)) {
    if (!flush_queue(s)) {
      if (s->state == AZR__STREAM_CLOSING) {
        finish_close(s);
        return;
      }
      report_end(s, s->error ? s->error : AZR_E_CONN_RESET);
    }
    after_flush(s);
    if (s->released) return;
  }
  if ((readable && !s->read_wants_write) || (writable && s->read_wants_write)) read_pump(s);
  else update_poll(s);
}

static void update_poll(struct azr__stream *s) {
  if (s->fd < 0 || s->released || s->state == AZR__STREAM_FAILED) return;
  int ev = 0;
  bool reading = (s->state == AZR__STREAM_OPEN && !s->read_paused && !s->read_ended) ||
                 (s->state == AZR__STREAM_CLOSING && s->draining);
  if (s->state == AZR__STREAM_CONNECTING) {
    ev = s->read_wants_write ? UV_WRITABLE : UV_READABLE;
  } else {
    if (reading) ev |= s->read_wants_write ? UV_WRITABLE : UV_READABLE;
    if (azr__stream_queued(s)) ev |= s->write_wants_read ? UV_READABLE : UV_WRITABLE;
  }
  if (ev == s->poll_events && (ev == 0) == !s->poll_active) return;
  if (ev) {
    uv_poll_start(&s->poll, ev, on_poll);
    s->poll_active = true;
  } else if (s->poll_active) {
    uv_poll_stop(&s->poll);
    s->poll_active = false;
  }
  s->poll_events = ev;
}

static void on_defer(uv_timer_t *t) {
  struct azr__stream *s = t->data;
  if (s->released) return;
  if (s->pending_connect) {
    s->pending_connect = false;
    if (s->transport->handshake) {
      do_handshake(s);
    } else if (s->state == AZR__STREAM_CONNECTING) {
      s->state = AZR__STREAM_OPEN;
      if (s->cb.on_connect) s->cb.on_connect(s, AZR_OK, "");
      if (s->state == AZR__STREAM_OPEN) {
        if (azr__stream_queued(s) && !flush_queue(s)) report_end(s, s->error ? s->error : AZR_E_IO);
        read_pump(s);
      }
    }
  }
  if (s->pending_end) {
    s->pending_end = false;
    report_end(s, s->error ? s->error : AZR_E_CONN_RESET);
  }
  if (s->pending_drain) {
    s->pending_drain = false;
    if (s->state == AZR__STREAM_OPEN && s->above_high && azr__stream_queued(s) < s->low_water) {
      s->above_high = false;
      if (s->cb.on_drain) s->cb.on_drain(s);
      if (s->released) return;
    }
  }
  if (s->pending_read) {
    s->pending_read = false;
    read_pump(s);
  }
}

int azr__stream_new(uv_loop_t *loop, const struct azr__mem *mem, const struct azr__log *log,
                    const struct azr__stream_callbacks *cb, void *owner, struct azr__stream **out) {
  struct azr__stream *s = azr__calloc(mem, 1, sizeof *s);
  if (!s) return AZR_E_NOMEM;
  s->loop = loop;
  s->mem = mem ? mem : azr__mem_default();
  s->log = log;
  s->fd = -1;
  s->state = AZR__STREAM_CONNECTING;
  if (cb) s->cb = *cb;
  s->owner = owner;
  s->rbuf_size = DEFAULT_READ_SIZE;
  s->low_water = DEFAULT_LOW_WATER;
  s->high_water = DEFAULT_HIGH_WATER;
  azr__buf_init(&s->wq, s->mem, DEFAULT_QUEUE_CAP);
  uv_timer_init(loop, &s->defer);
  uv_timer_init(loop, &s->deadline);
  s->defer.data = s->deadline.data = s;
  s->handles_open = 2;
  *out = s;
  return AZR_OK;
}

static void peer_name(struct azr__stream *s) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getpeername(s->fd, (struct sockaddr *)&ss, &len) != 0) return;
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    uv_ip4_name(a, s->peer_addr, sizeof s->peer_addr);
    s->peer_port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    uv_ip6_name(a, s->peer_addr, sizeof s->peer_addr);
    s->peer_port = ntohs(a->sin6_port);
  }
}

void azr__stream_connected(struct azr__stream *s, int fd, int status, const char *detail) {
  if (status != AZR_OK) {
    s->state = AZR__STREAM_FAILED;
    if (!s->error) azr__stream_fail(s, status, "%s", detail ? detail : "");
    if (s->cb.on_connect) s->cb.on_connect(s, status, azr__stream_error(s));
    return;
  }
  s->fd = fd;
  if (uv_poll_init_socket(s->loop, &s->poll, fd) == 0) {
    s->poll.data = s;
    s->handles_open++;
  } else {
    s->state = AZR__STREAM_FAILED;
    azr__stream_fail(s, AZR_E_IO, "cannot watch socket %d", fd);
    if (s->cb.on_connect) s->cb.on_connect(s, AZR_E_IO, s->error_text);
    return;
  }
  peer_name(s);
  s->pending_connect = true;
  schedule_defer(s);
}

void azr__stream_set_read_size(struct azr__stream *s, size_t size) {
  s->rbuf_size = size < 4096 ? 4096 : size; /* the next buffer has the new size */
}

void azr__stream_set_watermarks(struct azr__stream *s, size_t low, size_t high, size_t cap) {
  if (low) s->low_water = low;
  if (high) s->high_water = high;
  if (cap) s->wq.max = cap;
}

void azr__stream_set_owner(struct azr__stream *s, const struct azr__stream_callbacks *cb, void *owner) {
  if (cb) s->cb = *cb;
  s->owner = owner;
}

/* Hands bytes to the transport until it stops taking them. Returns AZR_OK (what is left in *p, *len
 * must be queued) or the failure, reported from the loop. */
static int write_now(struct azr__stream *s, const uint8_t **p, size_t *len) {
  while (*len > 0) {
    ssize_t n = s->transport->write(s, *p, *len);
    if (n > 0) {
      s->bytes_written += (uint64_t)n;
      *p += n;
      *len -= (size_t)n;
      continue;
    }
    if (n == AZR__IO_WANT_READ) s->write_wants_read = true;
    if (n == AZR__IO_WANT_READ || n == AZR__IO_WANT_WRITE) break;
    /* The peer is gone; report it from the loop, not from inside the caller. */
    s->pending_end = true;
    schedule_defer(s);
    return s->error ? s->error : AZR_E_CONN_RESET;
  }
  return AZR_OK;
}

/* A corked TLS stream encrypts a large write at once into the transport's output (sent at uncork)
 * instead of copying it into the queue first. Small writes still gather in the queue, so a run of
 * small messages becomes one record rather than one each; before a large write they are topped up
 * to a full record from its first bytes and encrypted ahead of it, which keeps the order. */
#define WRITE_THROUGH_MIN 16384u

static bool writes_through(const struct azr__stream *s, size_t len) {
  return s->corked && s->transport->flush && len >= WRITE_THROUGH_MIN && !s->write_wants_read;
}

int azr__stream_write(struct azr__stream *s, const void *data, size_t len) {
  if (s->state == AZR__STREAM_CLOSING || s->state == AZR__STREAM_FAILED) return AZR_E_CLOSED;
  if (s->pending_end) return s->error ? s->error : AZR_E_CLOSED;
  if (s->write_shut || s->shut_write_wanted) return AZR_E_CLOSED;
  if (len == 0) return AZR_OK;
  const uint8_t *p = data;
  if (s->state == AZR__STREAM_OPEN && !s->corked && azr__stream_queued(s) == 0 && !s->write_wants_read) {
    int rc = write_now(s, &p, &len);
    if (rc) return rc;
    if (len == 0) {
      /* The transport may hold what the socket did not take (TLS records): it counts as queued,
       * and the poll must wait for the socket to take it. */
      if (azr__stream_queued(s) >= s->high_water) s->above_high = true;
      else drain_later(s);
      if (azr__stream_queued(s)) update_poll(s);
      return AZR_OK;
    }
  } else if (s->state == AZR__STREAM_OPEN && writes_through(s, len)) {
    if (wq_len(s) > 0) {
      size_t fill = WRITE_THROUGH_MIN - wq_len(s) % WRITE_THROUGH_MIN;
      if (fill > len) fill = len;
      int rc = azr__buf_append(&s->wq, p, fill);
      if (rc) return rc;
      p += fill;
      len -= fill;
      const uint8_t *q = s->wq.data + s->wq_head;
      size_t qlen = wq_len(s);
      rc = write_now(s, &q, &qlen);
      s->wq_head = s->wq.len - qlen;
      if (rc) return rc;
    }
    if (wq_len(s) == 0) {
      s->wq_head = 0;
      azr__buf_reset(&s->wq);
      int rc = write_now(s, &p, &len);
      if (rc) return rc;
    }
    if (len == 0) {
      if (azr__stream_queued(s) >= s->high_water) s->above_high = true;
      return AZR_OK;
    }
  }
  if (s->wq_head && s->wq_head == s->wq.len) {
    s->wq_head = 0;
    azr__buf_reset(&s->wq);
  }
  int rc = azr__buf_append(&s->wq, p, len);
  if (rc) return rc;
  if (azr__stream_queued(s) >= s->high_water) s->above_high = true;
  if (!s->corked) update_poll(s);
  return AZR_OK;
}

void azr__stream_cork(struct azr__stream *s) { s->corked = true; }

void azr__stream_uncork(struct azr__stream *s) {
  if (!s->corked) return;
  s->corked = false;
  if (s->state != AZR__STREAM_OPEN || s->released) return;
  if (azr__stream_queued(s) && !s->write_wants_read && !flush_queue(s)) {
    s->pending_end = true; /* reported from the loop */
    schedule_defer(s);
    return;
  }
  if (azr__stream_queued(s) >= s->high_water) s->above_high = true;
  else drain_later(s);
  update_poll(s);
}

int azr__stream_write2(struct azr__stream *s, const void *a, size_t alen, const void *b, size_t blen) {
  /* Small header + payload: coalesce so a TLS record or TCP segment is not spent on a few bytes. */
  if (alen + blen <= 16384 || azr__stream_queued(s) > 0 || s->corked) {
    if (azr__stream_queued(s) > 0 || s->state != AZR__STREAM_OPEN || s->corked) {
      int rc = azr__stream_write(s, a, alen);
      return rc ? rc : azr__stream_write(s, b, blen);
    }
    uint8_t tmp[16384];
    if (alen) memcpy(tmp, a, alen);
    if (blen) memcpy(tmp + alen, b, blen);
    return azr__stream_write(s, tmp, alen + blen);
  }
  int rc = azr__stream_write(s, a, alen);
  return rc ? rc : azr__stream_write(s, b, blen);
}

void azr__stream_pause(struct azr__stream *s) {
  if (s->read_paused) return;
  s->read_paused = true;
  update_poll(s);
}

void azr__stream_resume(struct azr__stream *s) {
  if (!s->read_paused) return;
  s->read_paused = false;
  if (s->state != AZR__STREAM_OPEN) return;
  /* Bytes may already sit decrypted in the TLS layer, invisible to the poll. */
  s->pending_read = true;
  schedule_defer(s);
  update_poll(s);
}

static void release(struct azr__stream *s) {
  s->released = true;
  uv_timer_stop(&s->defer);
  uv_timer_stop(&s->deadline);
  if (s->poll_active) uv_poll_stop(&s->poll);
  s->poll_active = false;
  if (s->transport && s->transport->release) s->transport->release(s); /* may close fd */
  else if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  if (s->handles_open >= 3) uv_close((uv_handle_t *)&s->poll, on_handle_closed);
  uv_close((uv_handle_t *)&s->defer, on_handle_closed);
  uv_close((uv_handle_t *)&s->deadline, on_handle_closed);
}

static void finish_close(struct azr__stream *s) {
  if (s->released) return;
  if (!s->draining && s->fd >= 0 && !s->close_reset_pending) {
    /* Orderly: TLS close_notify, FIN, then read and discard until the peer closes too, so unread
     * input does not turn our close into a reset that could destroy the reply we just sent. */
    if (s->transport->shutdown) s->transport->shutdown(s);
    shutdown(s->fd, SHUT_WR);
    s->draining = true;
    uv_timer_start(&s->deadline, on_close_deadline, CLOSE_DRAIN_MS, 0);
    update_poll(s);
    read_pump(s);
    return;
  }
  release(s);
}

static void on_close_deadline(uv_timer_t *t) {
  struct azr__stream *s = t->data;
  if (!s->draining && s->fd >= 0) {
    /* Queued bytes are being dropped: reset, so the peer sees a failure and not a clean but
     * truncated end. */
    struct linger lg = {1, 0};
    setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  s->close_reset_pending = true;
  release(s);
}

void azr__stream_close(struct azr__stream *s, enum azr__stream_close_mode mode) {
  if (!s || s->state == AZR__STREAM_CLOSING) return;
  bool was_open = s->state == AZR__STREAM_OPEN;
  s->state = AZR__STREAM_CLOSING;
  s->corked = false;
  s->cork_partner = NULL;
  s->cb = (struct azr__stream_callbacks){0};
  s->pending_connect = s->pending_end = s->pending_read = false;
  uv_timer_stop(&s->deadline);
  if (mode == AZR__CLOSE_ABORT || !was_open || s->fd < 0) {
    if (mode == AZR__CLOSE_ABORT && s->fd >= 0) {
      struct linger lg = {1, 0};
      setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    s->close_reset_pending = true;
    release(s);
    return;
  }
  uv_timer_start(&s->deadline, on_close_deadline, CLOSE_LINGER_MS, 0);
  if (azr__stream_queued(s) == 0) finish_close(s);
  else update_poll(s);
}
