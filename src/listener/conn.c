/* SPDX-License-Identifier: MIT */
/* Accepted connections: received data as ConnectionDataIn events, sending with bounded queues
 * (asynchronous or blocking), SendFile streaming, MessageLength parts, pause/resume and closing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "listener/listener_internal.h"
#include "util/clock.h"
#include "util/utf8.h"

struct azr__file_source {
  struct azr__conn *c;
  int fd;
  uint64_t sent;
  uint64_t size;  /* of a regular file when opened: it is sent as one message of that length */
  bool regular;
  int error;      /* errno of a failed read; 0 with AZR_E_FILE: the file shrank */
  bool interrupted;
  bool reported; /* the interruption was already reported to the application */
};

void azr__conn_options(azr_listener *l, struct azr__ws_options *o) {
  azr__settings_ws_options(&l->set, o);
  o->log = &l->log;
  o->log_category = "rendezvous";
  o->drop_input_after_close = true;
  /* The peer's Close is answered only once every message before it reached the application and it
   * is not paused: what it sends in answer to them goes out ahead of our Close (an echo that paused
   * for back-pressure lost its tail otherwise). Forwarded byte streams go further and half-close
   * like TCP: the target may still answer after the sender's end (w_peer_close). */
  o->session.defer_close_reply = true;
}

static struct azr__conn *conn_of(struct azr__ws *ws) { return azr__ws_user_data(ws); }

/* ---- websocket callbacks ---- */

static void w_open(struct azr__ws *ws, int status, const struct azr__http_head *resp, const char *detail) {
  struct azr__conn *c = conn_of(ws);
  azr_listener *l = c->l;
  if (status != AZR_OK) {
    c->ws = NULL;
    char desc[400];
    snprintf(desc, sizeof desc, "rendezvous failed: %s", detail && *detail ? detail : azr_strerror(status));
    (void)resp;
    l->stats.connections_failed++;
    AZR__LLOG(l, AZR_LOG_INFO, "rendezvous", "connection %llu: %s", (unsigned long long)c->id, desc);
    azr_connection_event ev = {c->id, status, desc};
    AZR__FIRE(l, on_connection_connected, &ev);
    azr_connection_disconnected_event dev = {c->id, 1006, desc, status};
    AZR__FIRE(l, on_connection_disconnected, &dev);
    azr__conn_release(c);
    return;
  }
  c->state = AZR__CONN_OPEN;
  l->stats.connections_accepted++;
  snprintf(c->sub_protocol, sizeof c->sub_protocol, "%s", azr__ws_protocol(ws));
  AZR__LLOG(l, AZR_LOG_VERBOSE, "rendezvous", "connection %llu open", (unsigned long long)c->id);
  azr_connection_event ev = {c->id, AZR_OK, "OK"};
  if (azr__forward_enabled(l)) azr__forward_start(c);
  AZR__FIRE(l, on_connection_connected, &ev);
  if (c->state == AZR__CONN_OPEN && !c->fwd) AZR__FIRE(l, on_connection_ready_to_send, &ev);
}

static void w_begin(struct azr__ws *ws, uint8_t opcode) {
  struct azr__conn *c = conn_of(ws);
  c->in_opcode = opcode;
  c->in_first = true;
}

static void w_data(struct azr__ws *ws, uint8_t *data, size_t len, bool frame_end, bool message_end) {
  (void)frame_end;
  struct azr__conn *c = conn_of(ws);
  azr_listener *l = c->l;
  if (!len && !message_end) return;
  c->total_received += len;
  if (c->fwd) { /* forwarded: the bytes go to the target, not to the application */
    azr__forward_data(c, data, len);
    return;
  }
  azr_data_in_event ev;
  ev.conn_id = c->id;
  ev.format = c->in_first ? (c->in_opcode == AZR__WS_TEXT ? AZR_DATA_TEXT : AZR_DATA_BINARY) : AZR_DATA_AUTOMATIC;
  ev.data = data;
  ev.len = len;
  ev.eom = message_end;
  c->in_first = false;
  AZR__FIRE(l, on_connection_data_in, &ev);
}

