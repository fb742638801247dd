/* SPDX-License-Identifier: MIT */
/* A listener for the interop tests, built on the public API only: echo, reject, SendFile, a pausing
 * sink and server-side close, reporting every event as one machine-readable line on stdout. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "azrelay.h"

enum mode { MODE_ECHO, MODE_REJECT, MODE_SENDFILE, MODE_FLOOD_SINK, MODE_CLOSE };

#define MAX_SETS 64

struct options {
  const char *connstr;
  const char *cacert;
  enum mode mode;
  const char *sets[MAX_SETS];
  int nsets;
  int log_level;          /* -1: no library log sink */
  int reject_status;
  const char *reject_description;
  const char *sendfile_path;
  uint64_t pause_after_bytes;
  int resume_after_ms;
  int close_code;
  const char *close_reason;
  int report_rss_ms;
  const char *report_path;
  bool quiet_data;        /* no `data` line per fragment (floods, many connections) */
  const char *http;       /* NULL: no HTTP handler; "echo": answer 200 with the body; "hold": never answer */
};

/* A fragment (or whole message) the send queue could not take yet. */
struct pending {
  struct pending *next;
  azr_data_format format;
  bool whole;             /* send with azr_conn_send_text/bytes rather than as a fragment */
  bool eom;
  size_t len;
  uint8_t data[];
};

/* What the program keeps per accepted connection (its azr_conn user data). */
struct conn {
  struct conn *prev, *next;
  azr_conn_id id;
  struct pending *head, *tail;
  azr_data_format in_format; /* format of the message being received (its first fragment's) */
  uint64_t bytes_in, messages_in, since_pause;
  bool backlog_paused, flood_paused, close_pending, close_sent, file_started, file_done;
  int64_t resume_at_ms;
};

struct app {
  struct options o;
  azr_listener *l;
  struct conn *conns;
  bool buffer_message;
  int64_t file_size;
  uint64_t connections, messages_in, bytes_in;
  long max_rss_kb;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

__attribute__((format(printf, 1, 2))) static void emit(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stdout, fmt, ap);
  va_end(ap);
  fputc('\n', stdout);
  /* The test that reads us is gone (broken pipe): stop rather than linger. */
  if (fflush(stdout) != 0 || ferror(stdout)) stop_requested = 1;
}

