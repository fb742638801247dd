/* SPDX-License-Identifier: MIT */
/* Progress of a long `azrelay connect` transfer, like curl's meter: bytes and average rate. */
#include "connect_progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_log.h"

#define FIRST_REPORT_MS 1000 /* short transfers print nothing */
#define TTY_INTERVAL_MS 500
#define LINE_INTERVAL_MS 1000

void progress_bytes(uint64_t n, char *out, size_t out_len) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)n;
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  if (u == 0) snprintf(out, out_len, "%llu B", (unsigned long long)n);
  else snprintf(out, out_len, "%.1f %s", v, units[u]);
}

static void report(struct progress *p, bool final) {
  uint64_t elapsed_ms = uv_now(p->timer.loop) - p->start_ms;
  double secs = elapsed_ms > 0 ? (double)elapsed_ms / 1000.0 : 0.001;
  char sent[32], received[32], sent_rate[32], received_rate[32];
  progress_bytes(p->sent, sent, sizeof sent);
  progress_bytes(p->received, received, sizeof received);
  progress_bytes((uint64_t)((double)p->sent / secs), sent_rate, sizeof sent_rate);
  progress_bytes((uint64_t)((double)p->received / secs), received_rate, sizeof received_rate);
  char line[256];
  snprintf(line, sizeof line, "sent %s (%s/s), received %s (%s/s), %.0f s", sent, sent_rate, received, received_rate,
           secs);
  if (p->tty) {
    /* \033[K clears what a longer previous line left. */
    char out[300];
    int n = snprintf(out, sizeof out, "\r%s\033[K%s", line, final ? "\n" : "");
    if (n > 0 && write(STDERR_FILENO, out, (size_t)n) < 0) p->enabled = false;
  } else {
    cli_log(CLI_INFO, "progress: %s", line);
  }
  p->shown = true;
  p->reported_sent = p->sent;
  p->reported_received = p->received;
}

static void on_tick(uv_timer_t *t) {
  struct progress *p = t->data;
  if (p->sent != p->reported_sent || p->received != p->reported_received || !p->shown) report(p, false);
}

void progress_init(struct progress *p, uv_loop_t *loop, bool enabled, bool tty) {
  memset(p, 0, sizeof *p);
  p->enabled = enabled;
  p->tty = tty;
  uv_timer_init(loop, &p->timer);
  p->timer.data = p;
}

void progress_start(struct progress *p) {
  if (!p->enabled || p->running) return;
  p->running = true;
  p->start_ms = uv_now(p->timer.loop);
  uv_timer_start(&p->timer, on_tick, FIRST_REPORT_MS, p->tty ? TTY_INTERVAL_MS : LINE_INTERVAL_MS);
}

void progress_sent(struct progress *p, size_t n) { p->sent += n; }

void progress_received(struct progress *p, size_t n) { p->received += n; }

void progress_stop(struct progress *p) {
  if (!p->running) return;
  p->running = false;
  uv_timer_stop(&p->timer);
  if (p->enabled && p->shown) {
    uv_update_time(p->timer.loop);
    report(p, true);
  }
}