static void w_writable(struct azr__ws *ws) {
  struct azr__conn *c = conn_of(ws);
  if (c->fwd) azr__forward_writable(c);
  if (!c->want_ready || c->state != AZR__CONN_OPEN) return;
  c->want_ready = false;
  azr_connection_event ev = {c->id, AZR_OK, "OK"};
  AZR__FIRE(c->l, on_connection_ready_to_send, &ev);
}

static void w_close(struct azr__ws *ws, int status, uint16_t code, const char *reason) {
  struct azr__conn *c = conn_of(ws);
  azr_listener *l = c->l;
  c->ws = NULL;
  l->stats.connections_closed++;
  azr__forward_closed(c, status == AZR_OK);
  AZR__LLOG(l, AZR_LOG_INFO, "rendezvous", "connection %llu closed: %u %s%s%s", (unsigned long long)c->id, code, reason,
            status ? " / " : "", status ? azr_status_name(status) : "");
  if (c->file_error) { /* the SendFile failure that ended the connection: one report, with its detail */
    azr_connection_error_event eev = {c->id, c->file_error, c->file_error_text};
    AZR__FIRE(l, on_connection_error, &eev);
  } else if (status && status != AZR_E_CLOSED) {
    azr_connection_error_event eev = {c->id, status, reason};
    AZR__FIRE(l, on_connection_error, &eev);
  }
  azr_connection_disconnected_event ev = {c->id, code, reason, status};
  AZR__FIRE(l, on_connection_disconnected, &ev);
  azr__conn_release(c);
}

static void w_peer_close(struct azr__ws *ws, uint16_t code, const char *reason) {
  (void)reason;
  struct azr__conn *c = conn_of(ws);
  if (c->fwd) azr__forward_peer_closed(c);
  else (void)azr__ws_close(ws, code == 1005 ? 0 : code, "");
}

const struct azr__ws_callbacks azr__conn_ws_callbacks = {.on_open = w_open,
                                                         .on_peer_close = w_peer_close,
                                                         .on_message_begin = w_begin,
                                                         .on_message_data = w_data,
                                                         .on_writable = w_writable,
                                                         .on_close = w_close};

/* ---- sending ---- */

static int open_conn(azr_listener *l, azr_conn_id id, struct azr__conn **out) {
  if (!l) return AZR_E_INVALID_ARG;
  struct azr__conn *c = azr__conn_find(l, id);
  if (!c) {
    azr__listener_set_error(l, "no connection %llu", (unsigned long long)id);
    return AZR_E_INVALID_CONN_ID;
  }
  if (c->state != AZR__CONN_OPEN || !c->ws) {
    azr__listener_set_error(l, "connection %llu is not open", (unsigned long long)id);
    return c->state == AZR__CONN_CONNECTING || c->state == AZR__CONN_PENDING ? AZR_E_BAD_STATE : AZR_E_CLOSED;
  }
  *out = c;
  return AZR_OK;
}

static void on_wait_timer(uv_timer_t *t) { uv_stop(t->loop); }

/* Blocking send: runs the loop until the queue takes the data, the timeout passes, or the wait is
 * interrupted. Inside a callback the loop cannot be re-entered, and an application's own loop must
 * never be run from inside the application's code (libuv forbids re-entering uv_run), so in both
 * cases the call behaves as if asynchronous: AZR_E_WOULDBLOCK, then on_connection_ready_to_send. */
