/* SPDX-License-Identifier: MIT */
/* sink_listener: a listener (public API) that accepts every sender and discards what it receives.
 *
 *   sink_listener -c CONNSTR [--cacert FILE] [--set Name=Value]...
 *
 * Prints "listening" on stderr once the control channel is online. SIGUSR1 prints a JSON line of
 * counters, CPU seconds and RSS on stdout; SIGTERM or SIGINT prints the same line and exits. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azrelay.h"
#include "bench_stats.h"

#define MAX_SETS 32

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t report_requested;

static void on_stop_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static void on_report_signal(int sig) {
  (void)sig;
  report_requested = 1;
}

struct sink {
  uint64_t bytes;
  uint64_t messages;
  uint64_t accepted;
  uint64_t open;
  uint64_t errors;
};

static void on_connected(azr_listener *l, const azr_connected_event *ev, void *ud) {
  (void)l;
  (void)ud;
  if (ev->status == 0) fprintf(stderr, "listening\n");
  else fprintf(stderr, "sink_listener: control channel: %s\n", ev->description);
}

static void on_conn_connected(azr_listener *l, const azr_connection_event *ev, void *ud) {
  (void)l;
  struct sink *k = ud;
  if (ev->status) {
    if (k->errors++ < 5) fprintf(stderr, "sink_listener: rendezvous failed: %s\n", ev->description);
    return;
  }
  k->accepted++;
  k->open++;
}

static void on_data(azr_listener *l, const azr_data_in_event *ev, void *ud) {
  (void)l;
  struct sink *k = ud;
  k->bytes += ev->len;
  if (ev->eom) k->messages++;
}

static void on_disconnected(azr_listener *l, const azr_connection_disconnected_event *ev, void *ud) {
  (void)l;
  struct sink *k = ud;
  if (k->open) k->open--;
  if (ev->status && k->errors++ < 5)
    fprintf(stderr, "sink_listener: connection %" PRIu64 " ended: %d %s\n", ev->conn_id, ev->close_code,
            ev->description);
}

static void report(const struct sink *k) {
  struct bench_cpu cpu;
  bench_cpu_now(&cpu);
  uint64_t rss, peak;
  bench_rss_kib(&rss, &peak);
  printf("{\"tool\":\"sink_listener\",\"bytes\":%" PRIu64 ",\"messages\":%" PRIu64 ",\"accepted\":%" PRIu64
         ",\"open\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"cpu_s\":%.3f,\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f"
         ",\"rss_kib\":%" PRIu64 ",\"peak_rss_kib\":%" PRIu64 "}\n",
         k->bytes, k->messages, k->accepted, k->open, k->errors, cpu.user_s + cpu.sys_s, cpu.user_s, cpu.sys_s, rss,
         peak);
  fflush(stdout);
}

static void usage(FILE *out) {
  fprintf(out, "usage: sink_listener -c CONNSTR [--cacert FILE] [--set Name=Value]...\n");
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {{"connection-string", required_argument, NULL, 'c'},
                                           {"cacert", required_argument, NULL, 'C'},
                                           {"set", required_argument, NULL, 'S'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  const char *connstr = getenv("AZRELAY_CONNECTION_STRING"), *cacert = NULL;
  const char *sets[MAX_SETS];
  int nsets = 0, ch;
  while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
    switch (ch) {
    case 'c': connstr = optarg; break;
    case 'C': cacert = optarg; break;
    case 'S':
      if (nsets == MAX_SETS) return 2;
      sets[nsets++] = optarg;
      break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (!connstr || optind != argc) {
    usage(stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  bench_raise_fd_limit();
  struct sink k;
  memset(&k, 0, sizeof k);
  azr_listener *l;
  if (azr_listener_new(&l) != AZR_OK) return 1;
  int rc = azr_listener_set_connection_string(l, connstr);
  char setting[4096];
  if (!rc && cacert) {
    snprintf(setting, sizeof setting, "OpenSSLCAFile=%s", cacert);
    rc = azr_listener_config(l, setting);
  }
  for (int i = 0; !rc && i < nsets; i++) rc = azr_listener_config(l, sets[i]);
  azr_listener_callbacks cb = {0};
  cb.on_connected = on_connected;
  cb.on_connection_connected = on_conn_connected;
  cb.on_connection_data_in = on_data;
  cb.on_connection_disconnected = on_disconnected;
  if (!rc) rc = azr_listener_set_callbacks(l, &cb, sizeof cb, &k);
  if (!rc) rc = azr_listener_start(l);
  if (rc) {
    fprintf(stderr, "sink_listener: %s\n", azr_listener_get_last_error(l)[0] ? azr_listener_get_last_error(l) : azr_strerror(rc));
    azr_listener_free(l);
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sa.sa_handler = on_report_signal;
  sigaction(SIGUSR1, &sa, NULL);
  while (!stop_requested) {
    (void)azr_listener_run(l, 200);
    if (report_requested) {
      report_requested = 0;
      report(&k);
    }
  }
  report(&k);
  (void)azr_listener_shutdown(l);
  (void)azr_listener_run(l, 300);
  azr_listener_free(l);
  return 0;
}
