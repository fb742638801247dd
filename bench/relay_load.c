/* SPDX-License-Identifier: MIT */
/* relay_load: a load generator of sender connections (azr_client) through a relay: one way, echo,
 * or churn (new connections, each echoing a little and closing).
 *
 *   relay_load -c CONNSTR [--cacert FILE] --connections N --message-size S --messages M
 *              --mode oneway|echo|churn [--window W] [--hold-seconds H] [--connect-concurrency K]
 *              [--set Name=Value]...
 *
 * All N connections are opened first (at most K handshakes at a time); then each sends M binary
 * messages of S bytes. "oneway" sends as fast as the send queue takes them (AZR_E_WOULDBLOCK ->
 * wait for on_ready_to_send) and closes; the run ends when every close handshake has completed,
 * which the relay forwards in order behind the data, so the listener has read everything by then.
 * "echo" keeps at most W messages in flight per connection and ends when all echoes are back.
 * --hold-seconds keeps the opened connections idle that long before the traffic (SIGTERM ends the
 * hold early and skips the traffic), for memory-per-connection measurements.
 * "churn" measures the accept path: N senders in all, at most K of them at a time (connecting or
 * open); each connects, echoes M messages (window W), closes, and is freed, and the next one starts.
 * With --reuse-clients the finished sender's client connects again for the next sender instead (K
 * clients in all, as an application that sends repeatedly would keep one): its TLS context stays and
 * its session resumes, so the load generator's own cost per connection shrinks.
 * The timed phase runs from the first connect to the last close.
 *
 * Prints "open N" on stderr once all connections are open (oneway, echo), and one JSON line on
 * stdout at the end. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "azrelay.h"
#include "azrelay/uv.h"
#include "bench_stats.h"

#define MAX_SETS 32
#define SEQ_LEN 8 /* each message starts with its sequence number, checked on the echo */

enum mode { MODE_ONEWAY, MODE_ECHO, MODE_CHURN };

struct options {
  const char *connstr;
  const char *cacert;
  const char *sets[MAX_SETS];
  int nsets;
  uint64_t connections;
  uint64_t message_size;
  uint64_t messages;
  uint64_t window;
  uint64_t connect_concurrency;
  bool reuse_clients;
  double hold_s;
  enum mode mode;
};

struct load;

struct sender {
  struct load *ld;
  azr_client *c;
  bool opened;
  bool finished;     /* closed, failed, or never opened */
  bool closing;
  struct sender *next_free; /* churn: on the list of clients to free outside their callbacks */
  uint64_t sent;     /* messages accepted by azr_client_send */
  uint64_t echoed;   /* complete messages received back */
  uint64_t rx_len;   /* bytes of the message being received */
  uint8_t rx_seq[SEQ_LEN];
};

struct load {
  struct options o;
  uv_loop_t loop;
  uv_timer_t hold_timer, stop_timer;
  uv_signal_t sigint, sigterm;
  uv_check_t free_check;   /* churn: frees finished clients after the loop's I/O callbacks */
  struct sender *to_free;
  azr_client **pool; /* churn --reuse-clients: closed clients waiting for the next sender */
  size_t pooled;
  struct sender *senders;
  uint8_t *payload;
  uint64_t next_connect; /* index of the next sender to connect */
  uint64_t connecting;
  uint64_t opened, failed, finished;
  uint64_t bad_echoes, send_errors, unclean_closes;
  bool traffic;          /* the timed phase has started */
  bool stopping;         /* SIGTERM/SIGINT */
  uint64_t done_traffic; /* senders whose traffic is complete */
  double t_connect, t_open, t_start, t_end;
  struct bench_cpu cpu_start, cpu_end;
};

static void start_traffic(struct load *ld);
static void pump(struct sender *s);
static void on_hold_over(uv_timer_t *t);

static int setup_sender(struct load *ld, struct sender *s);