static int send_with_timeout(azr_listener *l, struct azr__conn *c, uint8_t opcode, const void *data, size_t len,
                             bool fin) {
  azr_conn_id id = c->id;
  int rc = azr__ws_send_part(c->ws, opcode, data, len, fin);
  if (rc != AZR_E_WOULDBLOCK || c->timeout_s <= 0 || l->in_callback || !l->owns_loop) return rc;
  uint64_t deadline = azr__now_ms() + (uint64_t)c->timeout_s * 1000u;
  c->interrupted = false;
  uv_timer_t t;
  uv_timer_init(l->loop, &t);
  while (rc == AZR_E_WOULDBLOCK) {
    uint64_t now = azr__now_ms();
    if (now >= deadline) {
      rc = AZR_E_TIMEOUT;
      break;
    }
    uv_timer_start(&t, on_wait_timer, deadline - now, 0);
    uv_run(l->loop, UV_RUN_ONCE);
    uv_timer_stop(&t);
    c = azr__conn_find(l, id);
    if (!c || !c->ws || c->state != AZR__CONN_OPEN) {
      rc = AZR_E_CLOSED;
      break;
    }
    if (c->interrupted) {
      c->interrupted = false;
      rc = AZR_E_INTERRUPTED;
      break;
    }
    rc = azr__ws_send_part(c->ws, opcode, data, len, fin);
  }
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(l->loop, UV_RUN_NOWAIT);
  return rc;
}

static int send_message(azr_listener *l, azr_conn_id id, uint8_t opcode, const void *data, size_t len) {
  struct azr__conn *c;
  int rc = open_conn(l, id, &c);
  if (rc) return rc;
  if (len && !data) return AZR_E_INVALID_ARG;
  bool fin = true;
  if (c->message_remaining) {
    if (len > c->message_remaining) {
      azr__listener_set_error(l, "send of %zu bytes exceeds the %llu bytes left of MessageLength", len,
                              (unsigned long long)c->message_remaining);
      return AZR_E_INVALID_ARG;
    }
    fin = len == c->message_remaining;
  }
  /* Text sent in parts (MessageLength) is checked as one message: a character may span two parts. */
  struct azr__utf8 utf8 = c->out_utf8;
  if (opcode == AZR__WS_TEXT && (!azr__utf8_feed(&utf8, data, len) || (fin && !azr__utf8_complete(&utf8)))) {
    azr__listener_set_error(l, "text is not valid UTF-8");
    return AZR_E_UTF8;
  }
  rc = send_with_timeout(l, c, opcode, data, len, fin);
  c = azr__conn_find(l, id);
  if (!c) return rc ? rc : AZR_E_CLOSED;
  if (rc == AZR_E_WOULDBLOCK) {
    c->want_ready = true;
    azr__listener_set_error(l, "the send queue of connection %llu is full", (unsigned long long)id);
    return rc;
  }
  if (rc) {
    azr__listener_set_error(l, "send on connection %llu failed: %s", (unsigned long long)id, azr_strerror(rc));
    return rc;
  }
  if (c->message_remaining) c->message_remaining -= len;
  c->out_utf8 = fin ? (struct azr__utf8)AZR__UTF8_INIT : utf8;
  c->bytes_sent = len;
  c->total_sent += len;
  return AZR_OK;
}

int azr_conn_send_text(azr_listener *l, azr_conn_id id, const char *text, size_t len) {
  return send_message(l, id, AZR__WS_TEXT, text, len);
}

int azr_conn_send_bytes(azr_listener *l, azr_conn_id id, const void *data, size_t len) {
  return send_message(l, id, AZR__WS_BINARY, data, len);
}

int azr_conn_send(azr_listener *l, azr_conn_id id, const void *data, size_t len) {
  struct azr__conn *c;
  int rc = open_conn(l, id, &c);
  if (rc) return rc;
  if (len && !data) return AZR_E_INVALID_ARG;
  switch (c->data_format) {
  case AZR_DATA_TEXT:
    return send_message(l, id, AZR__WS_TEXT, data, len);
  case AZR_DATA_BINARY:
    return send_message(l, id, AZR__WS_BINARY, data, len);
  case AZR_DATA_PING:
  case AZR_DATA_PONG:
    if (len > 125) return AZR_E_TOO_BIG;
    return c->data_format == AZR_DATA_PING ? azr__ws_ping(c->ws, data, len) : azr__ws_pong(c->ws, data, len);
  default:
    return send_message(l, id, azr__utf8_valid(data, len) ? AZR__WS_TEXT : AZR__WS_BINARY, data, len);
  }
}