/* Free text for the end of a line: control characters would break the one-event-per-line format. */
static const char *one_line(const char *s, char *buf, size_t size) {
  size_t i = 0;
  for (; s && s[i] && i + 1 < size; i++) buf[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
  buf[i] = 0;
  return buf;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kb = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld", &kb) == 1) break;
  fclose(f);
  return kb;
}

/* ---- per-connection state ---- */

static struct conn *conn_get(struct app *a, azr_conn_id id) { return azr_conn_get_user_data(a->l, id); }

static struct conn *conn_new(struct app *a, azr_conn_id id) {
  struct conn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->id = id;
  c->next = a->conns;
  if (a->conns) a->conns->prev = c;
  a->conns = c;
  if (azr_conn_set_user_data(a->l, id, c) != AZR_OK) emit("error what=set_user_data id=%llu", (unsigned long long)id);
  return c;
}

static void conn_free(struct app *a, struct conn *c) {
  while (c->head) {
    struct pending *p = c->head;
    c->head = p->next;
    free(p);
  }
  if (c->prev) c->prev->next = c->next;
  else a->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  free(c);
}

/* Reading resumes only when neither the echo backlog nor the flood pause holds it. */
static void maybe_resume(struct app *a, struct conn *c) {
  if (c->backlog_paused || c->flood_paused) return;
  int rc = azr_conn_resume(a->l, c->id);
  if (rc) emit("error what=resume id=%llu code=%d", (unsigned long long)c->id, rc);
}

/* ---- echo ---- */

static int send_one(struct app *a, azr_conn_id id, azr_data_format format, bool whole, const void *data, size_t len,
                    bool eom) {
  if (whole)
    return format == AZR_DATA_TEXT ? azr_conn_send_text(a->l, id, data, len) : azr_conn_send_bytes(a->l, id, data, len);
  return azr_conn_send_fragment(a->l, id, format, data, len, eom);
}

static bool backlog_push(struct conn *c, azr_data_format format, bool whole, const uint8_t *data, size_t len,
                         bool eom) {
  struct pending *p = malloc(sizeof *p + len + 1);
  if (!p) return false;
  p->next = NULL;
  p->format = format;
  p->whole = whole;
  p->eom = eom;
  p->len = len;
  if (len) memcpy(p->data, data, len);
  if (c->tail) c->tail->next = p;
  else c->head = p;
  c->tail = p;
  return true;
}

static void start_close(struct app *a, struct conn *c) {
  c->close_pending = false;
  c->close_sent = true;
  int rc = azr_conn_close(a->l, c->id, a->o.close_code, a->o.close_reason);
  emit("close_sent id=%llu code=%d rc=%d", (unsigned long long)c->id, a->o.close_code, rc);
}

/* Echoes in the received format, preserving message boundaries. Whatever the queue refuses waits
 * in the backlog with the connection paused, so the backlog never exceeds what was already read. */
static void echo(struct app *a, struct conn *c, const azr_data_in_event *ev) {
  azr_data_format format = c->in_format == AZR_DATA_TEXT ? AZR_DATA_TEXT : AZR_DATA_BINARY;
  bool whole = a->buffer_message && ev->eom && ev->format != AZR_DATA_AUTOMATIC;
  if (!c->head) {
    int rc = send_one(a, c->id, format, whole, ev->data, ev->len, ev->eom);
    if (rc != AZR_E_WOULDBLOCK) {
      if (rc) emit("error what=echo id=%llu code=%d name=%s", (unsigned long long)c->id, rc, azr_status_name(rc));
      return;
    }
    c->backlog_paused = true;
    if (azr_conn_pause(a->l, c->id) != AZR_OK) emit("error what=pause id=%llu", (unsigned long long)c->id);
  }
  if (!backlog_push(c, format, whole, ev->data, ev->len, ev->eom)) {
    emit("error what=out_of_memory id=%llu", (unsigned long long)c->id);
    (void)azr_conn_close(a->l, c->id, 1011, "out of memory");
  }
}

static void drain_backlog(struct app *a, struct conn *c) {
  while (c->head) {
    struct pending *p = c->head;
    int rc = send_one(a, c->id, p->format, p->whole, p->data, p->len, p->eom);
    if (rc == AZR_E_WOULDBLOCK) return;
    if (rc) emit("error what=echo id=%llu code=%d name=%s", (unsigned long long)c->id, rc, azr_status_name(rc));
    c->head = p->next;
    if (!c->head) c->tail = NULL;
    free(p);
  }
  if (c->backlog_paused) {
    c->backlog_paused = false;
    maybe_resume(a, c);
  }
  if (c->close_pending) start_close(a, c);
}

/* ---- callbacks ---- */

static void log_sink(int level, const char *category, const char *message, void *ud) {
  (void)ud;
  fprintf(stderr, "[%d %s] %s\n", level, category, message);
}

static void on_connected(azr_listener *l, const azr_connected_event *ev, void *ud) {
  (void)l;
  (void)ud;
  char d[512];
  if (ev->status == AZR_OK) emit("listening");
  else emit("control_failed code=%d http=%d reason=%s", ev->status, ev->http_status, one_line(ev->description, d, sizeof d));
}

static void on_disconnected(azr_listener *l, const azr_disconnected_event *ev, void *ud) {
  (void)l;
  (void)ud;
  char d[512];
  emit("control_closed code=%d close_code=%d reconnect=%d reason=%s", ev->status, ev->close_code,
       ev->will_reconnect ? 1 : 0, one_line(ev->description, d, sizeof d));
}

static void on_status(azr_listener *l, const azr_connection_status_event *ev, void *ud) {
  (void)l;
  (void)ud;
  char e[128], d[512];
  emit("status event=%s code=%d state=%d reason=%s", one_line(ev->event, e, sizeof e), ev->status, (int)ev->state,
       one_line(ev->description, d, sizeof d));
}

static void on_error(azr_listener *l, const azr_error_event *ev, void *ud) {
  (void)l;
  (void)ud;
  char d[512];
  emit("listener_error code=%d reason=%s", ev->status, one_line(ev->description, d, sizeof d));
}

static void on_http(azr_listener *l, const azr_http_request_event *ev, void *ud) {
  struct app *a = ud;
  char t[512];
  emit("http_request id=%llu method=%s rendezvous=%d len=%zu target=%s", (unsigned long long)ev->request_id, ev->method,
       ev->via_rendezvous ? 1 : 0, ev->len, one_line(ev->request_target, t, sizeof t));
  if (strcmp(a->o.http, "echo") == 0) {
    int rc = azr_http_response_send(l, ev->request_id, 200, NULL, NULL, ev->data, ev->len);
    if (rc) emit("error what=http_response code=%d", rc);
  }
}

static void on_request(azr_listener *l, azr_connection_request_event *ev, void *ud) {
  (void)l;
  struct app *a = ud;
  if (a->o.mode == MODE_REJECT && ev->accept) {
    ev->accept = false;
    ev->http_status = a->o.reject_status;
    snprintf(ev->http_reason, sizeof ev->http_reason, "%s", a->o.reject_description);
  }
  char d[512];
  emit("request id=%llu remote=%s:%u accept=%d status=%d reason=%s", (unsigned long long)ev->conn_id,
       ev->remote_address ? ev->remote_address : "?", ev->remote_port, ev->accept ? 1 : 0,
       ev->accept ? 0 : ev->http_status, ev->accept ? "" : one_line(ev->http_reason, d, sizeof d));
}

static void start_sendfile(struct app *a, struct conn *c) {
  struct stat st;
  if (stat(a->o.sendfile_path, &st) != 0) {
    emit("sendfile_start id=%llu rc=-1 errno=%d", (unsigned long long)c->id, errno);
    return;
  }
  a->file_size = (int64_t)st.st_size;
  int rc = azr_conn_send_file(a->l, c->id, a->o.sendfile_path);
  c->file_started = rc == AZR_OK;
  emit("sendfile_start id=%llu rc=%d size=%lld", (unsigned long long)c->id, rc, (long long)a->file_size);
}

static void on_conn_connected(azr_listener *l, const azr_connection_event *ev, void *ud) {
  (void)l;
  struct app *a = ud;
  char d[512];
  emit("connected id=%llu code=%d reason=%s", (unsigned long long)ev->conn_id, ev->status,
       ev->status ? one_line(ev->description, d, sizeof d) : "");
  if (ev->status) return;
  a->connections++;
  struct conn *c = conn_new(a, ev->conn_id);
  if (!c) {
    emit("error what=out_of_memory id=%llu", (unsigned long long)ev->conn_id);
    (void)azr_conn_close(a->l, ev->conn_id, 1011, "out of memory");
    return;
  }
  if (a->o.mode == MODE_SENDFILE) start_sendfile(a, c);
}

static void on_ready(azr_listener *l, const azr_connection_event *ev, void *ud) {
  struct app *a = ud;
  struct conn *c = conn_get(a, ev->conn_id);
  if (!c) return;
  drain_backlog(a, c);
  /* SendFile reports success through ready-to-send, which also fires right after the connection
   * opens: the byte count tells the two apart. */
  if (c->file_started && !c->file_done) {
    azr_conn_info info;
    if (azr_conn_get_info(l, ev->conn_id, &info, sizeof info) == AZR_OK && (int64_t)info.total_bytes_sent >= a->file_size) {
      c->file_done = true;
      emit("sendfile_done id=%llu bytes=%llu", (unsigned long long)c->id, (unsigned long long)info.total_bytes_sent);
    }
  }
}

static void on_data(azr_listener *l, const azr_data_in_event *ev, void *ud) {
  (void)l;
  struct app *a = ud;
  struct conn *c = conn_get(a, ev->conn_id);
  if (!c) {
    emit("error what=data_without_connection id=%llu", (unsigned long long)ev->conn_id);
    return;
  }
  if (ev->format != AZR_DATA_AUTOMATIC) c->in_format = ev->format;
  c->bytes_in += ev->len;
  a->bytes_in += ev->len;
  if (ev->eom) {
    c->messages_in++;
    a->messages_in++;
  }
  if (!a->o.quiet_data)
    emit("data id=%llu format=%d len=%zu eom=%d", (unsigned long long)ev->conn_id, (int)ev->format, ev->len,
         ev->eom ? 1 : 0);
  switch (a->o.mode) {
  case MODE_ECHO:
    echo(a, c, ev);
    break;
  case MODE_CLOSE:
    if (c->close_sent || c->close_pending) break;
    echo(a, c, ev);
    if (ev->eom) {
      if (c->head) c->close_pending = true; /* close once the echo has been queued */
      else start_close(a, c);
    }
    break;
  case MODE_FLOOD_SINK:
    c->since_pause += ev->len;
    if (a->o.pause_after_bytes && c->since_pause >= a->o.pause_after_bytes && !c->flood_paused) {
      c->since_pause = 0;
      c->flood_paused = true;
      c->resume_at_ms = now_ms() + a->o.resume_after_ms;
      int rc = azr_conn_pause(a->l, c->id);
      emit("paused id=%llu bytes=%llu rc=%d", (unsigned long long)c->id, (unsigned long long)c->bytes_in, rc);
    }
    break;
  case MODE_REJECT:
  case MODE_SENDFILE:
    break;
  }
}

static void on_conn_disconnected(azr_listener *l, const azr_connection_disconnected_event *ev, void *ud) {
  (void)l;
  struct app *a = ud;
  struct conn *c = conn_get(a, ev->conn_id);
  char d[512];
  emit("disconnected id=%llu code=%d error=%d bytes_in=%llu messages_in=%llu reason=%s", (unsigned long long)ev->conn_id,
       ev->close_code, ev->status, (unsigned long long)(c ? c->bytes_in : 0),
       (unsigned long long)(c ? c->messages_in : 0), one_line(ev->description, d, sizeof d));
  if (c) {
    (void)azr_conn_set_user_data(a->l, ev->conn_id, NULL);
    conn_free(a, c);
  }
}

static void on_conn_error(azr_listener *l, const azr_connection_error_event *ev, void *ud) {
  (void)l;
  (void)ud;
  char d[512];
  emit("conn_error id=%llu code=%d reason=%s", (unsigned long long)ev->conn_id, ev->status,
       one_line(ev->description, d, sizeof d));
}

/* ---- timers of the main loop ---- */

/* Resumes flood-paused connections whose pause is over; returns ms until the next one is due. */
static int64_t flood_resumes(struct app *a, int64_t now) {
  int64_t next = INT64_MAX;
  for (struct conn *c = a->conns; c; c = c->next) {
    if (!c->flood_paused) continue;
    if (now >= c->resume_at_ms) {
      c->flood_paused = false;
      emit("resumed id=%llu bytes=%llu", (unsigned long long)c->id, (unsigned long long)c->bytes_in);
      maybe_resume(a, c);
    } else if (c->resume_at_ms - now < next) {
      next = c->resume_at_ms - now;
    }
  }
  return next;
}

static void report_rss(struct app *a) {
  long kb = rss_kb();
  if (kb > a->max_rss_kb) a->max_rss_kb = kb;
  emit("rss_kb=%ld", kb);
}

/* ---- set-up ---- */

static void usage(FILE *out) {
  fprintf(out,
          "usage: azr_test_listener -c CONNSTR [--cacert FILE] [--mode echo|reject|sendfile|flood-sink|close]\n"
          "         [--set Name=Value]... [--log-level N] [--reject-status N] [--reject-description TEXT]\n"
          "         [--sendfile PATH] [--pause-after-bytes N] [--resume-after-ms M] [--close-code N]\n"
          "         [--close-reason TEXT] [--report-rss-ms N] [--report FILE] [--quiet-data]\n"
          "         [--http echo|hold]\n");
}

static bool parse_mode(const char *s, enum mode *m) {
  static const char *const names[] = {"echo", "reject", "sendfile", "flood-sink", "close"};
  for (int i = 0; i < 5; i++)
    if (strcmp(s, names[i]) == 0) {
      *m = (enum mode)i;
      return true;
    }
  return false;
}

static int parse_args(int argc, char **argv, struct options *o) {
  static const struct option longopts[] = {{"connection-string", required_argument, NULL, 'c'},
                                           {"cacert", required_argument, NULL, 'C'},
                                           {"mode", required_argument, NULL, 'm'},
                                           {"set", required_argument, NULL, 's'},
                                           {"log-level", required_argument, NULL, 'L'},
                                           {"reject-status", required_argument, NULL, 'r'},
                                           {"reject-description", required_argument, NULL, 'R'},
                                           {"sendfile", required_argument, NULL, 'f'},
                                           {"pause-after-bytes", required_argument, NULL, 'p'},
                                           {"resume-after-ms", required_argument, NULL, 'P'},
                                           {"close-code", required_argument, NULL, 'k'},
                                           {"close-reason", required_argument, NULL, 'K'},
                                           {"report-rss-ms", required_argument, NULL, 'M'},
                                           {"report", required_argument, NULL, 'o'},
                                           {"quiet-data", no_argument, NULL, 'q'},
                                           {"http", required_argument, NULL, 'H'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  *o = (struct options){.log_level = -1, .reject_status = 400, .reject_description = "Rejected by test",
                        .resume_after_ms = 100, .close_code = 1000, .close_reason = ""};
  int ch;
  while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
    switch (ch) {
    case 'c': o->connstr = optarg; break;
    case 'C': o->cacert = optarg; break;
    case 'm':
      if (!parse_mode(optarg, &o->mode)) return -1;
      break;
    case 's':
      if (o->nsets == MAX_SETS) return -1;
      o->sets[o->nsets++] = optarg;
      break;
    case 'L': o->log_level = atoi(optarg); break;
    case 'r': o->reject_status = atoi(optarg); break;
    case 'R': o->reject_description = optarg; break;
    case 'f': o->sendfile_path = optarg; break;
    case 'p': o->pause_after_bytes = strtoull(optarg, NULL, 10); break;
    case 'P': o->resume_after_ms = atoi(optarg); break;
    case 'k': o->close_code = atoi(optarg); break;
    case 'K': o->close_reason = optarg; break;
    case 'M': o->report_rss_ms = atoi(optarg); break;
    case 'o': o->report_path = optarg; break;
    case 'q': o->quiet_data = true; break;
    case 'H':
      if (strcmp(optarg, "echo") != 0 && strcmp(optarg, "hold") != 0) return -1;
      o->http = optarg;
      break;
    case 'h': usage(stdout); exit(0);
    default: return -1;
    }
  }
  if (!o->connstr || optind != argc) return -1;
  if (o->mode == MODE_SENDFILE && !o->sendfile_path) return -1;
  return 0;
}

/* 1,000 connections need about as many descriptors: take what the hard limit allows. */
static void raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
}

static int configure(struct app *a) {
  azr_listener *l = a->l;
  char setting[4096];
  int rc = azr_listener_set_connection_string(l, a->o.connstr);
  if (!rc && a->o.cacert) {
    snprintf(setting, sizeof setting, "OpenSSLCAFile=%s", a->o.cacert);
    rc = azr_listener_config(l, setting);
  }
  if (!rc && a->o.log_level >= 0) {
    snprintf(setting, sizeof setting, "LogLevel=%d", a->o.log_level);
    rc = azr_listener_config(l, setting);
  }
  for (int i = 0; !rc && i < a->o.nsets; i++) {
    rc = azr_listener_config(l, a->o.sets[i]);
    if (rc) emit("config_error setting=%s code=%d", a->o.sets[i], rc);
  }
  if (rc) return rc;
  char value[16];
  rc = azr_listener_get_config(l, "BufferMessage", value, sizeof value);
  a->buffer_message = rc == AZR_OK && strcmp(value, "true") == 0;
  return rc;
}

static void write_report(const struct app *a) {
  FILE *f = fopen(a->o.report_path, "w");
  if (!f) return;
  fprintf(f, "connections=%llu messages_in=%llu bytes_in=%llu max_rss_kb=%ld\n", (unsigned long long)a->connections,
          (unsigned long long)a->messages_in, (unsigned long long)a->bytes_in, a->max_rss_kb);
  fclose(f);
}

int main(int argc, char **argv) {
  struct app a = {0};
  if (parse_args(argc, argv, &a.o) != 0) {
    usage(stderr);
    return 2;
  }
  raise_fd_limit();
  signal(SIGPIPE, SIG_IGN);
  /* A test runner killed hard (SIGKILL on timeout) cannot stop us: end with our parent. */
  (void)prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (azr_listener_new(&a.l) != AZR_OK) return 1;
  if (a.o.log_level >= 0) azr_listener_set_log(a.l, log_sink, NULL);
  int rc = configure(&a);
  if (rc) {
    fprintf(stderr, "azr_test_listener: %s (%s)\n", azr_listener_get_last_error(a.l), azr_status_name(rc));
    azr_listener_free(a.l);
    return 2;
  }
  azr_listener_callbacks cb = {0};
  cb.on_connected = on_connected;
  cb.on_disconnected = on_disconnected;
  cb.on_connection_status = on_status;
  cb.on_error = on_error;
  cb.on_connection_request = on_request;
  cb.on_connection_connected = on_conn_connected;
  cb.on_connection_ready_to_send = on_ready;
  cb.on_connection_data_in = on_data;
  cb.on_connection_disconnected = on_conn_disconnected;
  cb.on_connection_error = on_conn_error;
  if (a.o.http) cb.on_http_request = on_http;
  if (azr_listener_set_callbacks(a.l, &cb, sizeof cb, &a) != AZR_OK || (rc = azr_listener_start(a.l)) != AZR_OK) {
    fprintf(stderr, "azr_test_listener: cannot start: %s\n", azr_listener_get_last_error(a.l));
    azr_listener_free(a.l);
    return 1;
  }
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  int64_t next_rss = now_ms();
  while (!stop_requested) {
    int64_t now = now_ms();
    int64_t wait = flood_resumes(&a, now);
    if (a.o.report_rss_ms > 0) {
      if (now >= next_rss) {
        report_rss(&a);
        next_rss = now + a.o.report_rss_ms;
      }
      if (next_rss - now < wait) wait = next_rss - now;
    }
    if (wait > 200) wait = 200;
    if (wait < 1) wait = 1;
    rc = azr_listener_run(a.l, (int)wait);
    if (rc) emit("error what=run code=%d", rc);
  }
  azr_listener_stats st;
  if (azr_listener_get_stats(a.l, &st, sizeof st) == AZR_OK)
    emit("stats requests=%llu accepted=%llu rejected=%llu failed=%llu dropped=%llu open=%llu http_requests=%llu "
         "http_refused=%llu",
         (unsigned long long)st.connection_requests, (unsigned long long)st.connections_accepted,
         (unsigned long long)st.connections_rejected, (unsigned long long)st.connections_failed,
         (unsigned long long)st.connection_requests_dropped, (unsigned long long)st.connections_open,
         (unsigned long long)st.http_requests, (unsigned long long)st.http_requests_refused);
  emit("stopping");
  (void)azr_listener_shutdown(a.l);
  (void)azr_listener_run(a.l, 300);
  if (a.o.report_rss_ms > 0) report_rss(&a);
  azr_listener_free(a.l);
  while (a.conns) conn_free(&a, a.conns); /* connections the shutdown did not report as closed */
  if (a.o.report_path) write_report(&a);
  emit("exited");
  return 0;
}