static void put_seq(uint8_t *p, uint64_t v) {
  for (int i = 0; i < SEQ_LEN; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void close_handles(struct load *ld) {
  uv_close((uv_handle_t *)&ld->hold_timer, NULL);
  uv_close((uv_handle_t *)&ld->stop_timer, NULL);
  uv_close((uv_handle_t *)&ld->sigint, NULL);
  uv_close((uv_handle_t *)&ld->sigterm, NULL);
  uv_close((uv_handle_t *)&ld->free_check, NULL);
}

static void connect_next(struct load *ld);

/* churn: a client may not be freed (nor, here, reused) inside its own callbacks, so finished ones
 * wait for this. */
static void free_finished(uv_check_t *h) {
  struct load *ld = h->data;
  while (ld->to_free) {
    struct sender *s = ld->to_free;
    ld->to_free = s->next_free;
    if (ld->o.reuse_clients) ld->pool[ld->pooled++] = s->c; /* at most K are ever made */
    else azr_client_free(s->c);
    s->c = NULL;
  }
  uv_check_stop(h);
  if (ld->o.reuse_clients) connect_next(ld); /* the slots freed since the last check */
}

/* The whole run is over when every sender has finished (closed, failed or never opened). */
static void check_all_finished(struct load *ld) {
  if (ld->finished < ld->o.connections) return;
  if (ld->t_end == 0) {
    ld->t_end = bench_now_s();
    bench_cpu_now(&ld->cpu_end);
  }
  uv_stop(&ld->loop);
}

static void sender_finished(struct sender *s) {
  struct load *ld = s->ld;
  if (s->finished) return;
  s->finished = true;
  ld->finished++;
  if (ld->o.mode == MODE_CHURN && s->c) {
    s->next_free = ld->to_free;
    ld->to_free = s;
    uv_check_start(&ld->free_check, free_finished);
    if (!ld->o.reuse_clients) connect_next(ld); /* a slot is free (reused clients wait for the check) */
  }
  check_all_finished(ld);
}

static void close_sender(struct sender *s) {
  if (s->closing || s->finished) return;
  s->closing = true;
  if (azr_client_close(s->c, 1000, "done") != AZR_OK) sender_finished(s);
}

/* A sender's traffic is complete: in echo mode the timed phase ends with the last echo. */
static void traffic_done(struct sender *s) {
  struct load *ld = s->ld;
  if (++ld->done_traffic == ld->o.connections && ld->o.mode == MODE_ECHO && ld->t_end == 0) {
    ld->t_end = bench_now_s();
    bench_cpu_now(&ld->cpu_end);
  }
  close_sender(s);
}

static void pump(struct sender *s) {
  struct load *ld = s->ld;
  if (!ld->traffic || s->closing || s->finished) return;
  while (s->sent < ld->o.messages && (ld->o.mode == MODE_ONEWAY || s->sent - s->echoed < ld->o.window)) {
    if (ld->o.message_size >= SEQ_LEN) put_seq(ld->payload, s->sent);
    int rc = azr_client_send(s->c, AZR_DATA_BINARY, ld->payload, (size_t)ld->o.message_size, true);
    if (rc == AZR_E_WOULDBLOCK) return; /* on_ready_to_send calls us again */
    if (rc != AZR_OK) {
      if (ld->send_errors++ < 5) fprintf(stderr, "relay_load: send failed: %s\n", azr_strerror(rc));
      close_sender(s);
      return;
    }
    s->sent++;
  }
  if (s->sent == ld->o.messages && (ld->o.mode == MODE_ONEWAY || s->echoed == ld->o.messages)) traffic_done(s);
}

static void on_open(azr_client *c, const azr_client_open_event *ev, void *ud) {
  int status = ev->status;
  int http_status = ev->http_status;
  const char *description = ev->description;
  (void)c;
  struct sender *s = ud;
  struct load *ld = s->ld;
  ld->connecting--;
  if (status != AZR_OK) {
    if (ld->failed++ < 5)
      fprintf(stderr, "relay_load: connect failed: %s (HTTP %d %s)\n", azr_strerror(status), http_status, description);
    sender_finished(s);
  } else {
    s->opened = true;
    ld->opened++;
  }
  if (ld->stopping) {
    close_sender(s);
    return;
  }
  if (ld->o.mode == MODE_CHURN) pump(s); /* sender_finished starts the next one */
  else connect_next(ld);
}

static void on_data(azr_client *c, const azr_data_in_event *ev, void *ud) {
  (void)c;
  struct sender *s = ud;
  struct load *ld = s->ld;
  if (ld->o.mode == MODE_ONEWAY) return; /* whatever a listener sends back is ignored */
  /* Keep the first SEQ_LEN bytes of the message, wherever the fragments split it. */
  for (size_t i = 0; i < ev->len && s->rx_len + i < SEQ_LEN; i++) s->rx_seq[s->rx_len + i] = ev->data[i];
  s->rx_len += ev->len;
  if (!ev->eom) return;
  bool ok = s->rx_len == ld->o.message_size;
  if (ok && ld->o.message_size >= SEQ_LEN) {
    uint8_t want[SEQ_LEN];
    put_seq(want, s->echoed);
    ok = memcmp(want, s->rx_seq, SEQ_LEN) == 0;
  }
  if (!ok && ld->bad_echoes++ < 5)
    fprintf(stderr, "relay_load: echo %" PRIu64 " is wrong (%" PRIu64 " bytes)\n", s->echoed, s->rx_len);
  s->rx_len = 0;
  s->echoed++;
  pump(s);
}

static void on_ready(azr_client *c, const azr_client_ready_event *ev, void *ud) {
  (void)ev;
  (void)c;
  pump(ud);
}

static void on_close(azr_client *c, const azr_client_close_event *ev, void *ud) {
  int code = ev->close_code;
  const char *reason = ev->reason;
  int error = ev->status;
  (void)c;
  struct sender *s = ud;
  struct load *ld = s->ld;
  if ((error || code != 1000) && ld->unclean_closes++ < 5)
    fprintf(stderr, "relay_load: connection closed: %d %s%s%s\n", code, reason, error ? " / " : "",
            error ? azr_strerror(error) : "");
  sender_finished(s);
}

static int setup_sender(struct load *ld, struct sender *s) {
  static const azr_client_callbacks cb = {on_open, on_data, on_ready, on_close};
  s->ld = ld;
  if (ld->pooled) { /* a closed client from an earlier sender: only its callbacks' data changes */
    s->c = ld->pool[--ld->pooled];
    return azr_client_set_callbacks(s->c, &cb, sizeof cb, s);
  }
  int rc = azr_client_new_on_uv(&s->c, &ld->loop);
  if (rc) return rc;
  rc = azr_client_set_connection_string(s->c, ld->o.connstr);
  char setting[4096];
  if (!rc && ld->o.cacert) {
    snprintf(setting, sizeof setting, "OpenSSLCAFile=%s", ld->o.cacert);
    rc = azr_client_config(s->c, setting);
  }
  for (int i = 0; !rc && i < ld->o.nsets; i++) rc = azr_client_config(s->c, ld->o.sets[i]);
  if (!rc) rc = azr_client_set_callbacks(s->c, &cb, sizeof cb, s);
  if (rc) fprintf(stderr, "relay_load: %s\n", azr_client_get_last_error(s->c)[0] ? azr_client_get_last_error(s->c) : azr_strerror(rc));
  return rc;
}

/* Senders in flight: handshakes (oneway, echo), or connecting and open ones (churn). */
static uint64_t in_flight(const struct load *ld) {
  return ld->o.mode == MODE_CHURN ? ld->next_connect - ld->finished : ld->connecting;
}

static void connect_next(struct load *ld) {
  while (!ld->stopping && ld->next_connect < ld->o.connections && in_flight(ld) < ld->o.connect_concurrency) {
    struct sender *s = &ld->senders[ld->next_connect++];
    if (ld->o.mode == MODE_CHURN && setup_sender(ld, s) != AZR_OK) {
      ld->failed++;
      sender_finished(s);
      continue;
    }
    int rc = azr_client_connect(s->c, "", NULL);
    if (rc) {
      if (ld->failed++ < 5) fprintf(stderr, "relay_load: connect: %s\n", azr_client_get_last_error(s->c));
      sender_finished(s);
      continue;
    }
    ld->connecting++;
  }
  /* Every handshake has ended: hold the connections idle, or start the timed phase. */
  if (!ld->stopping && ld->o.mode != MODE_CHURN && ld->t_open == 0 && ld->opened + ld->failed == ld->o.connections) {
    ld->t_open = bench_now_s();
    fprintf(stderr, "open %" PRIu64 "\n", ld->opened);
    if (ld->o.hold_s > 0) uv_timer_start(&ld->hold_timer, on_hold_over, (uint64_t)(ld->o.hold_s * 1000), 0);
    else start_traffic(ld);
  }
}

static void start_traffic(struct load *ld) {
  if (ld->traffic || ld->stopping) return;
  ld->traffic = true;
  ld->t_start = bench_now_s();
  bench_cpu_now(&ld->cpu_start);
  for (uint64_t i = 0; i < ld->o.connections; i++)
    if (ld->senders[i].opened) pump(&ld->senders[i]);
}

static void on_hold_over(uv_timer_t *t) { start_traffic(t->data); }

static void on_stop_timeout(uv_timer_t *t) {
  struct load *ld = t->data;
  fprintf(stderr, "relay_load: connections did not close in time; giving up on them\n");
  uv_stop(&ld->loop);
}

static void on_signal(uv_signal_t *h, int sig) {
  (void)sig;
  struct load *ld = h->data;
  if (ld->stopping) {
    uv_stop(&ld->loop);
    return;
  }
  ld->stopping = true;
  uv_timer_stop(&ld->hold_timer);
  for (uint64_t i = 0; i < ld->o.connections; i++)
    if (ld->senders[i].opened) close_sender(&ld->senders[i]);
  /* Senders never started count as finished; connecting ones finish in on_open. */
  for (uint64_t i = ld->next_connect; i < ld->o.connections; i++) sender_finished(&ld->senders[i]);
  ld->next_connect = ld->o.connections;
  uv_timer_start(&ld->stop_timer, on_stop_timeout, 10000, 0);
  check_all_finished(ld);
}

static void report(const struct load *ld) {
  const struct options *o = &ld->o;
  uint64_t messages = 0;
  for (uint64_t i = 0; i < o->connections; i++)
    messages += o->mode == MODE_ONEWAY ? ld->senders[i].sent : ld->senders[i].echoed;
  double wall = ld->traffic && ld->t_end > ld->t_start ? ld->t_end - ld->t_start : 0;
  double bytes = (double)messages * (double)o->message_size;
  double cpu_user = ld->traffic ? ld->cpu_end.user_s - ld->cpu_start.user_s : 0;
  double cpu_sys = ld->traffic ? ld->cpu_end.sys_s - ld->cpu_start.sys_s : 0;
  struct bench_cpu total;
  bench_cpu_now(&total);
  uint64_t rss, peak;
  bench_rss_kib(&rss, &peak);
  printf("{\"tool\":\"relay_load\",\"mode\":\"%s\",\"connections\":%" PRIu64 ",\"opened\":%" PRIu64
         ",\"failed\":%" PRIu64 ",\"message_size\":%" PRIu64 ",\"messages_per_connection\":%" PRIu64
         ",\"window\":%" PRIu64 ",\"messages\":%" PRIu64 ",\"bytes\":%.0f,\"connect_s\":%.3f,\"wall_s\":%.3f"
         ",\"msgs_per_s\":%.1f,\"mb_per_s\":%.2f,\"cpu_s\":%.3f,\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f"
         ",\"cpu_total_s\":%.3f,\"rss_kib\":%" PRIu64 ",\"peak_rss_kib\":%" PRIu64 ",\"bad_echoes\":%" PRIu64
         ",\"send_errors\":%" PRIu64 ",\"unclean_closes\":%" PRIu64 ",\"accepts_per_s\":%.1f}\n",
         o->mode == MODE_ECHO ? "echo" : o->mode == MODE_CHURN ? "churn" : "oneway", o->connections, ld->opened, ld->failed, o->message_size,
         o->messages, o->mode == MODE_ONEWAY ? 0 : o->window, messages, bytes,
         ld->t_open > ld->t_connect ? ld->t_open - ld->t_connect : 0, wall, wall > 0 ? (double)messages / wall : 0,
         wall > 0 ? bytes / wall / 1e6 : 0, cpu_user + cpu_sys, cpu_user, cpu_sys, total.user_s + total.sys_s, rss,
         peak, ld->bad_echoes, ld->send_errors, ld->unclean_closes,
         o->mode == MODE_CHURN && wall > 0 ? (double)ld->opened / wall : 0);
  fflush(stdout);
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: relay_load -c CONNSTR [--cacert FILE] --connections N --message-size S --messages M\n"
          "                  --mode oneway|echo|churn [--window W] [--hold-seconds H]\n"
          "                  [--connect-concurrency K] [--reuse-clients] [--set Name=Value]...\n"
          "  S accepts a K or M suffix (KiB, MiB); W defaults to 16, K to 32.\n"
          "  churn: N senders in all, K at a time, each echoes M messages and closes;\n"
          "  --reuse-clients: K clients connect again for the next senders instead of new ones.\n");
}

static int parse_count(const char *name, const char *text, uint64_t *out) {
  if (bench_parse_size(text, out) != 0) {
    fprintf(stderr, "relay_load: bad value for %s: '%s'\n", name, text);
    return -1;
  }
  return 0;
}

static int parse_options(int argc, char **argv, struct options *o) {
  static const struct option longopts[] = {{"connection-string", required_argument, NULL, 'c'},
                                           {"cacert", required_argument, NULL, 'C'},
                                           {"connections", required_argument, NULL, 'n'},
                                           {"message-size", required_argument, NULL, 's'},
                                           {"messages", required_argument, NULL, 'm'},
                                           {"mode", required_argument, NULL, 'M'},
                                           {"window", required_argument, NULL, 'w'},
                                           {"hold-seconds", required_argument, NULL, 'H'},
                                           {"connect-concurrency", required_argument, NULL, 'k'},
                                           {"reuse-clients", no_argument, NULL, 'R'},
                                           {"set", required_argument, NULL, 'S'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  o->connstr = getenv("AZRELAY_CONNECTION_STRING");
  o->connections = 1;
  o->window = 16;
  o->connect_concurrency = 32;
  o->mode = MODE_ONEWAY;
  bool have_mode = false;
  int ch;
  while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
    int bad = 0;
    switch (ch) {
    case 'c': o->connstr = optarg; break;
    case 'C': o->cacert = optarg; break;
    case 'n': bad = parse_count("--connections", optarg, &o->connections); break;
    case 's': bad = parse_count("--message-size", optarg, &o->message_size); break;
    case 'm': bad = parse_count("--messages", optarg, &o->messages); break;
    case 'w': bad = parse_count("--window", optarg, &o->window); break;
    case 'k': bad = parse_count("--connect-concurrency", optarg, &o->connect_concurrency); break;
    case 'R': o->reuse_clients = true; break;
    case 'H': {
      char *end;
      o->hold_s = strtod(optarg, &end);
      bad = *end || o->hold_s < 0;
      if (bad) fprintf(stderr, "relay_load: bad value for --hold-seconds: '%s'\n", optarg);
      break;
    }
    case 'M':
      have_mode = true;
      if (!strcmp(optarg, "oneway")) o->mode = MODE_ONEWAY;
      else if (!strcmp(optarg, "echo")) o->mode = MODE_ECHO;
      else if (!strcmp(optarg, "churn")) o->mode = MODE_CHURN;
      else bad = 1, fprintf(stderr, "relay_load: --mode is oneway, echo or churn\n");
      break;
    case 'S':
      if (o->nsets == MAX_SETS) bad = 1;
      else o->sets[o->nsets++] = optarg;
      break;
    case 'h': usage(stdout); exit(0);
    default: bad = 1; break;
    }
    if (bad) return -1;
  }
  if (optind != argc || !o->connstr || !have_mode || !o->connections || !o->window || !o->connect_concurrency ||
      o->connections > 1000000 || o->message_size > (uint64_t)1 << 30 ||
      (o->mode == MODE_CHURN && (!o->messages || o->hold_s > 0))) {
    fprintf(stderr, "relay_load: need -c, --mode and sane --connections/--window/--message-size"
                    " (churn: --messages >= 1, no --hold-seconds)\n");
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  struct load *ld = calloc(1, sizeof *ld);
  if (!ld) return 1;
  if (parse_options(argc, argv, &ld->o) != 0) {
    usage(stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  bench_raise_fd_limit();
  ld->senders = calloc((size_t)ld->o.connections, sizeof *ld->senders);
  ld->payload = malloc(ld->o.message_size ? (size_t)ld->o.message_size : 1);
  ld->pool = calloc((size_t)ld->o.connect_concurrency, sizeof *ld->pool);
  if (!ld->senders || !ld->payload || !ld->pool) return 1;
  for (uint64_t i = 0; i < ld->o.message_size; i++) ld->payload[i] = (uint8_t)(i * 131u + 7u);
  for (uint64_t i = 0; i < ld->o.connections; i++) ld->senders[i].ld = ld; /* churn sets the rest up later */
  uv_loop_init(&ld->loop);
  uv_timer_init(&ld->loop, &ld->hold_timer);
  uv_timer_init(&ld->loop, &ld->stop_timer);
  ld->hold_timer.data = ld->stop_timer.data = ld;
  uv_signal_init(&ld->loop, &ld->sigint);
  uv_signal_init(&ld->loop, &ld->sigterm);
  ld->sigint.data = ld->sigterm.data = ld;
  uv_signal_start(&ld->sigint, on_signal, SIGINT);
  uv_signal_start(&ld->sigterm, on_signal, SIGTERM);
  uv_check_init(&ld->loop, &ld->free_check);
  ld->free_check.data = ld;
  /* churn creates each client when its turn comes (and frees it when done): descriptors and memory
   * then follow the senders in flight, not the total. */
  if (ld->o.mode != MODE_CHURN)
    for (uint64_t i = 0; i < ld->o.connections; i++)
      if (setup_sender(ld, &ld->senders[i]) != AZR_OK) return 2;
  ld->t_connect = bench_now_s();
  if (ld->o.mode == MODE_CHURN) {
    ld->traffic = true;
    ld->t_start = ld->t_connect;
    bench_cpu_now(&ld->cpu_start);
  }
  connect_next(ld);
  check_all_finished(ld);
  if (ld->finished < ld->o.connections) uv_run(&ld->loop, UV_RUN_DEFAULT);
  report(ld);
  int status = ld->failed || ld->bad_echoes || ld->send_errors || ld->unclean_closes ? 1 : 0;
  for (uint64_t i = 0; i < ld->o.connections; i++)
    if (ld->senders[i].c) azr_client_free(ld->senders[i].c);
  while (ld->pooled) azr_client_free(ld->pool[--ld->pooled]);
  close_handles(ld);
  uv_run(&ld->loop, UV_RUN_NOWAIT);
  /* Handles of connections given up on may still be open: the process ends here anyway. */
  _Exit(status);
}