int azr_conn_send_fragment(azr_listener *l, azr_conn_id id, azr_data_format format, const void *data, size_t len,
                           bool eom) {
  struct azr__conn *c;
  int rc = open_conn(l, id, &c);
  if (rc) return rc;
  if (len && !data) return AZR_E_INVALID_ARG;
  if (format != AZR_DATA_TEXT && format != AZR_DATA_BINARY) format = AZR_DATA_BINARY;
  rc = send_with_timeout(l, c, format == AZR_DATA_TEXT ? AZR__WS_TEXT : AZR__WS_BINARY, data, len, eom);
  c = azr__conn_find(l, id);
  if (!c) return rc ? rc : AZR_E_CLOSED;
  if (rc == AZR_E_WOULDBLOCK) c->want_ready = true;
  if (rc) return rc;
  c->bytes_sent = len;
  c->total_sent += len;
  return AZR_OK;
}

/* ---- SendFile ---- */

static ssize_t file_read(void *ud, uint8_t *buf, size_t len, bool *eof) {
  struct azr__file_source *f = ud;
  if (f->interrupted) {
    *eof = true; /* end the message where it stands; the application was told */
    return 0;
  }
  if (f->regular) {
    if (f->sent == f->size) {
      *eof = true;
      return 0;
    }
    if (len > f->size - f->sent) len = (size_t)(f->size - f->sent);
  }
  for (;;) {
    ssize_t n = read(f->fd, buf, len);
    if (n > 0) {
      f->sent += (uint64_t)n;
      return n;
    }
    if (n == 0) {
      if (f->regular) { /* shorter than announced by its size: truncated while we send it */
        f->error = 0;
        return -(ssize_t)AZR_E_FILE;
      }
      *eof = true;
      return 0;
    }
    if (errno == EINTR) continue;
    f->error = errno;
    return -(ssize_t)AZR_E_FILE;
  }
}

static void file_done(void *ud, int status) {
  struct azr__file_source *f = ud;
  struct azr__conn *c = f->c;
  close(f->fd);
  if (c) {
    c->file = NULL;
    azr_listener *l = c->l;
    if (status == AZR_OK && !f->interrupted) {
      c->total_sent += f->sent;
      c->bytes_sent = f->sent;
      azr_connection_event ev = {c->id, AZR_OK, "OK"};
      AZR__FIRE(l, on_connection_ready_to_send, &ev);
    } else if (f->interrupted) {
      if (!f->reported) {
        char desc[128];
        snprintf(desc, sizeof desc, "SendFile interrupted after %llu bytes", (unsigned long long)f->sent);
        azr_connection_error_event ev = {c->id, AZR_E_INTERRUPTED, desc};
        AZR__FIRE(l, on_connection_error, &ev);
      }
    } else {
      /* A failure ends the connection: w_close reports it (from the loop, once). */
      char *desc = c->file_error_text;
      size_t cap = sizeof c->file_error_text;
      if (status == AZR_E_FILE && f->error)
        snprintf(desc, cap, "SendFile: reading the file failed after %llu bytes: %s", (unsigned long long)f->sent,
                 strerror(f->error));
      else if (status == AZR_E_FILE)
        snprintf(desc, cap, "SendFile: the file ended after %llu of its %llu bytes (it shrank while being sent)",
                 (unsigned long long)f->sent, (unsigned long long)f->size);
      else snprintf(desc, cap, "SendFile did not complete: %s", azr_strerror(status));
      c->file_error = status;
    }
    azr__free(l->mem, f);
  }
}

int azr_conn_send_file(azr_listener *l, azr_conn_id id, const char *path) {
  struct azr__conn *c;
  int rc = open_conn(l, id, &c);
  if (rc) return rc;
  if (!path) return AZR_E_INVALID_ARG;
  if (c->file) {
    azr__listener_set_error(l, "a SendFile is already in progress on connection %llu", (unsigned long long)id);
    return AZR_E_WOULDBLOCK;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    azr__listener_set_error(l, "cannot open %s: %s", path, strerror(errno));
    return AZR_E_FILE;
  }
  struct azr__file_source *f = azr__calloc(l->mem, 1, sizeof *f);
  if (!f) {
    close(fd);
    return AZR_E_NOMEM;
  }
  f->c = c;
  f->fd = fd;
  struct stat st;
  /* A regular file is sent as the length it has now. Size 0 may be a /proc file: read it to EOF. */
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    f->regular = true;
    f->size = (uint64_t)st.st_size;
  }
  rc = azr__ws_send_source(c->ws, AZR__WS_BINARY, file_read, file_done, f);
  if (rc) {
    close(fd);
    azr__free(l->mem, f);
    return rc;
  }
  c->file = f;
  return AZR_OK;
}

/* ---- settings of one connection ---- */

int azr_conn_set_message_length(azr_listener *l, azr_conn_id id, uint64_t length) {
  struct azr__conn *c = l ? azr__conn_find(l, id) : NULL;
  if (!c) return AZR_E_INVALID_CONN_ID;
  c->message_remaining = length;
  return AZR_OK;
}

int azr_conn_set_data_format(azr_listener *l, azr_conn_id id, azr_data_format format) {
  struct azr__conn *c = l ? azr__conn_find(l, id) : NULL;
  if (!c) return AZR_E_INVALID_CONN_ID;
  if (format != AZR_DATA_AUTOMATIC && format != AZR_DATA_TEXT && format != AZR_DATA_BINARY && format != AZR_DATA_PING &&
      format != AZR_DATA_PONG)
    return AZR_E_INVALID_ARG;
  c->data_format = format;
  return AZR_OK;
}

int azr_conn_set_timeout(azr_listener *l, azr_conn_id id, int timeout_s) {
  struct azr__conn *c = l ? azr__conn_find(l, id) : NULL;
  if (!c) return AZR_E_INVALID_CONN_ID;
  if (timeout_s < 0) return AZR_E_INVALID_ARG;
  c->timeout_s = timeout_s;
  return AZR_OK;
}

/* Reports an interrupted SendFile from the loop, at once: the rest of the message (its final frame)
 * still goes out when the peer makes room, but the application need not wait for that. */
static void on_interrupt_report(uv_timer_t *t) {
  struct azr__conn *c = t->data;
  struct azr__file_source *f = c->file;
  if (!f || f->reported) return;
  f->reported = true;
  char desc[128];
  snprintf(desc, sizeof desc, "SendFile interrupted after %llu bytes", (unsigned long long)f->sent);
  azr_connection_error_event ev = {c->id, AZR_E_INTERRUPTED, desc};
  AZR__FIRE(c->l, on_connection_error, &ev);
}

int azr_conn_interrupt(azr_listener *l, azr_conn_id id) {
  struct azr__conn *c = l ? azr__conn_find(l, id) : NULL;
  if (!c) return AZR_E_INVALID_CONN_ID;
  c->interrupted = true;
  if (c->file && !c->file->interrupted) {
    c->file->interrupted = true;
    if (c->ws) azr__ws_source_ready(c->ws);
    if (c->state == AZR__CONN_OPEN || c->state == AZR__CONN_CLOSING) uv_timer_start(&c->timer, on_interrupt_report, 0, 0);
  }
  if (l->loop) uv_stop(l->loop);
  return AZR_OK;
}

int azr_conn_pause(azr_listener *l, azr_conn_id id) {
  struct azr__conn *c;
  int rc = open_conn(l, id, &c);
  if (rc) return rc;
  c->paused = true;
  azr__ws_pause(c->ws);
  return AZR_OK;
}

int azr_conn_resume(azr_listener *l, azr_conn_id id) {
  struct azr__conn *c;
  int rc = open_conn(l, id, &c);
  if (rc) return rc;
  c->paused = false;
  azr__ws_resume(c->ws);
  return AZR_OK;
}

int azr_conn_close(azr_listener *l, azr_conn_id id, int code, const char *reason) {
  if (!l) return AZR_E_INVALID_ARG;
  struct azr__conn *c = azr__conn_find(l, id);
  if (!c) return AZR_E_INVALID_CONN_ID;
  if (code < 1000 || code > 4999 || code == 1005 || code == 1006 || code == 1015) return AZR_E_INVALID_ARG;
  if (c->state == AZR__CONN_PENDING) {
    int status = code == 1000 ? 400 : 503;
    return azr_listener_reject(l, id, status, reason && *reason ? reason : "Rejected");
  }
  if (!c->ws) return AZR_E_CLOSED;
  if (c->state == AZR__CONN_CONNECTING) {
    azr__ws_abort(c->ws);
    return AZR_OK;
  }
  c->state = AZR__CONN_CLOSING;
  return azr__ws_close(c->ws, (uint16_t)code, reason ? reason : "");
}

int azr_conn_disconnect(azr_listener *l, azr_conn_id id) {
  if (!l) return AZR_E_INVALID_ARG;
  const char *desc = l->set.disconnect_status_description && *l->set.disconnect_status_description
                         ? l->set.disconnect_status_description
                         : (l->set.disconnect_status_code == 1000 ? "Normal Closure" : "");
  return azr_conn_close(l, id, l->set.disconnect_status_code, desc);
}

int azr_conn_set_user_data(azr_listener *l, azr_conn_id id, void *user_data) {
  struct azr__conn *c = l ? azr__conn_find(l, id) : NULL;
  if (!c) return AZR_E_INVALID_CONN_ID;
  c->user_data = user_data;
  return AZR_OK;
}

void *azr_conn_get_user_data(azr_listener *l, azr_conn_id id) {
  struct azr__conn *c = l ? azr__conn_find(l, id) : NULL;
  return c ? c->user_data : NULL;
}

int azr_conn_get_info(azr_listener *l, azr_conn_id id, azr_conn_info *info, size_t info_size) {
  if (!l || !info || info_size == 0) return AZR_E_INVALID_ARG;
  struct azr__conn *c = azr__conn_find(l, id);
  if (!c) return AZR_E_INVALID_CONN_ID;
  /* Filled in full here, then copied as far as the caller's (possibly older, smaller) struct goes. */
  azr_conn_info full, *out = &full;
  memset(out, 0, sizeof *out);
  out->id = c->id;
  out->address = c->address;
  out->relay_id = c->relay_id;
  out->connect_headers = c->connect_headers;
  out->host = c->host;
  out->remote_address = c->remote_address;
  out->remote_port = c->remote_port;
  out->sub_protocols = c->sub_protocols;
  out->extensions = c->extensions;
  out->sub_protocol = c->sub_protocol;
  out->connected = c->state == AZR__CONN_OPEN;
  out->queued_bytes = c->ws ? azr__ws_queued(c->ws) : 0;
  out->ready_to_send = out->connected && out->queued_bytes < (size_t)l->set.send_queue_size;
  out->accept_data = !c->paused;
  out->data_format = c->data_format;
  out->timeout_s = c->timeout_s;
  out->bytes_sent = c->bytes_sent;
  out->total_bytes_sent = c->total_sent;
  out->total_bytes_received = c->total_received;
  memcpy(info, &full, info_size < sizeof full ? info_size : sizeof full);
  return AZR_OK;
}

size_t azr_listener_get_connection_count(const azr_listener *l) { return l ? l->conn_count : 0; }

size_t azr_listener_get_connection_ids(const azr_listener *l, azr_conn_id *ids, size_t max) {
  if (!l) return 0;
  size_t i = 0;
  for (const struct azr__conn *c = l->conns; c; c = c->next) {
    if (ids && i < max) ids[i] = c->id;
    i++;
  }
  return i;
}
